"""``cropflow serve``: the HTTP API and the planner's page, run by uvicorn."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from cropflow.cli.context import runtime
from cropflow.report import EXIT_USAGE

logger = logging.getLogger("cropflow.cli")

TOKEN_VARIABLE = "CROPFLOW_API_TOKEN"


def serve(
    host: Annotated[
        str, typer.Option(help=f"Address to listen on. A non-loopback address requires {TOKEN_VARIABLE}.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API and the planner's page.

    Every upload needs the header Authorization: Bearer TOKEN when
    CROPFLOW_API_TOKEN is set. Without it the server only listens on loopback.
    """
    import uvicorn

    from cropflow.api import create_app
    from cropflow.api.auth import check_serve_security

    api_token = os.environ.get(TOKEN_VARIABLE, "").strip() or None
    insecure_reason = check_serve_security(host, api_token)
    if insecure_reason is not None:
        typer.echo(insecure_reason, err=True)
        raise typer.Exit(EXIT_USAGE)

    # The app builds its own runtime and closes it when the server stops.
    app = create_app(runtime().settings, api_token, bind_host=host)
    logger.info(
        "Starting the cropflow API on %s:%d (uploads %s)",
        host, port, "need the bearer token" if api_token else "are allowed without a token on loopback",
    )
    # log_config=None keeps the logging that the cropflow command set up.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def register(app: typer.Typer) -> None:
    app.command()(serve)
