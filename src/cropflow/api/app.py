"""The FastAPI application factory: API routes, error handlers and the planner's page."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from cropflow.api import routes_batches, routes_plans
from cropflow.api.auth import FailedAttempts, is_loopback_host
from cropflow.api.errors import install_error_handlers
from cropflow.runtime import Runtime, set_runtime
from cropflow.settings import Settings

logger = logging.getLogger("cropflow.api")

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_HOST = "127.0.0.1"


def create_app(
    settings: Settings,
    api_token: str | None = None,
    max_upload_bytes: int | None = None,
    *,
    bind_host: str = DEFAULT_HOST,
    runtime: Runtime | None = None,
) -> FastAPI:
    """Build the app for one process.

    ``api_token`` protects every write: requests must send it as a bearer
    token. Without it, writes are allowed only when ``bind_host`` is a
    loopback address. ``max_upload_bytes`` defaults to ``settings.max_file_bytes``.
    The app installs its runtime as the process runtime, because the batch
    tasks look it up there.
    """
    current = runtime or Runtime(settings)
    set_runtime(current)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logger.info("cropflow API started")
        yield
        if runtime is None:
            current.close()
        # Logged here because uvicorn ends the process after a signal, so
        # code after uvicorn.run may never run.
        logger.info("cropflow API stopped")

    app = FastAPI(
        title="cropflow",
        summary="Upload crop-plan workbooks and follow their batches.",
        version="1",
        lifespan=lifespan,
    )
    app.state.runtime = current
    app.state.api_token = api_token or None
    app.state.writes_allowed_without_token = is_loopback_host(bind_host)
    app.state.failed_token_attempts = FailedAttempts()
    app.state.max_upload_bytes = max_upload_bytes or settings.max_file_bytes

    install_error_handlers(app)
    app.include_router(routes_plans.router)
    app.include_router(routes_batches.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    index = STATIC_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(index)

    @app.get("/plans/{plan_id}", include_in_schema=False)
    def plan_page(plan_id: int) -> FileResponse:
        return FileResponse(index)

    return app
