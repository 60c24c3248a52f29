"""Engines, sessions and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cropflow.errors import StoreError, StoreUnavailableError

logger = logging.getLogger(__name__)

# How long a SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_PACKAGE = "cropflow.store:migrations"
# PostgreSQL advisory lock key held while migrations run ("cropflow" in hex).
MIGRATION_LOCK_KEY = 0x63726F70666C6F77


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def redact_url(url: str) -> str:
    """Return the URL with its password replaced, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as given
        return url


class Database:
    """One engine and its session factory; one instance per process.

    ``write_session`` opens a transaction that takes SQLite's write lock at
    BEGIN (``BEGIN IMMEDIATE``), so that a transaction that reads and then
    writes cannot fail halfway on a lock upgrade. On PostgreSQL both kinds of
    session are the same.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _create_engine(url)
        self.dialect = self.engine.dialect.name
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session whose transaction commits on success."""
        with translate_db_errors(self.url), self._sessions.begin() as session:
            yield session

    @contextlib.contextmanager
    def write_session(self) -> Iterator[Session]:
        """Yield a session that holds the write lock from its first statement."""
        with translate_db_errors(self.url), self._write_sessions.begin() as session:
            yield session

    def check_connection(self) -> None:
        """Raise StoreUnavailableError unless the database runs a query."""
        with translate_db_errors(self.url), self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def upgrade(self) -> None:
        """Apply every Alembic migration that this database has not had yet."""
        with translate_db_errors(self.url):
            if self.is_at_head():
                return
            with self._migration_lock():
                if self.is_at_head():
                    return
                logger.info("Migrating database %s to the latest schema", redact_url(self.url))
                with self.engine.begin() as connection:
                    config = _alembic_config(self.url)
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                logger.info("Database migrated")

    def is_at_head(self) -> bool:
        script = ScriptDirectory.from_config(_alembic_config(self.url))
        with translate_db_errors(self.url), self.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
        return set(current) == set(script.get_heads())

    def dispose(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        # Two processes that start at once must not both create the tables.
        if self.is_sqlite:
            lock_path = Path(self.engine.url.database or "cropflow.db").with_suffix(".migrate.lock")
            with open(lock_path, "w") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)
            return
        with self.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                connection.commit()


@contextlib.contextmanager
def translate_db_errors(url: str) -> Iterator[None]:
    """Raise cropflow's store errors in place of SQLAlchemy's."""
    try:
        yield
    except OperationalError as exc:
        if _is_connection_error(exc):
            raise StoreUnavailableError(
                f"Database {redact_url(url)} is unreachable: {_first_line(exc.orig)}. "
                "Check CROPFLOW_DATABASE_URL and that the server is running."
            ) from exc
        raise StoreError(f"Database operation failed: {_first_line(exc.orig)}") from exc
    except IntegrityError:
        # A constraint at work (a plan stored concurrently): callers handle it.
        raise
    except DatabaseError as exc:
        raise StoreError(
            f"Database {redact_url(url)} cannot be used: {_first_line(exc.orig)}. "
            "Check CROPFLOW_DATABASE_URL, or CROPFLOW_DATA_DIR for the embedded database file."
        ) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailableError(
                f"Lost the connection to database {redact_url(url)}: {_first_line(exc.orig)}"
            ) from exc
        raise


def _is_connection_error(exc: OperationalError) -> bool:
    message = str(exc.orig).lower()
    markers = ("connection", "connect", "could not translate host", "unable to open database file",
               "server closed", "terminating", "timeout expired")
    return exc.connection_invalidated or any(marker in message for marker in markers)


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error and str(error).strip() else repr(error)


def _alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_PACKAGE)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _create_sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, connect_args=_postgres_connect_args(url))


def _postgres_connect_args(url: str) -> dict[str, object]:
    if "psycopg" in url or url.startswith("postgresql"):
        return {"connect_timeout": 10}
    return {}


def _create_sqlite_engine(url: str) -> Engine:
    database = url.split("///", 1)[-1]
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure_connection(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own
        # implicit transactions start too late for a safe read-then-write).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL mode is stored in the file, so only a new file needs the switch.
        # The switch needs an exclusive lock. SQLite refuses it at once, without
        # the busy timeout, while another process creates the same new file.
        # That process makes the switch, so the refusal is harmless.
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                logger.debug("Left the journal mode to another process: %s", exc)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):  # type: ignore[no-untyped-def]
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
