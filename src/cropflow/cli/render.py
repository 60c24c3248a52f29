"""Rich tables for people; JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich import box
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


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def print_ingest_report(report: IngestReport, *, list_warnings: bool = True) -> None:
    """Print the errors, then the warnings (only counted when there are errors), then the outcome."""
    if report.errors:
        stdout.print(problems_table(plural(len(report.errors), "error"), report.errors, "bold red"))
    show_warnings = list_warnings and not report.errors and report.status != IngestStatus.DUPLICATE
    if report.warnings and show_warnings:
        stdout.print(problems_table(plural(len(report.warnings), "warning"), report.warnings, "bold yellow"))
    elif report.warnings:
        stdout.print(f"{plural(len(report.warnings), 'warning')} not listed here; --json lists them.")

    stdout.print(_headline(report))
    stdout.print(
        f"lots: {report.lots_accepted} accepted, {report.lots_rejected} rejected; "
        f"batches: {report.batches}" + (" (not stored: dry run)" if report.dry_run else "")
    )
    if report.status == IngestStatus.REJECTED and not report.dry_run:
        hint = "Nothing was stored."
        if report.rejected_lots and report.lots_rejected > len(report.rejected_lots):
            hint += " Fix the cells listed above, or store the clean lots with --skip-invalid-lots."
        stdout.print(hint)


def _headline(report: IngestReport) -> str:
    style = STATUS_STYLES[report.status]
    name = escape(report.file_name)
    plan = f" plan {report.plan_id}" if report.plan_id is not None else ""
    if report.status == IngestStatus.DUPLICATE:
        text = f"{name} was ingested before as{plan}; nothing new was stored"
    elif report.dry_run:
        text = f"{name} would be {report.status.value}"
    elif report.status == IngestStatus.PARTIAL:
        text = f"{name} is partly accepted as{plan}"
    else:
        text = f"{name} is {report.status.value}" + (f" as{plan}" if plan else "")
    return f"[{style}]{text}[/{style}]"


# Short column headings, so that tables fit a terminal 80 characters wide.
HEADINGS = {
    "batch_id": "batch", "plan_id": "plan", "lot_id": "lot", "sequence": "seq", "scheduled_date": "date",
    "farm_id": "farm", "recipe_id": "recipe", "recipe_version": "ver", "recipe_source": "source",
    "rejected_lots": "rejected", "created_at": "created", "as_of": "as of", "batches_created": "created b.",
}


def rows_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None) -> Table:
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False, show_edge=False
    )
    for column in columns:
        # Ids, dates and statuses stay whole; free text may wrap.
        wraps = column in {"file", "name", "reason", "cultivar"}
        heading = HEADINGS.get(column, column.replace("_", " "))
        table.add_column(heading, no_wrap=not wraps, min_width=10 if wraps else len(heading))
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
