"""Read the stream names of an OLE2 compound file (legacy ``.xls``, encrypted ``.xlsx``).

Only the header, the sector allocation table (FAT) and the directory are
read. That is enough to tell an Excel 97-2003 workbook (a ``Workbook`` or
``Book`` stream) from a password-protected Office Open XML file (an
``EncryptionInfo`` stream) and from other Office documents. The layout is
the one in Microsoft's [MS-CFB] specification.
"""

from __future__ import annotations

import struct
import sys
from array import array
from typing import IO

SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_HEADER_BYTES = 512
_HEADER_DIFAT_ENTRIES = 109
_DIRECTORY_ENTRY_BYTES = 128
_MAX_REGULAR_SECTOR = 0xFFFFFFFA
_UNUSED_ENTRY = 0


class CompoundFileError(ValueError):
    """Raised when an OLE2 compound file is damaged or truncated."""


def read_stream_names(file: IO[bytes], file_bytes: int) -> set[str]:
    """Return the names of every stream and storage in an OLE2 compound file.

    ``file_bytes`` is the file's size. Every chain is followed at most as
    many steps as the file has sectors, so a damaged file cannot loop.
    """
    header = _read_at(file, 0, _HEADER_BYTES)
    if header[:8] != SIGNATURE:
        raise CompoundFileError("the OLE2 signature is missing")
    sector_shift = struct.unpack_from("<H", header, 0x1E)[0]
    if sector_shift not in (9, 12):
        raise CompoundFileError(f"unsupported sector size 2**{sector_shift}")
    sector_bytes = 1 << sector_shift
    max_sectors = file_bytes // sector_bytes + 1

    fat_sector_count, first_directory_sector = struct.unpack_from("<II", header, 0x2C)
    first_difat_sector, difat_sector_count = struct.unpack_from("<II", header, 0x44)
    fat_sectors = list(struct.unpack_from(f"<{_HEADER_DIFAT_ENTRIES}I", header, 0x4C))
    fat_sectors += _read_difat_chain(file, first_difat_sector, difat_sector_count, sector_bytes, max_sectors)
    fat_sectors = [sector for sector in fat_sectors[:fat_sector_count] if sector <= _MAX_REGULAR_SECTOR]

    fat = array("I")
    if fat.itemsize != 4:
        raise CompoundFileError("this platform has no 32-bit unsigned array type")
    for sector in fat_sectors:
        fat.frombytes(_read_sector(file, sector, sector_bytes))
    if sys.byteorder == "big":
        fat.byteswap()  # the format is little-endian

    names: set[str] = set()
    sector = first_directory_sector
    for _ in range(max_sectors):
        if sector > _MAX_REGULAR_SECTOR:
            return names
        names.update(_directory_names(_read_sector(file, sector, sector_bytes)))
        if sector >= len(fat):
            raise CompoundFileError(f"directory sector {sector} is outside the allocation table")
        sector = fat[sector]
    raise CompoundFileError("the directory chain does not end")


def _read_difat_chain(
    file: IO[bytes], sector: int, count: int, sector_bytes: int, max_sectors: int
) -> list[int]:
    entries_per_sector = sector_bytes // 4 - 1
    fat_sectors: list[int] = []
    for _ in range(min(count, max_sectors)):
        if sector > _MAX_REGULAR_SECTOR:
            break
        data = _read_sector(file, sector, sector_bytes)
        *entries, sector = struct.unpack(f"<{entries_per_sector + 1}I", data)
        fat_sectors += entries
    return fat_sectors


def _directory_names(sector_data: bytes) -> list[str]:
    names = []
    for offset in range(0, len(sector_data), _DIRECTORY_ENTRY_BYTES):
        entry = sector_data[offset : offset + _DIRECTORY_ENTRY_BYTES]
        name_bytes, entry_type = struct.unpack_from("<HB", entry, 0x40)
        if entry_type == _UNUSED_ENTRY or not 2 <= name_bytes <= 64:
            continue
        # The length counts the UTF-16 terminating NUL.
        names.append(entry[: name_bytes - 2].decode("utf-16-le", errors="replace"))
    return names


def _read_sector(file: IO[bytes], sector: int, sector_bytes: int) -> bytes:
    # Sector 0 starts right after the header, which fills one sector.
    return _read_at(file, (sector + 1) * sector_bytes, sector_bytes)


def _read_at(file: IO[bytes], offset: int, size: int) -> bytes:
    file.seek(offset)
    data = file.read(size)
    if len(data) != size:
        raise CompoundFileError(f"the file ends inside the structure at byte {offset}")
    return data
