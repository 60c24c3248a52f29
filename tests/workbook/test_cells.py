"""Cell value parsers and name matching, without a workbook."""

from __future__ import annotations

import datetime as dt

import pytest

from cropflow.workbook.cells import (
    CellError,
    DateSystem,
    cell_text,
    cultivar_key,
    cultivar_parser,
    date_parser,
    number_parser,
    parameter_value,
    recipe_ids_parser,
    time_zone_parser,
    whole_number_parser,
)
from cropflow.workbook.names import (
    canonical_column,
    canonical_sheet,
    column_index,
    column_letter,
    normalize_name,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.0, "3"),
        (2.3, "2.3"),
        (True, "TRUE"),
        (dt.date(2027, 1, 15), "2027-01-15"),
        (dt.datetime(2027, 1, 15, 8, 30), "2027-01-15T08:30:00"),
        (" raw ", " raw "),
        (7, "7"),
    ],
)
def test_cell_text_matches_what_a_spreadsheet_shows(value, text):
    assert cell_text(value) == text


def test_whole_number_error_names_expectation_and_value():
    parse = whole_number_parser(1)

    with pytest.raises(CellError) as caught:
        parse(2.3)

    assert caught.value.expected == "a whole number of at least 1"
    assert caught.value.found == "2.3"


def test_whole_number_rejects_python_style_digit_separators():
    with pytest.raises(CellError):
        whole_number_parser(1)("1_000")


@pytest.mark.parametrize(("value", "number"), [(0.0, 0.0), (250, 250.0), (" 1.5e2 ", 150.0), (".5", 0.5)])
def test_number_parser_accepts_numbers_and_numeric_text(value, number):
    assert number_parser(0)(value) == number


@pytest.mark.parametrize("value", [-0.1, "nan", "inf", True, "", dt.date(2027, 1, 1)])
def test_number_parser_rejects_other_values(value):
    with pytest.raises(CellError):
        number_parser(0)(value)


@pytest.mark.parametrize(
    ("serial", "system", "day"),
    [
        (1, DateSystem.EXCEL_1900, dt.date(1900, 1, 1)),
        (59, DateSystem.EXCEL_1900, dt.date(1900, 2, 28)),
        (60, DateSystem.EXCEL_1900, None),  # Excel's nonexistent 1900-02-29
        (61, DateSystem.EXCEL_1900, dt.date(1900, 3, 1)),
        (46000.75, DateSystem.EXCEL_1900, dt.date(2025, 12, 9)),
        (0, DateSystem.EXCEL_1904, dt.date(1904, 1, 1)),
        (46000, DateSystem.EXCEL_1904, dt.date(2029, 12, 10)),
        (46000, DateSystem.OPENDOCUMENT, dt.date(2025, 12, 9)),
        (-1, DateSystem.EXCEL_1900, None),
        (1e12, DateSystem.EXCEL_1900, None),
    ],
)
def test_serial_numbers_convert_in_each_date_system(serial, system, day):
    assert system.serial_to_date(serial) == day


def test_date_parser_rejects_time_only_cell():
    with pytest.raises(CellError) as caught:
        date_parser(DateSystem.EXCEL_1900)(dt.time(13, 5))

    assert caught.value.found == "the time 13:05:00"


def test_cultivar_parser_collapses_whitespace_and_keeps_case():
    name = cultivar_parser()("  Basil \t Genovese ")

    assert name == "Basil Genovese"
    assert cultivar_key(name) == "basil genovese"


@pytest.mark.parametrize(
    ("value", "ids"), [("3, 1,2", (3, 1, 2)), ("3;1", (3, 1)), (4.0, (4,)), ("3,3", (3, 3))]
)
def test_recipe_ids_parser_reads_lists(value, ids):
    assert recipe_ids_parser()(value) == ids


@pytest.mark.parametrize(
    ("value", "zone"), [("America/Los_Angeles", "America/Los_Angeles"), ("  UTC ", "UTC"), ("", None)]
)
def test_time_zone_parser_accepts_iana_names(value, zone):
    assert time_zone_parser()(value) == zone


@pytest.mark.parametrize("value", ["PST", "america/los_angeles", "../etc/passwd", 3.0])
def test_time_zone_parser_rejects_other_names(value):
    with pytest.raises(CellError):
        time_zone_parser()(value)


@pytest.mark.parametrize(("value", "parameter"), [(22, 22.0), ("22", 22.0), (" warm ", "warm"), ("", None)])
def test_parameter_values_are_numbers_or_text(value, parameter):
    assert parameter_value(value) == parameter


@pytest.mark.parametrize(
    "name", ["Crop Schedule", "crop_schedule", " crop-schedule ", "CROP  SCHEDULE", "schedule"]
)
def test_schedule_sheet_names_match(name):
    assert canonical_sheet(name) == "crop_schedule"


def test_column_aliases_depend_on_sheet():
    assert canonical_column("recipes", "Recipe ID") == "id"
    assert canonical_column("farms", "farm-id") == "id"
    assert canonical_column("crop_schedule", "Farm ID") == "farm_id"
    assert canonical_column("crop_schedule", "recipe_id") is None


def test_normalize_name_treats_separators_alike():
    assert normalize_name(" Light-Intensity ") == normalize_name("light_intensity") == "light_intensity"


@pytest.mark.parametrize(("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_column_letters_round_trip(index, letters):
    assert column_letter(index) == letters
    assert column_index(letters) == index
