"""Read endpoints over batches: the batch list, per-date status, the calendar and the farms."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy import select

from cropflow.api.batch_calendar import batch_calendar
from cropflow.api.dependencies import MAX_ID, app_runtime
from cropflow.dispatch.status import date_status
from cropflow.runtime import Runtime
from cropflow.store import queries
from cropflow.store.tables import BatchStatus, Farm

router = APIRouter(prefix="/api", tags=["batches"])

DEFAULT_BATCH_LIMIT = 100
MAX_BATCH_LIMIT = 1000


@router.get("/batches", summary="List batches ordered by grow date and id, as batches --json")
def get_batches(
    runtime: Annotated[Runtime, Depends(app_runtime)],
    plan: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only batches of this plan id.")] = None,
    date: Annotated[dt.date | None, Query(description="Only this grow date (YYYY-MM-DD).")] = None,
    farm: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this farm id.")] = None,
    cultivar: Annotated[
        str | None, Query(max_length=200, description="Only this cultivar (case and spacing ignored).")
    ] = None,
    batch_status: Annotated[BatchStatus | None, Query(alias="status", description="Only batches in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_BATCH_LIMIT, description="Batches per page.")] = DEFAULT_BATCH_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="Batches to skip.")] = 0,
) -> list[dict[str, Any]]:
    batch_filter = queries.BatchFilter(
        plan_id=plan,
        scheduled_date=date,
        farm_id=farm,
        cultivar=cultivar,
        status=batch_status.value if batch_status else None,
        limit=limit,
        offset=offset,
    )
    with runtime.db.session() as session:
        return queries.list_batches(session, batch_filter)


@router.get("/status", summary="Queue depth and batch counts per grow date, as status --json")
def get_status(
    runtime: Annotated[Runtime, Depends(app_runtime)],
    since: Annotated[dt.date | None, Query(description="Only dates from this day on (YYYY-MM-DD).")] = None,
) -> list[dict[str, Any]]:
    return date_status(runtime, since)


@router.get("/calendar", summary="Batch counts per grow date and farm, with cultivars and recipes")
def get_calendar(
    runtime: Annotated[Runtime, Depends(app_runtime)],
    plan: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only batches of this plan id.")] = None,
    first_day: Annotated[dt.date | None, Query(alias="from", description="First grow date (YYYY-MM-DD).")] = None,
    last_day: Annotated[dt.date | None, Query(alias="to", description="Last grow date, included (YYYY-MM-DD).")] = None,
) -> dict[str, Any]:
    if first_day is not None and last_day is not None and first_day > last_day:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"Invalid range: from {first_day} is after to {last_day}."
        )
    with runtime.db.session() as session:
        return batch_calendar(session, plan_id=plan, first_day=first_day, last_day=last_day)


@router.get("/farms", summary="List registered farms, as farms list --json")
def get_farms(runtime: Annotated[Runtime, Depends(app_runtime)]) -> list[dict[str, Any]]:
    with runtime.db.session() as session:
        return [
            {"farm_id": farm.id, "name": farm.name, "timezone": farm.timezone}
            for farm in session.scalars(select(Farm).order_by(Farm.id))
        ]
