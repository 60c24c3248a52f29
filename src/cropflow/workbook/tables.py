"""Turn a sheet's rows into a table: find the header, map columns, parse cells into Problems."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cropflow.workbook.cells import CellError, CellParser, cell_text
from cropflow.workbook.formulas import UnreadableCell, UnreadableCells
from cropflow.workbook.names import (
    COLUMN_ALIASES,
    REQUIRED_COLUMNS,
    SHEET_TITLES,
    SHEETS_KEEPING_EXTRA_COLUMNS,
    canonical_column,
    column_letter,
    normalize_name,
)
from cropflow.workbook.plan import Problem
from cropflow.workbook.reader import Row, SheetRows


@dataclass(slots=True)
class ProblemLog:
    """The errors and warnings found so far in one workbook.

    ``structural`` becomes true with the first error that leaves the plan
    as a whole unusable (a missing sheet or column, a limit exceeded).
    """

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    structural: bool = False

    def structural_error(self, problem: Problem) -> None:
        self.errors.append(problem)
        self.structural = True


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a table, found by its header cell.

    ``field`` is the canonical column name, or for an extra column the
    normalised header. ``index`` is the position in the row values and
    ``sheet_index`` the 0-based column index in the sheet.
    """

    field: str
    header: str
    index: int
    sheet_index: int
    letter: str


@dataclass(slots=True)
class Table:
    """A sheet after its header row: the mapped columns and the data rows still to read."""

    canonical: str
    sheet: str
    header_row: int
    columns: dict[str, Column]
    extra_columns: list[Column]
    rows: Iterator[tuple[int, Row]]
    unreadable: UnreadableCells


@dataclass(frozen=True, slots=True)
class BoundColumn:
    """A column paired with the parser for its cells."""

    column: Column
    parse: CellParser


def read_table(
    sheet_rows: SheetRows,
    canonical: str,
    *,
    max_rows: int,
    required: bool,
    log: ProblemLog,
    unreadable: UnreadableCells,
) -> Table | None:
    """Read the header of a sheet and return its table, or None when there is no table to read.

    Structural problems (a required sheet without a header, a missing or
    repeated column, too many rows) go to ``log``, and the sheet's rows are
    then left unread. An empty optional sheet is no problem. Unknown columns
    become extra columns of a sheet that keeps them and a warning in any
    other sheet.
    """
    title = SHEET_TITLES[canonical]
    header = next(sheet_rows.rows, None)
    if header is None and not required:
        return None
    if header is None:
        required_columns = ", ".join(REQUIRED_COLUMNS[canonical])
        log.structural_error(
            Problem(
                message=(
                    f"sheet {sheet_rows.name!r} is empty, but expected a {title} table "
                    f"with the columns {required_columns}"
                ),
                sheet=sheet_rows.name,
            )
        )
        return None
    header_row, header_values = header

    columns, extra_columns = _map_header(sheet_rows, canonical, header_row, header_values, log)
    if columns is None:
        return None

    data_rows = sheet_rows.last_row - header_row
    if data_rows > max_rows:
        log.structural_error(
            Problem(
                message=(
                    f"sheet {sheet_rows.name!r} has {data_rows:,} rows below its header, "
                    f"over the limit of {max_rows:,} rows"
                ),
                sheet=sheet_rows.name,
            )
        )
        return None

    return Table(
        canonical=canonical,
        sheet=sheet_rows.name,
        header_row=header_row,
        columns=columns,
        extra_columns=extra_columns,
        rows=sheet_rows.rows,
        unreadable=unreadable,
    )


def _map_header(
    sheet_rows: SheetRows, canonical: str, header_row: int, header_values: Row, log: ProblemLog
) -> tuple[dict[str, Column] | None, list[Column]]:
    title = SHEET_TITLES[canonical]
    sheet = sheet_rows.name
    columns: dict[str, Column] = {}
    extra_columns: dict[str, Column] = {}
    structural_before = len(log.errors)

    for index, value in enumerate(header_values):
        header = cell_text(value).strip()
        if not header:
            continue
        sheet_index = sheet_rows.first_column + index
        letter = column_letter(sheet_index)
        field_name = canonical_column(canonical, header)
        # An extra column needs a name left after normalising, such as "temperature_c".
        keep_extra = (
            field_name is None and canonical in SHEETS_KEEPING_EXTRA_COLUMNS and normalize_name(header) != ""
        )
        if field_name is None and not keep_extra:
            expected = ", ".join(COLUMN_ALIASES[canonical])
            log.warnings.append(
                Problem(
                    message=(
                        f"column {header!r} is not a {title} column and was ignored. "
                        f"The {title} columns are {expected}"
                    ),
                    sheet=sheet,
                    row=header_row,
                    column=letter,
                    value=header,
                )
            )
            continue

        column = Column(
            field=field_name or normalize_name(header),
            header=header,
            index=index,
            sheet_index=sheet_index,
            letter=letter,
        )
        same = columns if field_name else extra_columns
        previous = same.get(column.field)
        if previous is not None:
            log.structural_error(
                Problem(
                    message=(
                        f"columns {previous.letter} ({previous.header!r}) and {letter} ({header!r}) "
                        f"both name the column {column.field}. Keep one of them"
                    ),
                    sheet=sheet,
                    row=header_row,
                    column=letter,
                    field=column.field,
                    value=header,
                )
            )
            continue
        same[column.field] = column

    for required in REQUIRED_COLUMNS[canonical]:
        if required not in columns:
            aliases = COLUMN_ALIASES[canonical][required]
            also = f" (or {', '.join(aliases[1:])})" if len(aliases) > 1 else ""
            log.structural_error(
                Problem(
                    message=(
                        f"sheet {sheet!r} has no {required} column. Add a header cell named {required}{also}"
                    ),
                    sheet=sheet,
                    row=header_row,
                    field=required,
                )
            )
    if len(log.errors) > structural_before:
        return None, []
    return columns, list(extra_columns.values())


def cell_problem(table: Table, row_number: int, column: Column, value: object, error: CellError) -> Problem:
    """Return the Problem for a cell that its parser rejected."""
    message = f"{column.field} must be {error.expected}, found {error.found}"
    if error.detail:
        message = f"{message}. {error.detail}"
    return Problem(
        message=message,
        sheet=table.sheet,
        row=row_number,
        column=column.letter,
        field=column.field,
        value=cell_text(value),
    )


def unreadable_problem(table: Table, column: Column, cell: UnreadableCell) -> Problem:
    """Return the Problem for a formula saved without its value or an error value."""
    formula = f"={cell.formula}" if cell.formula else "a shared formula"
    if cell.error is not None:
        source = f" (from the formula {formula})" if cell.formula is not None else ""
        message = (
            f"{column.field} contains the error value {cell.error}{source}. "
            "Fix it so that the cell has a value"
        )
        value = cell.error
    else:
        message = (
            f"{column.field} contains the formula {formula} saved without its value. Open the file in a "
            "spreadsheet program and save it so that the value is calculated and stored"
        )
        value = f"={cell.formula}" if cell.formula else ""
    return Problem(
        message=message,
        sheet=table.sheet,
        row=cell.row,
        column=column.letter,
        field=column.field,
        value=value,
    )


def parse_row(
    table: Table, row_number: int, values: Row, bound_columns: list[BoundColumn]
) -> tuple[dict[str, object], list[Problem]]:
    """Parse every bound cell of a row and return the parsed values by field, and the problems.

    A field whose cell has a problem is absent from the returned values.
    """
    parsed: dict[str, object] = {}
    problems: list[Problem] = []
    unreadable = table.unreadable.get(row_number)
    for bound in bound_columns:
        column = bound.column
        if unreadable and column.sheet_index in unreadable:
            problems.append(unreadable_problem(table, column, unreadable[column.sheet_index]))
            continue
        value = values[column.index] if column.index < len(values) else ""
        try:
            parsed[column.field] = bound.parse(value)
        except CellError as error:
            problems.append(cell_problem(table, row_number, column, value, error))
    return parsed, problems


def bind(table: Table, parsers: dict[str, CellParser]) -> list[BoundColumn]:
    """Pair each present column of ``parsers`` with its parser, in sheet order."""
    bound = [
        BoundColumn(table.columns[name], parse) for name, parse in parsers.items() if name in table.columns
    ]
    return sorted(bound, key=lambda item: item.column.index)
