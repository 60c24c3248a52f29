"""Exception handlers: every error response is JSON ``{"detail": message}``, never a traceback."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cropflow.errors import ConfigError, CropflowError, QueueUnavailableError, StoreUnavailableError

logger = logging.getLogger("cropflow.api")


def error_response(status_code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status_code, headers=headers)


def validation_message(exc: RequestValidationError) -> str:
    """Join the validation errors into one sentence per invalid parameter."""
    parts = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body")]
        name = ".".join(location) or "request"
        parts.append(f"Invalid {name}: {error.get('msg', 'invalid value')}.")
    return " ".join(parts) or "Invalid request."


async def handle_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    logger.info("%s %s returned %d: %s", request.method, request.url.path, exc.status_code, exc.detail)
    return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


async def handle_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    message = validation_message(exc)
    logger.info("%s %s returned 422: %s", request.method, request.url.path, message)
    return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, message)


async def handle_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.error("%s %s failed: %s", request.method, request.url.path, exc)
    return error_response(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc))


async def handle_cropflow_error(request: Request, exc: CropflowError) -> JSONResponse:
    logger.error("%s %s failed: %s", request.method, request.url.path, exc)
    return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR, str(exc))


async def handle_database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
    error_id = uuid.uuid4().hex[:12]
    logger.error(
        "%s %s failed with database error %s: %s",
        request.method, request.url.path, error_id, str(exc).splitlines()[0],
    )
    return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR, f"Database operation failed (error id {error_id}).")


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    error_id = uuid.uuid4().hex[:12]
    logger.error("%s %s failed unexpectedly, error id %s", request.method, request.url.path, error_id, exc_info=exc)
    return error_response(
        status.HTTP_500_INTERNAL_SERVER_ERROR,
        f"Internal server error (error id {error_id}); the server log has the details.",
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StoreUnavailableError, handle_unavailable)
    app.add_exception_handler(QueueUnavailableError, handle_unavailable)
    app.add_exception_handler(ConfigError, handle_cropflow_error)
    app.add_exception_handler(CropflowError, handle_cropflow_error)
    app.add_exception_handler(SQLAlchemyError, handle_database_error)
    app.add_exception_handler(Exception, handle_unexpected)
