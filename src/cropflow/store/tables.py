"""SQLAlchemy models of farms, cultivars, recipe versions, plans, lots and batches."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so that migrations can name what they change.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only gives INTEGER PRIMARY KEY columns their rowid alias, so batch
# ids are BIGINT on PostgreSQL and INTEGER on SQLite.
BatchIdType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PlanStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    PARTIAL = "partial"


class BatchStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"


class RecipeSource(enum.StrEnum):
    RECOMMENDED = "recommended"
    DEFAULT = "default"


class Farm(Base):
    __tablename__ = "farms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Cultivar(Base):
    __tablename__ = "cultivars"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Identity: trimmed, case-folded, inner spaces collapsed.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # The first spelling seen, kept for display.
    name: Mapped[str] = mapped_column(String(200))


class RecipeVersion(Base):
    """One version of a grow recipe; a changed recipe gets a new version."""

    __tablename__ = "recipe_versions"
    __table_args__ = (UniqueConstraint("recipe_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipe_id: Mapped[int] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200))
    light_intensity: Mapped[float] = mapped_column(Float)
    lights_on: Mapped[float] = mapped_column(Float)
    lights_off: Mapped[float] = mapped_column(Float)
    co2_ppm: Mapped[float] = mapped_column(Float)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(500))
    as_of: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    lot_count: Mapped[int] = mapped_column(Integer)
    rejected_lot_count: Mapped[int] = mapped_column(Integer)
    batch_count: Mapped[int] = mapped_column(Integer)
    # Lists of problem objects, as in the ``ingest --json`` report.
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rejected_lots: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Lot(Base):
    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("plan_id", "row_number"),
        # Finds lots that another plan schedules already.
        Index("ix_lots_schedule", "scheduled_date", "farm_id", "cultivar_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    # The schedule row the lot came from, as the spreadsheet numbers it.
    row_number: Mapped[int] = mapped_column(Integer)
    cultivar_id: Mapped[int] = mapped_column(ForeignKey("cultivars.id"))
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"))
    scheduled_date: Mapped[dt.date] = mapped_column(Date)
    crop_count: Mapped[int] = mapped_column(Integer)
    default_recipe_version_id: Mapped[int] = mapped_column(ForeignKey("recipe_versions.id"))
    # Recipe version ids recommended for this lot, most preferred first.
    recommended_recipe_version_ids: Mapped[list[int]] = mapped_column(JSON)
    # Set in the transaction that inserts the lot's batches.
    batches_created_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Batch(Base):
    """One crop of a lot: the unit of work, and in embedded mode a queue entry.

    Rows with no ``dispatched_at`` are the outbox. In embedded mode a
    dispatched row is a message of its date's queue until ``acked_at`` is
    set; ``lease_expires_at`` hides it from other consumers while one handles it.
    """

    __tablename__ = "batches"
    __table_args__ = (
        UniqueConstraint("lot_id", "sequence"),
        # The outbox: only undispatched rows are in this index, so marking a
        # batch dispatched removes one entry instead of rewriting one.
        Index(
            "ix_batches_outbox",
            "id",
            sqlite_where=text("dispatched_at IS NULL"),
            postgresql_where=text("dispatched_at IS NULL"),
        ),
        Index("ix_batches_queue", "scheduled_date", "acked_at"),
    )

    id: Mapped[int] = mapped_column(BatchIdType, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"))
    cultivar_id: Mapped[int] = mapped_column(ForeignKey("cultivars.id"))
    scheduled_date: Mapped[dt.date] = mapped_column(Date)
    recipe_version_id: Mapped[int] = mapped_column(ForeignKey("recipe_versions.id"))
    recipe_source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.SCHEDULED)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Embedded queue state.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_count: Mapped[int] = mapped_column(Integer, default=0)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    acked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    dead_lettered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
