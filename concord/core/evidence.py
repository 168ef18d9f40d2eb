"""Evidence given with a report: which files are taken, and in what form they are kept.

A file's type is read from its bytes (`filetype`), never from its name or the type the
browser declared. JPEG, PNG and WebP images are decoded and encoded again without their
metadata (EXIF, GPS, XMP, comments), so a phone's location never enters Concord; PDF
and plain text are kept as given. Anything else is refused with the file's name, and so
is a file that is too large, or one too many. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass
from typing import Literal

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError

from concord.streams.signals import EvidenceRef

#: At most this many files per report.
MAX_FILES = 5
#: At most this many bytes per file, as sent.
MAX_BYTES = 10 * 1024 * 1024
#: Images larger than this many pixels are refused (a decompression bomb is not evidence).
MAX_PIXELS = 40_000_000

EvidenceType = Literal["image/jpeg", "image/png", "image/webp", "application/pdf", "text/plain"]
#: What each kept type is called on the form (and the file extension it is served with).
EXTENSIONS: dict[EvidenceType, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "text/plain": "txt",
}
_PILLOW_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


@dataclass(frozen=True)
class Kept:
    """A file as Concord keeps it: its type from its bytes, its bytes clean."""

    type: EvidenceType
    data: bytes

    def ref(self, blob_id: str | None = None) -> EvidenceRef:
        """What a signal carries of it (a fresh blob id unless given)."""
        return EvidenceRef(
            id=blob_id or secrets.token_urlsafe(18),
            digest=hashlib.sha256(self.data).hexdigest(),
            type=self.type,
            size=len(self.data),
        )


@dataclass(frozen=True)
class Refusal:
    """Why a file is not taken: the HTTP status (413 too large, 415 another type, 422 one
    too many or unreadable) and a reason naming the file."""

    status: int
    file: str
    reason: str


def sniff(data: bytes) -> EvidenceType | None:
    """The type of a file from its first bytes, if it is one Concord keeps."""
    kind = str(filetype.guess_mime(data[:8192]) or "")
    for known in EXTENSIONS:
        if kind == known:
            return known
    if not kind and _is_text(data):
        return "text/plain"
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def strip_image(data: bytes, kind: EvidenceType) -> bytes:
    """The image encoded again without metadata, turned upright first (the EXIF
    orientation is metadata too). Raises ValueError when it cannot be read."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise ValueError("the image is too large to read")
                opened.load()
                image = ImageOps.exif_transpose(opened) or opened
                out = io.BytesIO()
                fmt = _PILLOW_FORMAT[kind]
                if image.mode not in ("RGB", "RGBA", "L", "LA"):
                    image = image.convert("RGBA")  # a palette, CMYK, 16 bits: plain pixels
                if fmt == "JPEG" and image.mode not in ("RGB", "L"):
                    image = image.convert("RGB")
                # A fresh image: only the pixels (and a PNG's or WebP's transparency) go on.
                clean = Image.new(image.mode, image.size)
                clean.paste(image)
                options = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
                clean.save(out, format=fmt, **options)
                return out.getvalue()
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            raise ValueError("the image cannot be read") from exc
        except Image.DecompressionBombWarning as exc:
            raise ValueError("the image is too large to read") from exc


def keep(name: str, data: bytes) -> Kept | Refusal:
    """A file as Concord keeps it, or why it is refused (naming it as it was sent)."""
    label = name.strip() or "(a file without a name)"
    if len(data) > MAX_BYTES:
        mb = MAX_BYTES // (1024 * 1024)
        return Refusal(413, label, f"{label} is larger than {mb} MB")
    if not data:
        return Refusal(422, label, f"{label} is empty")
    kind = sniff(data)
    if kind is None:
        return Refusal(415, label, f"{label} is not a JPEG, PNG, WebP, PDF or plain text file")
    if kind in _PILLOW_FORMAT:
        try:
            data = strip_image(data, kind)
        except ValueError as exc:
            return Refusal(422, label, f"{label}: {exc}")
    return Kept(kind, data)


def keep_all(files: list[tuple[str, bytes]]) -> list[Kept] | Refusal:
    """Every file of a report kept, or the first refusal (one too many is refused too)."""
    if len(files) > MAX_FILES:
        name = files[MAX_FILES][0] or "(a file without a name)"
        return Refusal(422, name, f"at most {MAX_FILES} files can be attached")
    out: list[Kept] = []
    for name, data in files:
        found = keep(name, data)
        if isinstance(found, Refusal):
            return found
        out.append(found)
    return out
