"""What a file is, read from its first bytes, never from its name or the type its sender claims:
a `.png` that is really an HTML page must not pass as a picture."""
import zipfile
from typing import BinaryIO

# Enough for every signature below, and for telling text from binary.
HEAD = 4096
OFFICE = "application/vnd.openxmlformats-officedocument."
# An Office Open XML file is a zip holding one of these folders.
OFFICE_PARTS = {
    "word/": OFFICE + "wordprocessingml.document",
    "xl/": OFFICE + "spreadsheetml.sheet",
    "ppt/": OFFICE + "presentationml.presentation",
}
# ISO base media (MP4) brands that hold sound only.
AUDIO_BRANDS = (b"M4A ", b"M4B ")


def sniff(file: BinaryIO) -> str:
    """The content type `file` holds (a MIME type), or "" when it is none we recognise. Reads from
    the start and leaves the position there."""
    file.seek(0)
    head = file.read(HEAD)
    file.seek(0)
    found = _by_signature(head)
    if found == "application/zip":
        found = _office(file) or found
        file.seek(0)
    if not found and _is_text(head):
        found = "text/plain"
    return found


def _by_signature(head: bytes) -> str:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"OggS"):
        return "audio/ogg"  # WhatsApp's voice notes: Opus in Ogg
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in AUDIO_BRANDS:
            return "audio/mp4"
        return "video/3gpp" if brand.startswith(b"3g") else "video/mp4"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    return ""


def _office(file: BinaryIO) -> str:
    try:
        names = zipfile.ZipFile(file).namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return ""
    for prefix, kind in OFFICE_PARTS.items():
        if any(name.startswith(prefix) for name in names):
            return kind
    return ""


def _is_text(head: bytes) -> bool:
    """UTF-8 without control bytes other than tabs and line ends (a log, a stack trace)."""
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may end inside a character: only an error in the last 3 bytes is forgiven.
        if exc.start < len(head) - 3:
            return False
        text = head[:exc.start].decode("utf-8")
    return all(ch >= " " or ch in "\t\n\r\f" for ch in text)
