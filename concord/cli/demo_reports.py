"""`concord up --demo`, the public's side: two reports sent through the form's API as a
resident would, one with a phone's photo (its GPS removed before it is kept), one that
goes to the competent body in the city's place."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import aiohttp
from PIL import Image
from rich.console import Console

from concord.common.types import utcnow


def phone_photo() -> bytes:
    """A photo as a phone writes it: the camera and where it was taken in its EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "DemoPhone"
    exif[0x8825] = {1: "N", 2: (50.0, 51.0, 12.5), 3: "E", 4: (4.0, 21.0, 3.0)}
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (180, 40, 40)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def reports() -> list[tuple[dict[str, Any], bytes | None]]:
    """Graffiti on a mosque with a photo (the police act on it), and a landlord's refusal
    in Zuidwijk (the labour inspectorate's, in the example directory)."""
    when = (utcnow() - timedelta(hours=2)).isoformat()
    graffiti = {
        "category": "vandalism",
        "bias": ["anti_muslim"],
        "summary": "Someone painted hateful graffiti on the mosque's door this morning. "
        "Photo attached.",
        "area": "centre",
        "occurred_at": when,
        "reporter_role": "witness",
        "language": "fr",
        "indicators": ["symbols", "location"],
        "consent_to_contact": True,
        "contact": "temoin@example.org",
        "consent_to_share": True,
    }
    refusal = {
        "category": "discrimination",
        "bias": ["anti_migrant"],
        "summary": "Het uitzendkantoor zei dat ze geen mensen met mijn naam plaatsen.",
        "area": "south",
        "occurred_at": when,
        "reporter_role": "victim",
        "language": "nl",
    }
    return [(graffiti, phone_photo()), (refusal, None)]


async def send(base: str, console: Console) -> None:
    """Send the reports and say what became of each."""
    async with aiohttp.ClientSession() as http:
        for report, photo in reports():
            form = aiohttp.FormData()
            form.add_field("report", json.dumps(report), content_type="application/json")
            if photo is not None:
                form.add_field("files", photo, filename="IMG_0412.jpg", content_type="image/jpeg")
            async with http.post(f"{base}/api/reports", data=form) as answer:
                body = await answer.json()
            if answer.status != 202:
                console.print(f"[red]demo: a report was refused: {body}[/]")
                continue
            what = "with a photo (its GPS removed, sealed)" if photo else "without a file"
            console.print(
                f"[blue]resident[/] reports {report['category']} {what}: receipt "
                f"{body['receipt']}"
                + (f", passed to {body['referred_to']}" if body.get("referred_to") else "")
            )
