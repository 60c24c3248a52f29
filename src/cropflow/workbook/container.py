"""Recognise a workbook file by its content and check it before it is parsed.

The checks run in this order, so that a hostile file is rejected before
any library expands or parses it:

1. the file size;
2. the file type, from the first bytes (zip, OLE2 compound file, or what
   else the content looks like);
3. for zip files, the sum of the members' declared uncompressed sizes and
   each member's compression ratio. Then a DOCTYPE check on the first bytes
   of every XML member: without a DOCTYPE no entity can be declared, so
   none can expand. Then the rows each worksheet declares in its
   ``<dimension>``;
4. one streamed pass over every member, which verifies each member's
   CRC-32 and so its real size (Python's zipfile stops at the declared size),
   and finds the worksheets that contain formulas or error values.

The little XML parsed here and in ``ooxml`` goes through defusedxml.
"""

from __future__ import annotations

import enum
import logging
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from defusedxml.common import DefusedXmlException

from cropflow.workbook import ole2
from cropflow.workbook.cells import DateSystem
from cropflow.workbook.formulas import (
    ODS_SCAN_TRIGGERS,
    XLSX_SCAN_TRIGGERS,
    TooManyUnreadableCells,
    UnreadableCells,
    scan_ods_content,
    scan_xlsx_sheet,
)
from cropflow.workbook.limits import WorkbookLimits
from cropflow.workbook.names import column_index, column_letter
from cropflow.workbook.ooxml import (
    PackageError,
    declared_rows,
    find_workbook_part,
    read_workbook_structure,
)
from cropflow.workbook.plan import Problem
from cropflow.workbook.sniff import describe_content

logger = logging.getLogger(__name__)

ZIP_SIGNATURE = b"PK\x03\x04"
# Bytes read from the start of the file to recognise its type, and from the
# start of each zip member to find a DOCTYPE or a <dimension>.
SNIFF_BYTES = 4096
STREAM_CHUNK_BYTES = 1024 * 1024
# Bytes of the previous chunk kept when searching a stream, so that a
# pattern split across two chunks is still found. Longer than any pattern.
SEARCH_OVERLAP_BYTES = 64
# Unreadable cells beyond this many make the file one structural error
# instead of one error each, so that memory stays bounded.
MAX_UNREADABLE_CELLS = 10_000

EXPECTED_FORMATS = "an Excel workbook (.xlsx, .xlsm or .xls) or an OpenDocument spreadsheet (.ods)"

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_COMMENTS_AND_INSTRUCTIONS = re.compile(rb"<!--.*?-->|<\?.*?\?>", re.DOTALL)
# The root element is the first "<" followed by a name character.
_ROOT_ELEMENT = re.compile(rb"<[A-Za-z_]")


class FileKind(enum.Enum):
    """A workbook file format that the reader accepts."""

    XLSX = "xlsx"
    XLSM = "xlsm"
    ODS = "ods"
    XLS = "xls"


@dataclass(frozen=True, slots=True)
class Container:
    """The format, date system and unreadable cells of a workbook file that passed the checks."""

    kind: FileKind
    date_system: DateSystem
    # Sheet name -> cells that python-calamine would read as empty.
    unreadable_cells: dict[str, UnreadableCells] = field(default_factory=dict)


class ContainerRejected(Exception):
    """Raised inside this module when a check fails, with the Problem to report."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(message=message)


def inspect_container(path: Path, limits: WorkbookLimits, file_name: str) -> Container | Problem:
    """Check a workbook file before it is parsed; return its Container, or the Problem that rejects it."""
    try:
        return _inspect(path, limits, file_name)
    except ContainerRejected as rejected:
        logger.info("Rejected workbook %s: %s", file_name, rejected.problem.message)
        return rejected.problem


def _inspect(path: Path, limits: WorkbookLimits, file_name: str) -> Container:
    try:
        if not path.is_file():
            raise ContainerRejected(f"{file_name} is not a file")
        file_bytes = path.stat().st_size
    except OSError as exc:
        raise ContainerRejected(f"{file_name} could not be opened: {exc.strerror or exc}") from exc
    if file_bytes == 0:
        raise ContainerRejected(f"{file_name} is empty (0 bytes), but expected {EXPECTED_FORMATS}")
    if file_bytes > limits.max_file_bytes:
        raise ContainerRejected(
            f"{file_name} is {file_bytes:,} bytes, over the limit of {limits.max_file_bytes:,} bytes"
        )

    try:
        with path.open("rb") as file:
            head = file.read(SNIFF_BYTES)
            if head.startswith(ZIP_SIGNATURE):
                return _inspect_zip(file, limits, file_name)
            if head.startswith(ole2.SIGNATURE):
                return _inspect_compound_file(file, file_bytes, file_name)
    except OSError as exc:
        raise ContainerRejected(f"{file_name} could not be read: {exc.strerror or exc}") from exc
    raise ContainerRejected(f"{file_name} is not a spreadsheet: it contains {describe_content(head)}")


def _inspect_compound_file(file: IO[bytes], file_bytes: int, file_name: str) -> Container:
    try:
        streams = ole2.read_stream_names(file, file_bytes)
    except ole2.CompoundFileError as exc:
        raise ContainerRejected(f"{file_name} is a damaged OLE2 compound file: {exc}") from exc
    if "EncryptionInfo" in streams or "EncryptedPackage" in streams:
        raise ContainerRejected(
            f"{file_name} is a password-protected workbook. Save it without a password and try again"
        )
    if "Workbook" in streams or "Book" in streams:
        # NOTE: the 1904 date system of .xls files (the DATEMODE record) is not
        # read. It only changes the date shown in the hint for a number in a
        # date column; python-calamine converts real date cells correctly.
        return Container(kind=FileKind.XLS, date_system=DateSystem.EXCEL_1900)
    if "WordDocument" in streams:
        found = "a Word 97-2003 document"
    elif "PowerPoint Document" in streams:
        found = "a PowerPoint 97-2003 presentation"
    else:
        found = "an OLE2 compound file without a workbook"
    raise ContainerRejected(f"{file_name} is not a spreadsheet: it contains {found}")


def _inspect_zip(file: IO[bytes], limits: WorkbookLimits, file_name: str) -> Container:
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise ContainerRejected(f"{file_name} is a damaged zip archive: {exc}") from exc
    with archive:
        _check_declared_sizes(archive, limits, file_name)
        heads = _read_member_heads(archive, file_name)
        _check_no_doctype(heads, file_name)

        if "mimetype" in heads:
            _check_opendocument_type(heads["mimetype"], file_name)
            sheet_members: dict[str, str] = {}
            kind = FileKind.ODS
            date_system = DateSystem.OPENDOCUMENT
        else:
            try:
                extension, workbook_part = find_workbook_part(archive)
                structure = read_workbook_structure(archive, workbook_part)
            except PackageError as exc:
                raise ContainerRejected(f"{file_name} {exc}") from exc
            kind = FileKind(extension)
            date_system, sheet_members = structure.date_system, structure.sheet_members
            _check_declared_rows(heads, sheet_members, limits, file_name)

        to_scan, wide_sheets = _stream_members(archive, kind, set(sheet_members.values()), file_name)
        for sheet_name, member in sheet_members.items():
            if member in wide_sheets:
                _check_sheet_extent(archive, sheet_name, member, limits, file_name)
        unreadable = _scan_unreadable_cells(archive, kind, sheet_members, to_scan, file_name)
    return Container(kind=kind, date_system=date_system, unreadable_cells=unreadable)


def _check_declared_sizes(archive: zipfile.ZipFile, limits: WorkbookLimits, file_name: str) -> None:
    total_bytes = 0
    for member in archive.infolist():
        total_bytes += member.file_size
        if member.compress_size and member.file_size / member.compress_size > limits.max_compression_ratio:
            ratio = member.file_size / member.compress_size
            raise ContainerRejected(
                f"{file_name} looks like a zip bomb: member {member.filename} has a compression ratio of "
                f"{ratio:,.0f} ({member.file_size:,} bytes uncompressed), over the limit of "
                f"{limits.max_compression_ratio:g}"
            )
    if total_bytes > limits.max_uncompressed_bytes:
        raise ContainerRejected(
            f"{file_name} has an uncompressed size of {total_bytes:,} bytes, over the limit of "
            f"{limits.max_uncompressed_bytes:,} bytes"
        )


def _read_member_heads(archive: zipfile.ZipFile, file_name: str) -> dict[str, bytes]:
    heads = {}
    for member in archive.infolist():
        if member.is_dir():
            continue
        try:
            with archive.open(member) as stream:
                heads[member.filename] = stream.read(SNIFF_BYTES)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as exc:
            raise _damaged_member(file_name, member, exc) from exc
    return heads


def _damaged_member(file_name: str, member: zipfile.ZipInfo, exc: Exception) -> ContainerRejected:
    # A wrong CRC-32 here can mean that the member expands beyond its declared size.
    return ContainerRejected(f"{file_name} has a damaged or unsupported member {member.filename}: {exc}")


def _check_no_doctype(heads: dict[str, bytes], file_name: str) -> None:
    for name, head in heads.items():
        text = _ascii_view(head)
        if not text.lstrip().startswith(b"<"):
            continue  # not XML: an image, a binary part or the mimetype
        # A comment may contain anything, including "<a>" before a DOCTYPE.
        text = _COMMENTS_AND_INSTRUCTIONS.sub(b"", text)
        doctype = _DOCTYPE.search(text)
        root = _ROOT_ELEMENT.search(text)
        if doctype and (root is None or doctype.start() < root.start()):
            raise ContainerRejected(
                f"{file_name} is rejected because its member {name} declares a DOCTYPE, which spreadsheet "
                "files never need and which could define entities that expand"
            )
        unfinished_prolog = root is None or b"<!--" in text[: root.start()]
        if unfinished_prolog and len(head) == SNIFF_BYTES:
            raise ContainerRejected(
                f"{file_name} is rejected because the XML prolog of its member {name} is longer than "
                f"{SNIFF_BYTES:,} bytes, so a DOCTYPE in it cannot be ruled out"
            )


def _ascii_view(head: bytes) -> bytes:
    # UTF-16 XML has a NUL beside every ASCII character. Dropping them lets
    # the same byte patterns match. A UTF-8 byte order mark is dropped too.
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[2:].replace(b"\x00", b"")
    return head.removeprefix(b"\xef\xbb\xbf")


def _check_opendocument_type(head: bytes, file_name: str) -> None:
    mimetype = head.decode("ascii", errors="replace").strip()
    if mimetype != ODS_MIMETYPE:
        raise ContainerRejected(
            f"{file_name} is not a spreadsheet: it contains an OpenDocument file of type {mimetype}"
        )


def _check_declared_rows(
    heads: dict[str, bytes], sheet_members: dict[str, str], limits: WorkbookLimits, file_name: str
) -> None:
    for sheet_name, member in sheet_members.items():
        declared = declared_rows(heads.get(member, b""))
        if declared is None:
            continue
        # The first row of the used range is at best the header.
        used_range, data_rows = declared
        if data_rows > limits.max_rows_per_sheet:
            raise ContainerRejected(
                f"{file_name} is over the row limit: sheet {sheet_name!r} spans {data_rows:,} rows below its "
                f"first row (used range {used_range}), more than {limits.max_rows_per_sheet:,}"
            )


def _stream_members(
    archive: zipfile.ZipFile, kind: FileKind, worksheet_members: set[str], file_name: str
) -> tuple[set[str], set[str]]:
    """Read every member once, which verifies its CRC-32, and return the members to scan.

    A member is scanned for unreadable cells when it contains a trigger. The
    second set contains the worksheets with a cell beyond column Z, whose extent
    ``_check_sheet_extent`` then measures.
    """
    to_scan = set()
    wide = set()
    for member in archive.infolist():
        if member.is_dir():
            continue
        triggers: tuple[bytes, ...] = ()
        if kind is FileKind.ODS and member.filename == "content.xml":
            triggers = ODS_SCAN_TRIGGERS
        elif kind is not FileKind.ODS and member.filename in worksheet_members:
            triggers = XLSX_SCAN_TRIGGERS
        is_worksheet = kind is not FileKind.ODS and member.filename in worksheet_members
        try:
            found, has_wide_cell = _stream_contains(archive, member, triggers, find_wide_cells=is_worksheet)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as exc:
            raise _damaged_member(file_name, member, exc) from exc
        if found:
            to_scan.add(member.filename)
        if has_wide_cell:
            wide.add(member.filename)
    return to_scan, wide


def _stream_contains(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, needles: tuple[bytes, ...], *, find_wide_cells: bool = False
) -> tuple[bool, bool]:
    """Read a member to its end; return whether it contains any of ``needles``, and a cell beyond column Z."""
    found = wide = False
    tail = b""
    with archive.open(member) as stream:
        for chunk in _chunks(stream):
            window = tail + chunk
            if needles and not found:
                found = any(window.find(needle) != -1 for needle in needles)
            if find_wide_cells and not wide:
                wide = _WIDE_CELL.search(window) is not None
            tail = chunk[-SEARCH_OVERLAP_BYTES:]
    return found, wide


def _check_sheet_extent(
    archive: zipfile.ZipFile, sheet_name: str, member: str, limits: WorkbookLimits, file_name: str
) -> None:
    """Reject a sheet whose last used cell makes the reader allocate too many cells.

    The reader keeps a sheet as one rectangle of cells, so one stray cell at
    XFD900000 would need memory for 14.7 billion cells.
    """
    last_row = last_column = 0
    tail = b""
    with archive.open(member) as stream:
        for chunk in _chunks(stream):
            window = tail + chunk
            for match in _CELL_REFERENCE.finditer(window):
                last_column = max(last_column, column_index(match.group(1).decode()) + 1)
                last_row = max(last_row, int(match.group(2)))
            tail = chunk[-SEARCH_OVERLAP_BYTES:]
    cells = last_row * last_column
    if cells > limits.max_cells_per_sheet:
        raise ContainerRejected(
            f"{file_name} is over the cell limit: sheet {sheet_name!r} uses cells up to row {last_row:,} and "
            f"column {column_letter(last_column - 1)}, {cells:,} cells in all, more than "
            f"{limits.max_cells_per_sheet:,}. Delete stray cells far from the table."
        )


# A cell reference with two or more column letters, that is beyond column Z.
# NOTE: sheets within columns A to Z are not measured, so a stray cell at
# Z1048576 still makes the reader allocate about 27 million cells.
_WIDE_CELL = re.compile(rb'<c r="[A-Z]{2}')
_CELL_REFERENCE = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(STREAM_CHUNK_BYTES):
        yield chunk


def _scan_unreadable_cells(
    archive: zipfile.ZipFile,
    kind: FileKind,
    sheet_members: dict[str, str],
    to_scan: set[str],
    file_name: str,
) -> dict[str, UnreadableCells]:
    found: dict[str, UnreadableCells] = {}
    try:
        if kind is FileKind.ODS:
            if "content.xml" in to_scan:
                with archive.open("content.xml") as stream:
                    found = scan_ods_content(stream, MAX_UNREADABLE_CELLS)
        else:
            remaining = MAX_UNREADABLE_CELLS
            for sheet_name, member in sheet_members.items():
                if member in to_scan:
                    with archive.open(member) as stream:
                        found[sheet_name] = scan_xlsx_sheet(stream, remaining)
                    remaining -= sum(len(columns) for columns in found[sheet_name].values())
    except TooManyUnreadableCells as exc:
        raise ContainerRejected(
            f"{file_name} has more than {exc.max_cells:,} cells with formulas saved without their values "
            "or with error values. Open it in a spreadsheet program, fix the errors and save it so that "
            "every formula's value is stored"
        ) from exc
    except (DefusedXmlException, SyntaxError) as exc:
        raise ContainerRejected(f"{file_name} is a damaged workbook: a sheet is invalid XML: {exc}") from exc
    return {sheet: cells for sheet, cells in found.items() if cells}
