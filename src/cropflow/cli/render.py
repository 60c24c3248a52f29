"""Rich tables for people; JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cropflow.cli.context import stdout
from cropflow.report import IngestReport, IngestStatus
from cropflow.workbook.plan import Problem

# Problems listed in a table before the rest are only counted.
MAX_PROBLEMS_SHOWN = 200

STATUS_STYLES = {
    IngestStatus.ACCEPTED: "green",
    IngestStatus.DUPLICATE: "cyan",
    IngestStatus.PARTIAL: "yellow",
    IngestStatus.REJECTED: "red",
}


def print_json(value: Any) -> None:
    """Write ``value`` as JSON on stdout, bypassing Rich's markup."""
    stdout.file.write(json.dumps(value, indent=None, default=str) + "\n")
    stdout.file.flush()


def problems_table(title: str, problems: Sequence[Problem], style: str) -> Table:
    table = Table(title=title, title_style=style, title_justify="left", show_lines=False)
    table.add_column("cell", no_wrap=True)
    table.add_column("column")
    table.add_column("value found")
    table.add_column("problem", overflow="fold")
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        table.add_row(
            Text(problem.location), Text(problem.field or ""), Text(_shorten(problem.value)), Text(problem.message)
        )
    if len(problems) > MAX_PROBLEMS_SHOWN:
        table.caption = f"{len(problems) - MAX_PROBLEMS_SHOWN} more not shown; use --json for all"
    return table


def print_ingest_report(report: IngestReport, *, list_warnings: bool = True) -> None:
    if report.errors:
        stdout.print(problems_table(f"{len(report.errors)} errors", report.errors, "bold red"))
    if report.warnings and list_warnings:
        stdout.print(problems_table(f"{len(report.warnings)} warnings", report.warnings, "bold yellow"))
    elif report.warnings:
        stdout.print(f"{len(report.warnings)} warnings (cropflow ingest FILE --dry-run lists them)")

    style = STATUS_STYLES[report.status]
    what = "would be" if report.dry_run else "is"
    headline = f"[{style}]{escape(report.file_name)} {what} {report.status.value}[/{style}]"
    if report.plan_id is not None:
        headline += f" as plan {report.plan_id}"
    stdout.print(headline)
    stdout.print(
        f"lots: {report.lots_accepted} accepted, {report.lots_rejected} rejected; "
        f"batches: {report.batches}" + (" (not stored: dry run)" if report.dry_run else "")
    )
    if report.status == IngestStatus.REJECTED and not report.dry_run:
        stdout.print("Nothing was stored. Fix the cells listed above, or accept the clean lots with --skip-invalid-lots.")


def rows_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    return table


def status_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="Batches per grow date", title_justify="left")
    for column in ("date", "queue depth", "scheduled", "dispatched", "started", "done", "failed", "dead-lettered", "total"):
        if column == "date":
            table.add_column(column, no_wrap=True, min_width=10)
        else:
            table.add_column(column, justify="right")
    for row in rows:
        counts = row["by_status"]
        table.add_row(
            row["date"],
            str(row["queue_depth"]),
            *(str(counts[status]) for status in ("scheduled", "dispatched", "started", "done", "failed")),
            str(row["dead_lettered"]),
            str(row["total"]),
        )
    return table


def _cell(value: Any) -> Text:
    return Text("" if value is None else str(value))


def _shorten(value: str | None, limit: int = 40) -> str:
    if value is None:
        return ""
    return value if len(value) <= limit else value[: limit - 1] + "…"
