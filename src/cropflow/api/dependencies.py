"""Request dependencies shared by the routes."""

from __future__ import annotations

from fastapi import Request

from cropflow.runtime import Runtime

# Largest id a parameter takes: the database stores 32-bit integers.
MAX_ID = 2**31 - 1


def app_runtime(request: Request) -> Runtime:
    return request.app.state.runtime
