"""Size-limited reading of a multipart upload into a temp file that cropflow names."""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from starlette.types import Message, Receive

# Room for the multipart boundaries, part headers and small form fields
# around the file itself.
MULTIPART_OVERHEAD_BYTES = 16 * 1024
MAX_FILE_NAME_CHARS = 200
DEFAULT_FILE_NAME = "upload.xlsx"
COPY_CHUNK_BYTES = 1024 * 1024
UNSAFE_NAME_CHARACTERS = re.compile(r"[^\w.()+ -]")


class UploadTooLargeError(Exception):
    """Raised when a request body grows beyond the upload limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The upload is larger than the limit of {limit} bytes.")
        self.limit = limit


def limited_receive(receive: Receive, max_body_bytes: int) -> Receive:
    """Wrap an ASGI ``receive`` so that it raises UploadTooLargeError past ``max_body_bytes``.

    This counts the bytes as they arrive, so a chunked request without a
    Content-Length header is stopped as early as one with a false one.
    """
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_body_bytes:
                raise UploadTooLargeError(max_body_bytes)
        return message

    return receive_within_limit


def safe_file_name(client_name: str | None) -> str:
    """Return a base name for ``client_name`` that contains no path separator or control character.

    The result keeps letters, digits and ``._()+ -``, and never starts with a dot.
    """
    if not client_name:
        return DEFAULT_FILE_NAME
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", client_name))[-1]
    base = UNSAFE_NAME_CHARACTERS.sub("_", base).strip(" .")
    if not base:
        return DEFAULT_FILE_NAME
    if len(base) > MAX_FILE_NAME_CHARS:
        # Keep the extension: the workbook reader may look at it.
        suffix = Path(base).suffix[:10]
        base = base[: MAX_FILE_NAME_CHARS - len(suffix)] + suffix
    return base


@contextmanager
def saved_upload(source: BinaryIO, file_name: str, max_file_bytes: int) -> Iterator[Path]:
    """Copy an uploaded file into a fresh temp folder and yield its path; delete both afterwards.

    Raises UploadTooLargeError when the file is larger than ``max_file_bytes``.
    """
    with tempfile.TemporaryDirectory(prefix="cropflow-upload-") as folder:
        path = Path(folder) / safe_file_name(file_name)
        written = 0
        with path.open("wb") as target:
            while chunk := source.read(COPY_CHUNK_BYTES):
                written += len(chunk)
                if written > max_file_bytes:
                    raise UploadTooLargeError(max_file_bytes)
                target.write(chunk)
        yield path
