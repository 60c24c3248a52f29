"""HTTP API and planner's web page of cropflow, built by ``create_app``."""

from cropflow.api.app import create_app

__all__ = ["create_app"]
