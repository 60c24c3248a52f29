"""The ``cropflow`` command line."""

from cropflow.cli.app import app, main

__all__ = ["app", "main"]
