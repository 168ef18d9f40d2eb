"""The report intake's file checks (concord.web.report): they leave the event loop free."""

from __future__ import annotations

import asyncio
import io
import os

from PIL import Image

from concord.core.evidence import Kept
from concord.web.body import Upload
from concord.web.report import checked_files


def photo() -> bytes:
    """A 12-megapixel JPEG of noise: what decodes and re-encodes slowest."""
    image = Image.frombytes("RGB", (4000, 3000), os.urandom(4000 * 3000 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=60)
    return out.getvalue()


def test_a_photo_is_checked_while_the_event_loop_goes_on() -> None:
    data = photo()

    async def main() -> tuple[object, int]:
        ticks = 0
        done = asyncio.Event()

        async def tick() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0)

        ticker = asyncio.ensure_future(tick())
        await asyncio.sleep(0)
        kept = await checked_files([Upload("photo.jpg", data)])
        done.set()
        await ticker
        return kept, ticks

    kept, ticks = asyncio.run(main())
    assert isinstance(kept, list)
    assert isinstance(kept[0], Kept)
    assert kept[0].type == "image/jpeg"
    # The other tasks ran meanwhile (in the loop, the check would have run alone).
    assert ticks > 100
