"""Hostile and damaged workbooks given to ``cropflow ingest --json``.

Each must end with one JSON report and exit status 0 or 1, never a crash,
a traceback or a hang. The errors must point at the right cells, and a
rejected plan must leave nothing stored.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
import string
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
import xlwt

from tests.hostile.conftest import (
    AS_OF,
    FIRST_DAY,
    PLAN_BATCHES,
    assert_no_crash,
    batches_json,
    error_cells,
    ingest_json,
    only_error,
    plan_sheets,
    rewrite_member,
    run_cropflow,
    set_declared_size,
    stored_counts,
)
from tests.workbook.builders import (
    FARMS,
    RECIPES,
    RECOMMENDATIONS,
    SCHEDULE,
    Sheets,
    write_ods,
    write_openpyxl,
    write_xlsx,
)

# write_xlsx writes the sheets in the order of plan_sheets(): the schedule is the fourth.
SCHEDULE_MEMBER = "xl/worksheets/sheet4.xml"
SHARED_STRINGS_MEMBER = "xl/sharedStrings.xml"


def assert_rejected_cleanly(result, report, data_dir: Path) -> None:
    assert_no_crash(result)
    assert report["status"] == "rejected", str(report)[:2000]
    assert result.returncode == 1
    assert report["plan_id"] is None
    assert stored_counts(data_dir) == (0, 0, 0)


def assert_accepted(result, report, batches: int = PLAN_BATCHES) -> None:
    assert_no_crash(result)
    assert report["status"] == "accepted", report["errors"]
    assert result.returncode == 0
    assert report["batches"] == batches


@pytest.fixture
def plan_xlsx(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "plan.xlsx", plan_sheets())


def write_sheets_with_cell(path: Path, sheets: Sheets, sheet_name: str, row: int, column: int, value: str) -> Path:
    """Write ``sheets`` with xlsxwriter plus one text cell at 0-based (row, column) of ``sheet_name``."""
    workbook = xlsxwriter.Workbook(str(path))
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        worksheet = workbook.add_worksheet(name)
        for row_index, values in enumerate(rows):
            for column_index, cell in enumerate(values):
                if isinstance(cell, dt.date):
                    worksheet.write_datetime(row_index, column_index, cell, date_format)
                elif cell is not None:
                    worksheet.write(row_index, column_index, cell)
        if name == sheet_name:
            worksheet.write_string(row, column, value)
    workbook.close()
    return path


# Damaged zip containers


@pytest.mark.parametrize("kept_fraction", [0.01, 0.5, 0.99])
def test_truncated_zip_is_rejected_cleanly(tmp_path, plan_xlsx, cli_env, data_dir, kept_fraction):
    content = plan_xlsx.read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(content[: int(len(content) * kept_fraction)])

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert "truncated.xlsx" in only_error(report)["message"]


def test_corrupt_deflate_stream_is_rejected_cleanly(tmp_path, plan_xlsx, cli_env, data_dir):
    with zipfile.ZipFile(plan_xlsx) as archive:
        info = archive.getinfo(SCHEDULE_MEMBER)
    content = bytearray(plan_xlsx.read_bytes())
    # The compressed data starts after the 30-byte local header, the name and the extra field.
    data_start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(data_start, data_start + info.compress_size, 7):
        content[offset] ^= 0x5A
    path = tmp_path / "corrupt.xlsx"
    path.write_bytes(bytes(content))

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert "corrupt.xlsx" in only_error(report)["message"]


def test_understated_member_size_is_rejected(tmp_path, plan_xlsx, cli_env, data_dir):
    path = tmp_path / "lying.xlsx"
    shutil.copy(plan_xlsx, path)
    set_declared_size(path, SCHEDULE_MEMBER, 10)

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert SCHEDULE_MEMBER in only_error(report)["message"]


def test_overstated_member_size_is_rejected_as_zip_bomb(tmp_path, plan_xlsx, cli_env, data_dir):
    path = tmp_path / "lying.xlsx"
    shutil.copy(plan_xlsx, path)
    set_declared_size(path, SCHEDULE_MEMBER, 0xFFFF_FFF0)

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert "zip bomb" in only_error(report)["message"]


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA], ids=["bzip2", "lzma"])
def test_unsupported_compression_is_rejected_cleanly(tmp_path, plan_xlsx, cli_env, data_dir, method):
    path = tmp_path / "compressed.xlsx"
    with zipfile.ZipFile(plan_xlsx) as source, zipfile.ZipFile(path, "w", method) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert "compressed.xlsx" in only_error(report)["message"]


# Hostile XML


def test_deeply_nested_xml_is_rejected_cleanly(tmp_path, plan_xlsx, cli_env, data_dir):
    nesting = b"<extLst>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</extLst>"
    path = rewrite_member(
        plan_xlsx,
        tmp_path / "deep.xlsx",
        SCHEDULE_MEMBER,
        lambda xml: xml.replace(b"</worksheet>", nesting + b"</worksheet>"),
    )

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)


def test_huge_xml_attribute_is_rejected_cleanly(tmp_path, plan_xlsx, cli_env, data_dir):
    attribute = b' note="' + b"x" * 20_000_000 + b'"'
    path = rewrite_member(
        plan_xlsx,
        tmp_path / "attribute.xlsx",
        SCHEDULE_MEMBER,
        lambda xml: xml.replace(b'<row r="2"', b'<row r="2"' + attribute),
    )

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)


def test_entity_declaration_is_rejected(tmp_path, plan_xlsx, cli_env, data_dir):
    def declare_entities(xml: bytes) -> bytes:
        prolog_end = xml.index(b"?>") + 2
        doctype = b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        return xml[:prolog_end] + doctype + xml[prolog_end:].replace(b"<v>5</v>", b"<v>&b;</v>", 1)

    path = rewrite_member(plan_xlsx, tmp_path / "entities.xlsx", SCHEDULE_MEMBER, declare_entities)

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert "DOCTYPE" in only_error(report)["message"]


def test_missing_worksheet_member_is_rejected_cleanly(tmp_path, plan_xlsx, cli_env, data_dir):
    path = tmp_path / "missing.xlsx"
    with zipfile.ZipFile(plan_xlsx) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != SCHEDULE_MEMBER:
                target.writestr(info.filename, source.read(info.filename))

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)


# Sheet size


def test_sheet_with_16384_columns_is_read(tmp_path, cli_env):
    sheets = plan_sheets()
    sheets[SCHEDULE][0] += [f"note {index}" for index in range(16384 - 5)]
    path = write_xlsx(tmp_path / "wide.xlsx", sheets)

    result, report = ingest_json(path, cli_env)

    assert_accepted(result, report)
    assert len(report["warnings"]) == 16384 - 5
    assert report["warnings"][-1]["column"] == "XFD"


def test_far_away_cell_is_rejected(tmp_path, cli_env, data_dir):
    """One stray cell at XFD900000 spans 16,384 columns by 900,000 rows: reject it, never abort the process."""
    path = write_sheets_with_cell(tmp_path / "far.xlsx", plan_sheets(), SCHEDULE, 899_999, 16_383, "stray note")

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)


def test_cell_beyond_dimension_is_rejected(tmp_path, plan_xlsx, cli_env, data_dir):
    """The sheet declares the range A1:E3 but contains a cell at XFD1048576."""
    far_cell = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    path = rewrite_member(
        plan_xlsx,
        tmp_path / "beyond.xlsx",
        SCHEDULE_MEMBER,
        lambda xml: xml.replace(b"</sheetData>", far_cell + b"</sheetData>"),
    )

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)


def test_million_character_cultivar_is_rejected(tmp_path, plan_xlsx, cli_env, data_dir):
    """The stored cultivar name is a VARCHAR(200) column, so a longer name must be a cell error, not stored."""
    generator = random.Random(7)
    # Random letters, so that the member stays under the compression-ratio limit.
    name = "".join(generator.choice(string.ascii_letters) for _ in range(1_000_000)).encode()
    path = rewrite_member(
        plan_xlsx,
        tmp_path / "long.xlsx",
        SHARED_STRINGS_MEMBER,
        lambda xml: xml.replace(b"<t>Kale</t>", b"<t>" + name + b"</t>"),
    )

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert ("crop schedule", 3, "A") in error_cells(report)


# Odd cell values


@pytest.mark.parametrize(
    ("column", "value", "letter"),
    [
        (1, 1e308, "B"),
        (1, True, "B"),
        (1, "NaN", "B"),
        (1, "inf", "B"),
        (1, 2.3, "B"),
        (3, -0.0, "D"),
        (4, "1e3", "E"),
        (2, "2028-02-30", "C"),
        (2, "10000-01-01", "C"),
        (2, dt.date(1900, 1, 1), "C"),
    ],
    ids=[
        "1e308",
        "boolean",
        "nan-text",
        "inf-text",
        "fraction",
        "negative-zero",
        "exponent-text",
        "feb-30",
        "year-10000",
        "year-1900",
    ],
)
def test_odd_schedule_value_is_rejected_at_cell(tmp_path, cli_env, data_dir, column, value, letter):
    sheets = plan_sheets()
    sheets[SCHEDULE][1][column] = value
    path = write_xlsx(tmp_path / "odd.xlsx", sheets)

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert ("crop schedule", 2, letter) in error_cells(report)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-1", "0x10"])
def test_odd_co2_value_is_rejected_at_cell(tmp_path, cli_env, data_dir, text):
    sheets = plan_sheets()
    sheets[RECIPES][1][5] = text
    path = write_xlsx(tmp_path / "co2.xlsx", sheets)

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert ("recipes", 2, "F") in error_cells(report)


@pytest.mark.parametrize("text", ["1,,2", "1 2", "1,2,", "0", "-1"])
def test_malformed_recipe_ids_are_rejected_at_cell(tmp_path, cli_env, data_dir, text):
    sheets = plan_sheets()
    sheets[RECOMMENDATIONS][1][2] = text
    path = write_xlsx(tmp_path / "ids.xlsx", sheets)

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    error = only_error(report)
    assert (error["sheet"], error["row"], error["column"], error["value"]) == (RECOMMENDATIONS, 2, "C", text)


def test_year_9999_date_is_consumable(tmp_path, cli_env):
    last_day = dt.date(9999, 12, 31)
    sheets = plan_sheets()
    sheets[RECOMMENDATIONS][1][1] = last_day
    sheets[SCHEDULE][1][2] = last_day
    path = write_xlsx(tmp_path / "far-future.xlsx", sheets)

    result, report = ingest_json(path, cli_env)
    consumed = run_cropflow(["consume", last_day.isoformat(), "--until-empty", "--json", "--mark-done"], cli_env)

    assert_accepted(result, report)
    assert_no_crash(consumed)
    assert consumed.returncode == 0
    assert len(consumed.stdout.splitlines()) == 5
    assert {batch["status"] for batch in batches_json(cli_env, "--date", last_day.isoformat())} == {"done"}


def test_serial_zero_date_is_rejected_at_cell(tmp_path, plan_xlsx, cli_env, data_dir):
    """Serial 0 in a date-formatted cell is the non-date 1900-01-00 of Excel."""
    serial = f"{(FIRST_DAY - dt.date(1899, 12, 30)).days}".encode()
    path = rewrite_member(
        plan_xlsx,
        tmp_path / "serial0.xlsx",
        SCHEDULE_MEMBER,
        lambda xml: xml.replace(b"<v>" + serial + b"</v>", b"<v>0</v>", 1),
    )

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert ("crop schedule", 2, "C") in error_cells(report)


@pytest.mark.parametrize(
    ("id_text", "sheet"),
    [(str(2**63), FARMS), ("9" * 25, FARMS), (str(2**63), RECIPES), ("9" * 25, RECIPES)],
    ids=["farm-2**63", "farm-25-digits", "recipe-2**63", "recipe-25-digits"],
)
def test_oversized_id_is_rejected_at_cell(tmp_path, cli_env, data_dir, id_text, sheet):
    """An id beyond the database's integer range is a cell error, not a crash while storing."""
    sheets = plan_sheets()
    sheets[sheet][1][0] = id_text
    if sheet == FARMS:
        sheets[SCHEDULE][1][3] = id_text
    else:
        sheets[SCHEDULE][1][4] = id_text
        sheets[RECOMMENDATIONS][1][2] = "3"
    path = write_xlsx(tmp_path / "big-id.xlsx", sheets)

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert (sheet, 2, "A") in error_cells(report)


# Names


@pytest.mark.parametrize(
    "name",
    ["\u202eelaK\u202c", "Ka\x01le\x1b[31m", "\U0001f96c Kale \u00e9\u0301", "\u05e7\u05d5\u05dc\u05e8\u05d1\u05d9"],
    ids=["rtl-override", "control-characters", "emoji-and-combining", "hebrew"],
)
def test_unusual_cultivar_name_round_trips(tmp_path, cli_env, name):
    sheets = plan_sheets()
    sheets[SCHEDULE][2][0] = name
    path = write_xlsx(tmp_path / "names.xlsx", sheets)

    result, report = ingest_json(path, cli_env)

    assert_accepted(result, report)
    kale_batches = [batch for batch in batches_json(cli_env) if batch["scheduled_date"] != FIRST_DAY.isoformat()]
    assert [batch["cultivar"] for batch in kale_batches] == [name, name]


@pytest.mark.parametrize("separator", ["\t", "\n", "\u00a0"], ids=["tab", "line-break", "no-break-space"])
def test_inner_whitespace_cultivar_gets_recommendation(tmp_path, cli_env, separator):
    """Inner whitespace of a cultivar name collapses to one space, so the lot finds its recommendation row."""
    sheets = plan_sheets()
    sheets[SCHEDULE][1][0] = f"Basil{separator}Genovese"
    path = write_xlsx(tmp_path / "whitespace.xlsx", sheets)

    result, report = ingest_json(path, cli_env)

    assert_accepted(result, report)
    assert report["warnings"] == []
    basil = batches_json(cli_env, "--date", FIRST_DAY.isoformat())
    assert [batch["recipe_source"] for batch in basil] == ["recommended"] * 3 + ["default"] * 2
    assert [batch["recipe_id"] for batch in basil[:3]] == [3, 1, 2]


@pytest.mark.parametrize("sheet_name", ["\u202erecipes", "recipes\u200b"], ids=["rtl-override", "zero-width-space"])
def test_disguised_sheet_name_is_not_matched(tmp_path, cli_env, data_dir, sheet_name):
    sheets = plan_sheets()
    sheets[sheet_name] = sheets.pop(RECIPES)
    path = write_xlsx(tmp_path / "disguised.xlsx", sheets)

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert "has no recipes sheet" in report["errors"][0]["message"]


# Headers and layout


def test_duplicate_header_names_both_columns(tmp_path, cli_env, data_dir):
    sheets = plan_sheets()
    sheets[SCHEDULE][0].append("Crop-Count ")
    for row in sheets[SCHEDULE][1:]:
        row.append(9)
    path = write_xlsx(tmp_path / "duplicate.xlsx", sheets)

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    error = only_error(report)
    assert (error["sheet"], error["row"], error["column"], error["field"]) == ("crop schedule", 1, "F", "crop_count")
    assert "columns B ('crop_count') and F ('Crop-Count')" in error["message"]


def test_blank_header_column_is_ignored(tmp_path, cli_env):
    sheets = plan_sheets()
    sheets[SCHEDULE][0].insert(2, None)
    for row in sheets[SCHEDULE][1:]:
        row.insert(2, "note")
    path = write_xlsx(tmp_path / "blank-header.xlsx", sheets)

    result, report = ingest_json(path, cli_env)

    assert_accepted(result, report)


def test_error_location_away_from_a1(tmp_path, cli_env, data_dir):
    sheets = plan_sheets()
    sheets[SCHEDULE][2][1] = 2.5
    path = write_xlsx(tmp_path / "offset.xlsx", sheets, first_row=5, first_column=30)

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    error = only_error(report)
    # The Kale row is the table's third row, so sheet row 5 + 3; crop_count is column 30 + 1 (0-based), AF.
    assert (error["sheet"], error["row"], error["column"], error["value"]) == ("crop schedule", 8, "AF", "2.5")


def test_merged_cell_reports_covered_cell(tmp_path, cli_env, data_dir):
    """Only the first cell of a merged range contains the value, so the covered cell below is empty."""
    workbook = xlsxwriter.Workbook(str(tmp_path / "merged.xlsx"))
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in plan_sheets().items():
        worksheet = workbook.add_worksheet(name)
        for row_index, values in enumerate(rows):
            for column_index, cell in enumerate(values):
                if name == SCHEDULE and column_index == 1 and row_index > 0:
                    continue
                if isinstance(cell, dt.date):
                    worksheet.write_datetime(row_index, column_index, cell, date_format)
                elif cell is not None:
                    worksheet.write(row_index, column_index, cell)
        if name == SCHEDULE:
            worksheet.merge_range(1, 1, 2, 1, 5)
    workbook.close()

    result, report = ingest_json(tmp_path / "merged.xlsx", cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    error = only_error(report)
    assert (error["sheet"], error["row"], error["column"], error["field"]) == ("crop schedule", 3, "B", "crop_count")


# Formulas


def test_ref_error_value_is_reported_at_cell(tmp_path, plan_xlsx, cli_env, data_dir):
    path = rewrite_member(
        plan_xlsx,
        tmp_path / "ref.xlsx",
        SCHEDULE_MEMBER,
        lambda xml: xml.replace(b'<c r="D3"><v>2</v></c>', b'<c r="D3" t="e"><f>#REF!+1</f><v>#REF!</v></c>'),
    )

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    error = only_error(report)
    assert (error["sheet"], error["row"], error["column"], error["value"]) == ("crop schedule", 3, "D", "#REF!")


def test_formula_without_value_is_reported_at_cell(tmp_path, cli_env, data_dir):
    sheets = plan_sheets()
    sheets[SCHEDULE][2][1] = "=#REF!"
    path = write_openpyxl(tmp_path / "formula.xlsx", sheets)

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    error = only_error(report)
    assert (error["sheet"], error["row"], error["column"], error["value"]) == ("crop schedule", 3, "B", "=#REF!")


def write_xls(path: Path, sheets: Sheets, formula_cell: tuple[str, int, int] | None = None) -> Path:
    """Write ``sheets`` as .xls with xlwt, plus the formula ``=20+2`` at (sheet, 0-based row, 0-based column) if given."""
    workbook = xlwt.Workbook()
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for name, rows in sheets.items():
        worksheet = workbook.add_sheet(name)
        for row_index, values in enumerate(rows):
            for column_index, cell in enumerate(values):
                if cell is not None:
                    style = date_style if isinstance(cell, dt.date) else xlwt.Style.default_style
                    worksheet.write(row_index, column_index, cell, style)
        if formula_cell is not None and formula_cell[0] == name:
            worksheet.write(formula_cell[1], formula_cell[2], xlwt.Formula("20+2"))
    workbook.save(str(path))
    return path


def write_xls_with_formula(path: Path, sheets: Sheets, sheet_name: str, row: int, column: int, result: int) -> Path:
    """Write ``sheets`` as .xls with a formula at 0-based (row, column) of ``sheet_name``, saved with ``result``.

    ``result`` is the 8-byte result field of the BIFF8 FORMULA record: with
    0xFFFF in its top two bytes the low byte is the type, 2 an error value
    (error code in byte 2) and 3 an empty result. xlwt itself always saves
    an empty result, as code without a calculation engine does.
    """
    write_xls(path, sheets, (sheet_name, row, column))

    # Find the FORMULA record (id 0x0006) of that cell and set its saved result.
    content = bytearray(path.read_bytes())
    for match in re.finditer(re.escape(struct.pack("<H", 0x0006)), bytes(content)):
        record = match.start()
        if struct.unpack_from("<HH", content, record + 4) == (row, column):
            struct.pack_into("<Q", content, record + 10, result)
            path.write_bytes(bytes(content))
            return path
    raise AssertionError("FORMULA record not found")


XLS_EMPTY_RESULT = 0xFFFF_0000_0000_0003
XLS_DIV0_RESULT = 0xFFFF_0000_0007_0002


@pytest.mark.xfail(
    strict=True,
    reason="python-calamine reads an .xls formula without a saved value, or an error value, as an empty cell",
)
@pytest.mark.parametrize("saved_result", [XLS_EMPTY_RESULT, XLS_DIV0_RESULT], ids=["saved-without-value", "div0-error"])
def test_xls_unreadable_parameter_is_reported_at_cell(tmp_path, cli_env, data_dir, saved_result):
    """A formula without a value or with an error value is an error at its cell in .xls too, never a blank.

    The cell is the temperature_c parameter of recipe 1, an optional column.
    """
    sheets = plan_sheets()
    sheets[RECIPES][1][6] = None
    path = write_xls_with_formula(tmp_path / "formula.xls", sheets, RECIPES, 1, 6, saved_result)

    result, report = ingest_json(path, cli_env)

    assert_rejected_cleanly(result, report, data_dir)
    assert ("recipes", 2, "G") in error_cells(report)


# Formats


def test_macro_enabled_workbook_is_accepted(tmp_path, cli_env):
    from tests.workbook.builders import write_ole2

    workbook = xlsxwriter.Workbook(str(tmp_path / "macros.xlsm"))
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in plan_sheets().items():
        worksheet = workbook.add_worksheet(name)
        for row_index, values in enumerate(rows):
            for column_index, cell in enumerate(values):
                if isinstance(cell, dt.date):
                    worksheet.write_datetime(row_index, column_index, cell, date_format)
                elif cell is not None:
                    worksheet.write(row_index, column_index, cell)
    workbook.add_vba_project(str(write_ole2(tmp_path / "vbaProject.bin", ["PROJECT", "dir"])))
    workbook.close()

    result, report = ingest_json(tmp_path / "macros.xlsm", cli_env)

    assert_accepted(result, report)


def test_ods_is_accepted(tmp_path, cli_env):
    path = write_ods(tmp_path / "plan.ods", plan_sheets())

    result, report = ingest_json(path, cli_env)

    assert_accepted(result, report)


def test_xls_is_accepted(tmp_path, cli_env):
    path = write_xls(tmp_path / "plan.xls", plan_sheets())

    result, report = ingest_json(path, cli_env)

    assert_accepted(result, report)


@pytest.mark.parametrize("source_format", ["ods", "xls"])
def test_renamed_workbook_is_read_by_content(tmp_path, cli_env, source_format):
    """cropflow recognises the format from the content, so a renamed workbook is read as what it is."""
    if source_format == "ods":
        source = write_ods(tmp_path / "plan.ods", plan_sheets())
    else:
        source = write_xls(tmp_path / "plan.xls", plan_sheets())
    path = tmp_path / "renamed.xlsx"
    shutil.copy(source, path)

    result, report = ingest_json(path, cli_env)

    assert_accepted(result, report)


# Paths that are not plain files


def test_directory_is_usage_error(tmp_path, cli_env, data_dir):
    (tmp_path / "folder.xlsx").mkdir()

    result = run_cropflow(["ingest", str(tmp_path / "folder.xlsx"), "--json", "--as-of", AS_OF], cli_env)

    assert_no_crash(result)
    assert result.returncode == 2
    assert "directory" in result.stderr
    assert stored_counts(data_dir) == (0, 0, 0)


def test_symlink_is_followed(tmp_path, plan_xlsx, cli_env):
    link = tmp_path / "link.xlsx"
    link.symlink_to(plan_xlsx)

    result, report = ingest_json(link, cli_env)

    assert_accepted(result, report)
    assert report["file"] == "link.xlsx"


def test_dangling_symlink_is_usage_error(tmp_path, cli_env):
    link = tmp_path / "dangling.xlsx"
    link.symlink_to(tmp_path / "missing.xlsx")

    result = run_cropflow(["ingest", str(link), "--json", "--as-of", AS_OF], cli_env)

    assert_no_crash(result)
    assert result.returncode == 2


@pytest.mark.timeout(120)
def test_named_pipe_is_rejected_promptly(tmp_path, cli_env, data_dir):
    """A FIFO with no writer must be rejected as not a regular file, not read until someone writes to it."""
    fifo = tmp_path / "plan.xlsx"
    os.mkfifo(fifo)

    try:
        result, report = ingest_json(fifo, cli_env, timeout_s=30)
    except subprocess.TimeoutExpired:
        pytest.fail("cropflow ingest of a named pipe did not finish")

    assert_rejected_cleanly(result, report, data_dir)
