"""Name the kind of file from its first bytes, for a message that rejects it."""

from __future__ import annotations

import codecs

EMPTY_ZIP_SIGNATURE = b"PK\x05\x06"


def describe_content(head: bytes) -> str:
    """Name the kind of file whose first bytes are ``head``, for a message."""
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(EMPTY_ZIP_SIGNATURE):
        return "an empty zip archive"
    if head.startswith(b"{\\rtf"):
        return "an RTF document"
    if head.startswith(b"\x89PNG"):
        return "a PNG image"
    if head.startswith(b"\xff\xd8\xff"):
        return "a JPEG image"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip archive"
    text = _decode_text(head)
    if text is None:
        return f"unrecognised binary data (first bytes {head[:8].hex(' ')})"
    stripped = text.lstrip()
    if stripped.startswith("<"):
        if "<html" in stripped[:1024].casefold():
            return "an HTML page"
        return "XML or HTML text"
    first_line = stripped.splitlines()[0] if stripped else ""
    if any(separator in first_line for separator in (",", ";", "\t")):
        return f"CSV or other delimited text (first line: {first_line[:80]!r})"
    return f"plain text (first line: {first_line[:80]!r})"


def _decode_text(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        # An incremental decoder accepts a multi-byte character cut off at the end.
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    if any(ord(character) < 32 and character not in "\t\r\n\f" for character in text):
        return None
    return text
