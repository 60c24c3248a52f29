"""Parsers for cell values as python-calamine returns them.

A cell arrives as ``str`` (``''`` when empty), ``float``, ``int``, ``bool``,
``datetime.date``, ``datetime.datetime``, ``datetime.time`` or
``datetime.timedelta``. Each parser returns the typed value or raises
``CellError`` saying what it expected and what it found. Parsers are built
once per column and called once per cell, so the common case stays a few
type checks.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import zoneinfo
from collections.abc import Callable
from functools import lru_cache

CellParser = Callable[[object], object]

_WHOLE_NUMBER_TEXT = re.compile(r"[+-]?\d+(?:\.0*)?")
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ISO_DATE_TEXT = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_LIST_SEPARATORS = re.compile(r"[,;]")


class CellError(ValueError):
    """Raised when a cell value does not have the expected type or range.

    ``expected`` completes "FIELD must be ..." and ``found`` describes the
    value for a message. ``detail`` is an optional further sentence.
    """

    def __init__(self, expected: str, found: str, detail: str = "") -> None:
        super().__init__(f"expected {expected}, found {found}")
        self.expected = expected
        self.found = found
        self.detail = detail


class DateSystem(enum.Enum):
    """The day that serial date number 0 stands for in a workbook."""

    EXCEL_1900 = "1900"
    EXCEL_1904 = "1904"
    OPENDOCUMENT = "OpenDocument"

    def serial_to_date(self, serial: float) -> dt.date | None:
        """Return the day a serial date number stands for, or None if it stands for none."""
        if not math.isfinite(serial) or serial < 0:
            return None
        days = int(serial)
        try:
            if self is DateSystem.EXCEL_1904:
                return dt.date(1904, 1, 1) + dt.timedelta(days=days)
            if self is DateSystem.OPENDOCUMENT:
                return dt.date(1899, 12, 30) + dt.timedelta(days=days)
            # Excel counts 1900 as a leap year, so serial 60 is the
            # nonexistent 1900-02-29 and only later serials line up with
            # 1899-12-30 as day 0.
            if days == 0 or days == 60:
                return None
            if days < 60:
                return dt.date(1899, 12, 31) + dt.timedelta(days=days)
            return dt.date(1899, 12, 30) + dt.timedelta(days=days)
        except OverflowError:
            return None


def cell_text(value: object) -> str:
    """Return a cell value as the text a spreadsheet program shows for it.

    Dates are ISO 8601, whole floats have no ``.0`` and booleans read
    ``TRUE`` or ``FALSE``.
    """
    if type(value) is str:
        return value
    if type(value) is bool:
        return "TRUE" if value else "FALSE"
    if type(value) is float:
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def describe_found(value: object) -> str:
    """Describe a cell value for the "found ..." part of a message."""
    if type(value) is str:
        if not value.strip():
            return "an empty cell"
        return f'"{value}"'
    if type(value) is bool:
        return f"the boolean {cell_text(value)}"
    if type(value) is dt.time:
        return f"the time {cell_text(value)}"
    if type(value) is dt.timedelta:
        return f"the duration {value}"
    return cell_text(value)


# Ids and counts are stored in 32-bit integer columns.
MAX_WHOLE_NUMBER = 2**31 - 1
# Names are stored in columns of this many characters.
MAX_NAME_CHARS = 200


def whole_number_parser(minimum: int, maximum: int = MAX_WHOLE_NUMBER) -> Callable[[object], int]:
    """Build a parser for a required whole number from ``minimum`` to ``maximum``.

    ``3.0`` and the text ``"4"`` are accepted, ``2.3`` and booleans are not.
    """
    expected = f"a whole number of at least {minimum}"

    def parse(value: object) -> int:
        number: int | None = None
        # Number cells come as float, so that case is tested first.
        if type(value) is float:
            if value.is_integer():
                number = int(value)
        elif type(value) is int:
            number = value
        elif type(value) is str:
            text = value.strip()
            if _WHOLE_NUMBER_TEXT.fullmatch(text):
                number = int(float(text)) if "." in text else int(text)
        if number is None or number < minimum:
            raise CellError(expected, describe_found(value))
        if number > maximum:
            raise CellError(f"a whole number of at most {maximum:,}", describe_found(value))
        return number

    return parse


def number_parser(minimum: float) -> Callable[[object], float]:
    """Build a parser for a required finite number of at least ``minimum``."""
    expected = f"a number of at least {minimum:g}"

    def parse(value: object) -> float:
        number: float | None = None
        if type(value) is float or type(value) is int or type(value) is str and _NUMBER_TEXT.fullmatch(value.strip()):
            number = float(value)
        if number is not None and math.isfinite(number) and number >= minimum:
            return number
        raise CellError(expected, describe_found(value))

    return parse


def required_text_parser(max_chars: int = MAX_NAME_CHARS) -> Callable[[object], str]:
    """Build a parser for required text, trimmed. A number or date reads as its shown text."""

    def parse(value: object) -> str:
        text = cell_text(value).strip()
        if not text:
            raise CellError("a non-empty text", describe_found(value))
        if len(text) > max_chars:
            raise CellError(f"a text of at most {max_chars} characters", f"{len(text):,} characters")
        return text

    return parse


def optional_text(value: object) -> str | None:
    """Parse optional text, trimmed, or None for an empty cell."""
    text = cell_text(value).strip()
    return text or None


def parameter_value(value: object) -> float | str | None:
    """Parse an extra recipe parameter: a number, other text, or None when empty.

    Numbers written as text become numbers, so ``"22"`` and ``22`` send the
    same parameter.
    """
    if type(value) is float or type(value) is int:
        return float(value)
    text = cell_text(value).strip()
    if not text:
        return None
    if _NUMBER_TEXT.fullmatch(text):
        return float(text)
    return text


def collapse_spaces(text: str) -> str:
    """Return ``text`` trimmed, with each run of inner whitespace as one space."""
    return " ".join(text.split())


def cultivar_parser() -> Callable[[object], str]:
    """Build a parser for a cultivar name: trimmed, inner whitespace collapsed, spelling kept."""
    parse_text = required_text_parser()

    def parse(value: object) -> str:
        # Most names need no cleaning, and this test is cheaper than split
        # and join. isprintable() is False for tabs, line breaks and every
        # other whitespace but the plain space.
        if (
            type(value) is str
            and value
            and len(value) <= MAX_NAME_CHARS
            and value.isprintable()
            and "  " not in value
            and value == value.strip()
        ):
            return value
        return collapse_spaces(parse_text(value))

    return parse


def cultivar_key(name: str) -> str:
    """Return the identity of a cultivar name that ``cultivar_parser`` returned.

    The parser already trimmed the name and collapsed its inner whitespace.
    """
    return name.casefold()


def date_parser(date_system: DateSystem) -> Callable[[object], dt.date]:
    """Build a parser for a required date.

    Date cells and date-time cells (time of day dropped) are accepted, and so
    is ISO text such as ``2027-01-15``. A plain number is rejected with the
    day it would stand for in ``date_system``, because it is usually a date
    cell formatted as a number.
    """
    expected = "a date such as 2027-01-15"

    def parse(value: object) -> dt.date:
        if type(value) is dt.date:
            return value
        if type(value) is dt.datetime:
            return value.date()
        if type(value) is str:
            return _parse_iso_date(value, expected)
        if type(value) is float or type(value) is int:
            hint = _serial_hint(value, date_system)
            raise CellError(expected, f"the number {cell_text(value)}", hint)
        raise CellError(expected, describe_found(value))

    return parse


def _parse_iso_date(text: str, expected: str) -> dt.date:
    match = _ISO_DATE_TEXT.fullmatch(text.strip())
    if match:
        year, month, day = (int(part) for part in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            pass
    raise CellError(expected, describe_found(text))


def _serial_hint(serial: float, date_system: DateSystem) -> str:
    day = date_system.serial_to_date(serial)
    if day is None:
        return "Format the cell as a date"
    if date_system is DateSystem.OPENDOCUMENT:
        return f"As a date it would be {day.isoformat()}. Format the cell as a date"
    return (
        f"As a date in this workbook's {date_system.value} date system it would be "
        f"{day.isoformat()}. Format the cell as a date"
    )


def recipe_ids_parser() -> Callable[[object], tuple[int, ...]]:
    """Build a parser for a list of recipe ids, most preferred first.

    A list is text with ids separated by commas or semicolons (``"3, 1,2"``
    or ``"3;1"``). A single id may also be a number cell.
    """
    expected = 'recipe ids separated by commas or semicolons, such as "3, 1, 2"'
    parse_id = whole_number_parser(1)

    def parse(value: object) -> tuple[int, ...]:
        if type(value) is not str:
            try:
                return (parse_id(value),)
            except CellError:
                raise CellError(expected, describe_found(value)) from None
        parts = _LIST_SEPARATORS.split(value)
        try:
            return tuple(parse_id(part) for part in parts)
        except CellError:
            raise CellError(expected, describe_found(value)) from None

    return parse


@lru_cache(maxsize=1024)
def is_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def time_zone_parser() -> Callable[[object], str | None]:
    """Build a parser for an optional IANA time zone name such as ``America/Los_Angeles``."""
    expected = "an IANA time zone name such as America/Los_Angeles"

    def parse(value: object) -> str | None:
        if type(value) is not str:
            raise CellError(expected, describe_found(value))
        name = value.strip()
        if not name:
            return None
        if not is_time_zone(name):
            raise CellError(expected, describe_found(value))
        return name

    return parse
