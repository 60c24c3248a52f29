"""Bulk inserts through the driver's fastest path: executemany on SQLite, COPY on PostgreSQL.

Going around SQLAlchemy's statement building costs a few lines here and
saves most of the time of storing a large plan (measured by bench/run.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

# SQLAlchemy's storage formats of DATE and DATETIME values in SQLite, so
# that rows written here compare and read back like rows written by the ORM.
SQLITE_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def bulk_insert(session: Session, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert ``rows`` (values in ``columns`` order) in the session's transaction; return the count.

    A row that violates a constraint fails the whole call; use it only where
    the caller knows the rows are new.
    """
    if not rows:
        return 0
    raw = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "sqlite":
        return _sqlite_executemany(raw, f"INSERT INTO {table}", columns, rows)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)


def _sqlite_executemany(
    raw: Any, verb: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]], *, convert: bool = True
) -> int:
    placeholders = ", ".join("?" * len(columns))
    statement = f"{verb} ({', '.join(columns)}) VALUES ({placeholders})"
    cursor = raw.cursor()
    try:
        cursor.executemany(statement, [tuple(map(sqlite_value, row)) for row in rows] if convert else rows)
        return cursor.rowcount
    finally:
        cursor.close()


def sqlite_value(value: Any) -> Any:
    """Return ``value`` as SQLAlchemy stores it in SQLite."""
    if isinstance(value, dt.datetime):
        return value.strftime(SQLITE_DATETIME_FORMAT)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def sqlite_insert_or_ignore(session: Session, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert ``rows`` of SQLite-ready values, skipping rows whose unique key exists; return the count inserted."""
    raw = session.connection().connection.driver_connection
    return _sqlite_executemany(raw, f"INSERT OR IGNORE INTO {table}", columns, rows, convert=False)
