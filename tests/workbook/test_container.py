"""File type detection and the checks made before a workbook is parsed."""

from __future__ import annotations

import dataclasses
import hashlib
import time
import zipfile

import pytest

from cropflow.workbook import file_sha256, read_plan
from cropflow.workbook.cells import DateSystem
from cropflow.workbook.container import Container, FileKind, inspect_container

from .builders import AS_OF, SCHEDULE, good_sheets, write_ods, write_ole2, write_xlsx

# A zip bomb member: this many zero bytes compress to about 1,000 times less.
BOMB_MEMBER_BYTES = 20 * 1024 * 1024


def _only_error(plan):
    assert plan.plan_rejected is True
    assert plan.lots == []
    [error] = plan.errors
    assert (error.sheet, error.row, error.column) == (None, None, None)
    return error


def _rezip(source, target, replace):
    """Copy a zip file, replacing the content of members named in ``replace``."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for member in original.infolist():
            copy.writestr(member.filename, replace.get(member.filename, original.read(member.filename)))
    return target


def test_empty_file_is_rejected(tmp_path, limits):
    path = tmp_path / "plan.xlsx"
    path.write_bytes(b"")

    error = _only_error(read_plan(path, as_of=AS_OF, limits=limits))

    assert error.message.startswith("plan.xlsx is empty (0 bytes)")


def test_renamed_csv_is_rejected_naming_file(tmp_path, limits):
    path = tmp_path / "plan.xlsx"
    path.write_text("cultivar_name,crop_count\nBasil,3\n")

    error = _only_error(read_plan(path, as_of=AS_OF, limits=limits, file_name="march.xlsx"))

    assert error.message == (
        "march.xlsx is not a spreadsheet: it contains CSV or other delimited text "
        "(first line: 'cultivar_name,crop_count')"
    )


def test_pdf_is_rejected(tmp_path, limits):
    path = tmp_path / "plan.xlsx"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")

    error = _only_error(read_plan(path, as_of=AS_OF, limits=limits))

    assert error.message == "plan.xlsx is not a spreadsheet: it contains a PDF document"


def test_password_protected_workbook_is_rejected(tmp_path, limits):
    path = write_ole2(tmp_path / "plan.xlsx", ["EncryptionInfo", "EncryptedPackage"])

    error = _only_error(read_plan(path, as_of=AS_OF, limits=limits))

    assert (
        error.message
        == "plan.xlsx is a password-protected workbook. Save it without a password and try again"
    )


def test_word_document_in_ole2_file_is_rejected(tmp_path, limits):
    path = write_ole2(tmp_path / "plan.xls", ["WordDocument", "1Table"])

    error = _only_error(read_plan(path, as_of=AS_OF, limits=limits))

    assert error.message == "plan.xls is not a spreadsheet: it contains a Word 97-2003 document"


def test_xls_workbook_is_read(tmp_path, limits):
    xlwt = pytest.importorskip("xlwt")
    workbook = xlwt.Workbook()
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for name, rows in good_sheets().items():
        sheet = workbook.add_sheet(name)
        for row_index, row in enumerate(rows):
            for column_index, value in enumerate(row):
                if value is None:
                    continue
                style = date_style if hasattr(value, "isoformat") else xlwt.Style.default_style
                sheet.write(row_index, column_index, value, style)
    path = tmp_path / "plan.xls"
    workbook.save(str(path))

    plan = read_plan(path, as_of=AS_OF, limits=limits)

    assert plan.errors == []
    assert [(lot.row, lot.crop_count, lot.recommended_recipe_ids) for lot in plan.lots] == [
        (2, 5, (3, 1, 2)),
        (3, 2, ()),
    ]


def test_missing_file_is_reported(tmp_path, limits):
    error = _only_error(read_plan(tmp_path / "nowhere.xlsx", as_of=AS_OF, limits=limits))

    assert error.message == "nowhere.xlsx is not a file"


def test_file_over_size_limit_is_rejected(tmp_path, limits):
    path = write_xlsx(tmp_path / "plan.xlsx", good_sheets())
    size = path.stat().st_size

    plan = read_plan(path, as_of=AS_OF, limits=dataclasses.replace(limits, max_file_bytes=size - 1))

    error = _only_error(plan)
    assert error.message == f"plan.xlsx is {size:,} bytes, over the limit of {size - 1:,} bytes"


def test_zip_bomb_member_is_rejected_without_parsing(tmp_path, limits):
    source = write_xlsx(tmp_path / "source.xlsx", good_sheets())
    path = _rezip(source, tmp_path / "plan.xlsx", {"xl/worksheets/sheet4.xml": b"\0" * BOMB_MEMBER_BYTES})

    started = time.perf_counter()
    plan = read_plan(path, as_of=AS_OF, limits=limits)
    elapsed_s = time.perf_counter() - started

    error = _only_error(plan)
    assert error.message.startswith(
        "plan.xlsx looks like a zip bomb: member xl/worksheets/sheet4.xml has a compression ratio of "
    )
    assert f"({BOMB_MEMBER_BYTES:,} bytes uncompressed), over the limit of 200" in error.message
    assert elapsed_s < 0.5


def test_zip_over_uncompressed_limit_is_rejected(tmp_path, limits):
    path = write_xlsx(tmp_path / "plan.xlsx", good_sheets())
    with zipfile.ZipFile(path) as archive:
        total = sum(member.file_size for member in archive.infolist())

    plan = read_plan(path, as_of=AS_OF, limits=dataclasses.replace(limits, max_uncompressed_bytes=total - 1))

    error = _only_error(plan)
    assert error.message == (
        f"plan.xlsx has an uncompressed size of {total:,} bytes, over the limit of {total - 1:,} bytes"
    )


def test_member_larger_than_declared_is_rejected(tmp_path, limits):
    sheets = good_sheets()
    # Enough rows that the member is longer than the bytes read to sniff it,
    # so that the streamed pass, not the sniffing, finds the false size.
    sheets[SCHEDULE] += [["Kale", 1, AS_OF, 1, 1]] * 300
    path = write_xlsx(tmp_path / "plan.xlsx", sheets)
    member_name = b"xl/worksheets/sheet4.xml"
    with zipfile.ZipFile(path) as archive:
        declared = archive.getinfo(member_name.decode()).file_size
    data = bytearray(path.read_bytes())
    # Understate the uncompressed size in the local header (offset 22) and
    # the central directory entry (offset 24) of the member.
    for signature, size_offset, name_offset in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            if data[start + name_offset : start + name_offset + len(member_name)] == member_name:
                data[start + size_offset : start + size_offset + 4] = (declared // 2).to_bytes(4, "little")
            start += 4
    path.write_bytes(bytes(data))

    error = _only_error(read_plan(path, as_of=AS_OF, limits=limits))

    assert error.message == (
        "plan.xlsx has a damaged or unsupported member xl/worksheets/sheet4.xml: "
        "Bad CRC-32 for file 'xl/worksheets/sheet4.xml'"
    )


def test_doctype_in_member_is_rejected(tmp_path, limits):
    source = write_xlsx(tmp_path / "source.xlsx", good_sheets())
    with zipfile.ZipFile(source) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    header, _, body = sheet.partition(b"?>")
    entity = b'<!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    path = _rezip(
        source, tmp_path / "plan.xlsx", {"xl/worksheets/sheet1.xml": header + b"?>" + entity + body}
    )

    error = _only_error(read_plan(path, as_of=AS_OF, limits=limits))

    assert error.message.startswith(
        "plan.xlsx is rejected because its member xl/worksheets/sheet1.xml declares a DOCTYPE"
    )


def test_doctype_hidden_after_comment_is_rejected(tmp_path, limits):
    source = write_xlsx(tmp_path / "source.xlsx", good_sheets())
    with zipfile.ZipFile(source) as archive:
        workbook = archive.read("xl/workbook.xml")
    header, _, body = workbook.partition(b"?>")
    trick = b"<!-- <a> -->" + b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    path = _rezip(source, tmp_path / "plan.xlsx", {"xl/workbook.xml": header + b"?>" + trick + body})

    error = _only_error(read_plan(path, as_of=AS_OF, limits=limits))

    assert "xl/workbook.xml declares a DOCTYPE" in error.message


def test_prolog_longer_than_sniffed_bytes_is_rejected(tmp_path, limits):
    source = write_xlsx(tmp_path / "source.xlsx", good_sheets())
    with zipfile.ZipFile(source) as archive:
        workbook = archive.read("xl/workbook.xml")
    header, _, body = workbook.partition(b"?>")
    padding = b"<!-- " + b"x" * 10_000 + b" -->"
    path = _rezip(source, tmp_path / "plan.xlsx", {"xl/workbook.xml": header + b"?>" + padding + body})

    error = _only_error(read_plan(path, as_of=AS_OF, limits=limits))

    assert "XML prolog of its member xl/workbook.xml is longer than 4,096 bytes" in error.message


def test_declared_row_count_over_limit_is_rejected(tmp_path, limits):
    sheets = good_sheets()
    sheets[SCHEDULE] += [["Kale", 1, AS_OF, 1, 1]] * 3  # rows 4 to 6

    path = write_xlsx(tmp_path / "plan.xlsx", sheets)
    plan = read_plan(path, as_of=AS_OF, limits=dataclasses.replace(limits, max_rows_per_sheet=4))

    error = _only_error(plan)
    assert error.message == (
        "plan.xlsx is over the row limit: sheet 'crop schedule' spans 5 rows below its first row "
        "(used range A1:E6), more than 4"
    )


def test_ods_sheet_over_row_limit_is_rejected(tmp_path, limits):
    sheets = good_sheets()
    sheets[SCHEDULE] += [["Kale", 1, AS_OF, 1, 1]] * 3

    path = write_ods(tmp_path / "plan.ods", sheets)
    plan = read_plan(path, as_of=AS_OF, limits=dataclasses.replace(limits, max_rows_per_sheet=4))

    assert plan.plan_rejected is True
    [error] = plan.errors
    assert (error.sheet, error.row) == ("crop schedule", None)
    assert error.message == "sheet 'crop schedule' has 5 rows below its header, over the limit of 4 rows"


def test_word_document_zip_is_rejected(tmp_path, limits):
    source = write_xlsx(tmp_path / "source.xlsx", good_sheets())
    with zipfile.ZipFile(source) as archive:
        types = archive.read("[Content_Types].xml")
    word_types = types.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    )
    path = _rezip(source, tmp_path / "plan.xlsx", {"[Content_Types].xml": word_types})

    error = _only_error(read_plan(path, as_of=AS_OF, limits=limits))

    assert error.message == "plan.xlsx is not a supported spreadsheet: it contains a Word document"


def test_plain_zip_is_rejected(tmp_path, limits):
    path = tmp_path / "plan.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")

    error = _only_error(read_plan(path, as_of=AS_OF, limits=limits))

    assert error.message == "plan.xlsx is not a spreadsheet: it contains a zip archive of other files"


def test_macro_enabled_workbook_is_recognised(tmp_path, limits):
    source = write_xlsx(tmp_path / "source.xlsx", good_sheets())
    with zipfile.ZipFile(source) as archive:
        types = archive.read("[Content_Types].xml")
    macro_types = types.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    path = _rezip(source, tmp_path / "plan.xlsm", {"[Content_Types].xml": macro_types})

    container = inspect_container(path, limits, "plan.xlsm")
    plan = read_plan(path, as_of=AS_OF, limits=limits)

    assert container == Container(kind=FileKind.XLSM, date_system=DateSystem.EXCEL_1900)
    assert plan.errors == []
    assert len(plan.lots) == 2


def test_1904_date_system_is_detected(tmp_path, limits):
    path = write_xlsx(tmp_path / "plan.xlsx", good_sheets(), date_1904=True)

    container = inspect_container(path, limits, "plan.xlsx")

    assert container == Container(kind=FileKind.XLSX, date_system=DateSystem.EXCEL_1904)


def test_ods_is_recognised_by_mimetype(tmp_path, limits):
    path = write_ods(tmp_path / "plan.bin", good_sheets())

    container = inspect_container(path, limits, "plan.bin")

    assert container == Container(kind=FileKind.ODS, date_system=DateSystem.OPENDOCUMENT)


def test_sha256_is_computed_when_not_given(tmp_path, limits):
    path = write_xlsx(tmp_path / "plan.xlsx", good_sheets())
    expected = hashlib.sha256(path.read_bytes()).hexdigest()

    plan = read_plan(path, as_of=AS_OF, limits=limits)

    assert file_sha256(path) == expected
    assert plan.sha256 == expected


def test_given_file_name_and_sha256_are_kept(tmp_path, limits):
    path = write_xlsx(tmp_path / "upload-123.tmp", good_sheets())

    plan = read_plan(path, as_of=AS_OF, limits=limits, file_name="march.xlsx", sha256="ab" * 32)

    assert (plan.file_name, plan.sha256) == ("march.xlsx", "ab" * 32)
