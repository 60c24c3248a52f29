"""``POST /api/plans`` (workbook upload) and the plan listings."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from cropflow.api.auth import require_write_access
from cropflow.api.dependencies import MAX_ID, app_runtime
from cropflow.api.plan_detail import load_plan_detail
from cropflow.api.upload import MULTIPART_OVERHEAD_BYTES, UploadTooLargeError, limited_receive, saved_upload
from cropflow.ingest import IngestOptions, ingest_file
from cropflow.report import IngestReport, IngestStatus
from cropflow.runtime import Runtime
from cropflow.store import queries

logger = logging.getLogger("cropflow.api")
router = APIRouter(prefix="/api", tags=["plans"])

# HTTP status of each ingest outcome. A partial plan is stored, so it is
# created like an accepted one; its rejected lots are listed in the report.
STATUS_CODES = {
    IngestStatus.ACCEPTED: status.HTTP_201_CREATED,
    IngestStatus.PARTIAL: status.HTTP_201_CREATED,
    IngestStatus.DUPLICATE: status.HTTP_200_OK,
    IngestStatus.REJECTED: status.HTTP_422_UNPROCESSABLE_CONTENT,
}
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
MAX_FORM_FIELDS = 10

UPLOAD_BODY_SCHEMA: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "The crop-plan workbook (.xlsx)."},
                    "as_of": {
                        "type": "string",
                        "format": "date",
                        "description": "Reference date (YYYY-MM-DD); lots before it are invalid. Default: today.",
                    },
                    "skip_invalid_lots": {
                        "type": "boolean",
                        "default": False,
                        "description": "Store the valid lots of a plan with invalid lots (status partial).",
                    },
                    "dry_run": {
                        "type": "boolean",
                        "default": False,
                        "description": "Validate only; store and dispatch nothing.",
                    },
                },
            }
        }
    },
}


def parse_flag(name: str, value: object) -> bool:
    text = str(value).strip().lower() if value is not None else ""
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT, f"Invalid {name} {str(value)[:40]!r}: expected true or false."
    )


def parse_as_of(value: object) -> dt.date:
    if value is None or not str(value).strip():
        return dt.date.today()
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"Invalid as_of {str(value)[:40]!r}: expected a date as YYYY-MM-DD."
        ) from None


def declared_length(request: Request) -> int | None:
    header = request.headers.get("content-length")
    if header is None:
        return None
    try:
        return int(header)
    except ValueError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"Invalid Content-Length {header[:40]!r}.") from None


def run_ingest(runtime: Runtime, upload: UploadFile, options: IngestOptions, max_file_bytes: int) -> IngestReport:
    with saved_upload(upload.file, upload.filename or "", max_file_bytes) as path:
        return ingest_file(runtime, path, options)


@router.post(
    "/plans",
    summary="Ingest a crop-plan workbook",
    dependencies=[Depends(require_write_access)],
    openapi_extra={"requestBody": UPLOAD_BODY_SCHEMA},
    responses={
        200: {"description": "Duplicate: the file was ingested before; the report names its plan."},
        201: {"description": "Accepted or partial: the plan is stored and its batches dispatched."},
        401: {"description": "Missing bearer token."},
        403: {"description": "Invalid bearer token."},
        413: {"description": "The upload is larger than the limit."},
        422: {"description": "Rejected: the report lists every error; or an invalid form field."},
        503: {"description": "The database or the broker cannot be reached."},
    },
)
async def upload_plan(request: Request) -> JSONResponse:
    """Read the workbook in the field ``file`` and return the ``ingest --json`` report.

    The body is counted while it arrives and the request fails with 413 as
    soon as it passes the limit, before the workbook is parsed.
    """
    max_file_bytes: int = request.app.state.max_upload_bytes
    max_body_bytes = max_file_bytes + MULTIPART_OVERHEAD_BYTES
    length = declared_length(request)
    if length is not None and length > max_body_bytes:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"The upload of {length} bytes is larger than the limit of {max_file_bytes} bytes."
        )

    limited = Request(request.scope, limited_receive(request.receive, max_body_bytes))
    try:
        form = await limited.form(max_files=1, max_fields=MAX_FORM_FIELDS)
    except UploadTooLargeError:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"The upload is larger than the limit of {max_file_bytes} bytes."
        ) from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "Missing file: send the workbook as the multipart field 'file'."
            )
        options = IngestOptions(
            as_of=parse_as_of(form.get("as_of")),
            skip_invalid_lots=parse_flag("skip_invalid_lots", form.get("skip_invalid_lots")),
            dry_run=parse_flag("dry_run", form.get("dry_run")),
        )
        runtime = app_runtime(request)
        try:
            report = await run_in_threadpool(run_ingest, runtime, upload, options, max_file_bytes)
        except UploadTooLargeError:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"The file is larger than the limit of {max_file_bytes} bytes."
            ) from None
    finally:
        await form.close()

    logger.info("Upload %s: %s, plan %s", report.file_name, report.status.value, report.plan_id)
    return JSONResponse(report.to_json(), status_code=STATUS_CODES[report.status])


@router.get("/plans", summary="List stored plans, as plans --json")
def get_plans(runtime: Annotated[Runtime, Depends(app_runtime)]) -> list[dict[str, Any]]:
    with runtime.db.session() as session:
        return queries.list_plans(session)


@router.get(
    "/plans/{plan_id}",
    summary="One plan with its warnings, rejected lots and a page of lots with recipe sequences",
    responses={404: {"description": "No plan has this id."}},
)
def get_plan(
    runtime: Annotated[Runtime, Depends(app_runtime)],
    plan_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    limit: Annotated[int, Query(ge=1, le=1000, description="Lots per page.")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="Lots to skip, in schedule row order.")] = 0,
) -> dict[str, Any]:
    with runtime.db.session() as session:
        detail = load_plan_detail(session, plan_id, limit=limit, offset=offset)
    if detail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Plan {plan_id} not found.")
    return detail
