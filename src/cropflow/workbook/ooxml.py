"""Read the structure of an Office Open XML workbook (xlsx, xlsm) from its zip members.

Only small parts are parsed here, with defusedxml: the content types, the
workbook part and its relationships. Worksheets are left to python-calamine.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml.common import DefusedXmlException
from defusedxml.ElementTree import fromstring

from cropflow.workbook.cells import DateSystem

CONTENT_TYPES_MEMBER = "[Content_Types].xml"

SPREADSHEET_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "xlsx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "xlsm",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": "xlsm",
}
_OTHER_OOXML_TYPES = {
    "application/vnd.ms-excel.sheet.binary.macroEnabled.main": "an Excel binary workbook (.xlsb)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "a Word document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": (
        "a PowerPoint presentation"
    ),
}
_WORKSHEET_RELATIONSHIP = re.compile(r".*/worksheet$")
_RELATIONSHIP_ID_ATTRIBUTES = (
    "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
    "{http://purl.oclc.org/ooxml/officeDocument/relationships}id",
)
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([^"]*)"')
_RANGE_ROWS = re.compile(r"\$?[A-Za-z]*\$?(\d+)(?::\$?[A-Za-z]*\$?(\d+))?")


class PackageError(ValueError):
    """Raised when the package is not a spreadsheet or is damaged.

    The message continues a sentence that starts with the file name.
    """


@dataclass(frozen=True, slots=True)
class WorkbookStructure:
    """The date system of a workbook and the zip member of each worksheet, by sheet name."""

    date_system: DateSystem
    sheet_members: dict[str, str]


def find_workbook_part(archive: zipfile.ZipFile) -> tuple[str, str]:
    """Return the workbook part's format ("xlsx" or "xlsm") from its content type, and its member name."""
    if CONTENT_TYPES_MEMBER not in archive.namelist():
        raise PackageError("is not a spreadsheet: it contains a zip archive of other files")
    content_types = _parse_member(archive, CONTENT_TYPES_MEMBER)
    for element in content_types:
        if not element.tag.endswith("Override"):
            continue
        content_type = element.get("ContentType", "")
        part = element.get("PartName", "").lstrip("/")
        if content_type in SPREADSHEET_MAIN_TYPES:
            return SPREADSHEET_MAIN_TYPES[content_type], part
        if content_type in _OTHER_OOXML_TYPES:
            raise PackageError(
                f"is not a supported spreadsheet: it contains {_OTHER_OOXML_TYPES[content_type]}"
            )
    raise PackageError("is not a spreadsheet: it is an Office Open XML package without a workbook part")


def read_workbook_structure(archive: zipfile.ZipFile, workbook_part: str) -> WorkbookStructure:
    """Read the date system and the worksheet members from the workbook part and its relationships."""
    workbook = _parse_member(archive, workbook_part)
    date_system = DateSystem.EXCEL_1900
    relationship_ids: dict[str, str] = {}
    for element in workbook.iter():
        local_name = element.tag.rpartition("}")[2]
        if local_name == "workbookPr" and element.get("date1904", "").lower() in ("1", "true"):
            date_system = DateSystem.EXCEL_1904
        elif local_name == "sheet":
            relationship_id = next(
                (
                    element.get(attribute)
                    for attribute in _RELATIONSHIP_ID_ATTRIBUTES
                    if element.get(attribute)
                ),
                None,
            )
            if relationship_id:
                relationship_ids[relationship_id] = element.get("name", "")

    directory, base_name = posixpath.split(workbook_part)
    relationships_part = posixpath.join(directory, "_rels", base_name + ".rels")
    sheet_members = {}
    for element in _parse_member(archive, relationships_part):
        sheet_name = relationship_ids.get(element.get("Id", ""))
        if sheet_name is None or not _WORKSHEET_RELATIONSHIP.match(element.get("Type", "")):
            continue
        target = element.get("Target", "")
        if target.startswith("/"):
            member = target.lstrip("/")
        else:
            member = posixpath.normpath(posixpath.join(directory, target))
        sheet_members[sheet_name] = member
    return WorkbookStructure(date_system, sheet_members)


def declared_rows(sheet_head: bytes) -> tuple[str, int] | None:
    """Return the used range a worksheet declares in its ``<dimension>`` and the rows below its first row.

    ``sheet_head`` is the start of the worksheet XML, where the element sits.
    Returns None when the worksheet declares no range.
    """
    match = _DIMENSION.search(sheet_head)
    if match is None:
        return None
    used_range = match.group(1).decode("ascii", errors="replace")
    rows = _RANGE_ROWS.fullmatch(used_range)
    if rows is None:
        return None
    first_row = int(rows.group(1))
    last_row = int(rows.group(2) or first_row)
    return used_range, last_row - first_row


def _parse_member(archive: zipfile.ZipFile, name: str) -> Element:
    try:
        return fromstring(archive.read(name))
    except KeyError as exc:
        raise PackageError(f"is a damaged workbook: its member {name} is missing") from exc
    except (DefusedXmlException, SyntaxError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        # ElementTree.ParseError is a SyntaxError.
        raise PackageError(f"is a damaged workbook: its member {name} is invalid: {exc}") from exc
