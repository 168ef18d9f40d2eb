"""Evidence (concord.core.evidence): what a file is, from its bytes, and what is kept."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image

from concord.core import evidence
from concord.core.evidence import Kept, Refusal

GPS_IFD = 0x8825
MAKE = 0x010F
ORIENTATION = 0x0112


def photo(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), orientation: int = 1) -> bytes:
    """A phone's photo: a camera make, a GPS position and an orientation in its EXIF."""
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (50.0, 51.0, 12.5), 3: "E", 4: (4.0, 21.0, 3.0)}
    out = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" else "RGB"
    Image.new(mode, size, (30, 120, 200)).save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def palette_png() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "PNG")
    return out.getvalue()


# (name, bytes, the type kept, or the status it is refused with)
CASES: list[tuple[str, Callable[[], bytes], str | int]] = [
    ("photo.jpg", lambda: photo("JPEG"), "image/jpeg"),
    ("photo.png", lambda: photo("PNG"), "image/png"),
    ("photo.webp", lambda: photo("WEBP"), "image/webp"),
    ("palette.png", palette_png, "image/png"),
    ("letter.pdf", lambda: b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
    ("note.txt", lambda: "Il a crié « rentrez chez vous ».".encode(), "text/plain"),
    # The name says nothing: a PDF called .jpg is a PDF, a program called .png is refused.
    ("scan.jpg", lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    ("cute.png", lambda: b"MZ\x90\x00\x03" + bytes(200), 415),
    ("archive.zip", lambda: b"PK\x03\x04" + bytes(100), 415),
    ("page.html", lambda: b"<html><script>alert(1)</script>\x00", 415),
    ("latin1.txt", lambda: "caf\xe9".encode("latin-1"), 415),
    ("broken.jpg", lambda: b"\xff\xd8\xff\xe0" + bytes(50), 422),
    ("empty.txt", lambda: b"", 422),
    ("huge.txt", lambda: b"a" * (evidence.MAX_BYTES + 1), 413),
]


@pytest.mark.parametrize(("name", "make", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_file_is_kept_as_its_bytes_say_or_refused_naming_it(
    name: str, make: Callable[[], bytes], expected: str | int
) -> None:
    got = evidence.keep(name, make())
    if isinstance(expected, int):
        assert isinstance(got, Refusal), got
        assert (got.status, got.file) == (expected, name)
        assert name in got.reason
    else:
        assert isinstance(got, Kept), got
        assert got.type == expected


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_an_image_keeps_its_pixels_and_loses_its_gps_and_camera(fmt: str) -> None:
    raw = photo(fmt)
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(GPS_IFD)  # the phone wrote it
    kept = evidence.keep(f"p.{fmt.lower()}", raw)
    assert isinstance(kept, Kept)
    image = Image.open(io.BytesIO(kept.data))
    assert image.size == (64, 48)
    assert not image.getexif()  # no GPS, no make, nothing
    assert b"PhoneMaker" not in kept.data
    assert not {"exif", "xmp", "comment"} & set(image.info)


def test_an_image_is_turned_upright_before_its_orientation_goes() -> None:
    kept = evidence.keep("sideways.jpg", photo("JPEG", (64, 48), orientation=6))
    assert isinstance(kept, Kept)
    assert Image.open(io.BytesIO(kept.data)).size == (48, 64)  # rotated, not tagged


def test_a_decompression_bomb_is_refused() -> None:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")  # small file, 400 megapixels
    got = evidence.keep("bomb.png", out.getvalue())
    assert isinstance(got, Refusal)
    assert got.status == 422


def test_at_most_five_files_and_the_first_refusal_wins() -> None:
    files = [(f"n{i}.txt", b"note") for i in range(evidence.MAX_FILES + 1)]
    got = evidence.keep_all(files)
    assert isinstance(got, Refusal)
    assert got.file == "n5.txt"
    got = evidence.keep_all([("a.txt", b"ok"), ("b.exe", b"MZ\x90\x00"), ("c.txt", b"")])
    assert isinstance(got, Refusal)
    assert (got.status, got.file) == (415, "b.exe")
    kept = evidence.keep_all([("a.txt", b"ok")])
    assert isinstance(kept, list)
    assert kept[0].ref().digest == (
        "2689367b205c16ce32ed4200942b8b8b1e262dfc70d9bc9fbc77c49699a4f1df"
    )
