"""The report intake (concord.web.report): its file checks leave the event loop free; a
form sent back because the broker did not confirm it keeps its receipt, if signed."""

from __future__ import annotations

import asyncio
import io
import os
from types import SimpleNamespace
from typing import Any, cast

from PIL import Image
from pydantic import SecretStr

from concord.access.links import Signer
from concord.core.evidence import Kept
from concord.core.reports import new_receipt
from concord.web.body import Form, Upload
from concord.web.report import AGAIN, again, checked_files


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


def test_a_form_sent_back_unconfirmed_keeps_its_receipt_only_with_its_signature() -> None:
    signer = Signer(SecretStr("s" * 32))
    site = cast(Any, SimpleNamespace(signer=signer))
    receipt, other = new_receipt(), new_receipt()
    token = signer.form_token(AGAIN, receipt)
    rows = [
        ([("again", receipt), ("again_token", token)], receipt),  # as it was sent back
        ([("again", other), ("again_token", token)], None),  # another receipt: not its token
        ([("again", receipt)], None),  # no signature
        ([("again", receipt), ("again_token", signer.form_token("report", receipt))], None),
        ([("again", "not-a-receipt"), ("again_token", token)], None),
        ([], None),
    ]
    for fields, kept in rows:
        assert again(site, Form(fields)) == kept, fields
