"""Reports by email from partner organisations (`report+<partner>.<generation>.<code>@…`).

The mail becomes a report through the same intake as `POST /api/reports`
(`concord.web.report.accept`): the subject and the new text (quoted history and
signature cut off) are the summary; the partner is the source (its type: ngo, school,
…); attachments are evidence, with the same checks (a file refused is left out, and the
receipt says which and why). `Area:` and `Category:` lines say where and what; without
them the report waits in triage (`/triage`) with its files. The sender gets a receipt by
email, in the partner's language, with the receipt's status link.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from concord.common.types import utcnow
from concord.config.partners import Partner
from concord.core import evidence, mailin
from concord.core.reports import TENSION, new_receipt, same_receipt, signal_id
from concord.web.report import Reports, accept
from concord.web.reportwords import FILE_ERRORS


def when(message: EmailMessage) -> datetime:
    """When it was sent (its Date), never later than now."""
    now = utcnow()
    try:
        sent = email.utils.parsedate_to_datetime(str(message["Date"] or ""))
    except (TypeError, ValueError, IndexError):
        return now
    if sent is None or sent.tzinfo is None:
        return now
    return min(sent, now)


def files_of(message: EmailMessage) -> tuple[list[evidence.Kept], list[tuple[str, str]]]:
    """The attachments the evidence checks keep, and those they refuse (name, and what
    the form would say: a message id of `FILE_ERRORS`). Slow for photos (decoded and
    re-encoded): run it in a thread."""
    kept: list[evidence.Kept] = []
    refused: list[tuple[str, str]] = []
    for part in message.iter_attachments():
        name = str(part.get_filename() or "attachment")
        try:
            data = part.get_content()
        except (LookupError, ValueError, KeyError):
            refused.append((name, FILE_ERRORS[422]))
            continue
        data = data.encode() if isinstance(data, str) else bytes(data)
        found = evidence.keep(name, data)
        if isinstance(found, evidence.Refusal) or len(kept) >= evidence.MAX_FILES:
            status = found.status if isinstance(found, evidence.Refusal) else 422
            refused.append((name, FILE_ERRORS.get(status, FILE_ERRORS[422])))
        else:
            kept.append(found)  # checked once: the image is decoded and stripped here only
    return kept, refused


def same_as(
    secret: bytes,
    partner: Partner,
    message: EmailMessage,
    said: list[str],
    files: list[evidence.Kept],
) -> str | None:
    """The receipt of a mail that is sent again (after a 451, or by a relay that did not
    hear the 250): the same Message-ID from the same partner, saying the same, is the
    same report under the same receipt. None for a mail without a Message-ID."""
    sent_as = str(message["Message-ID"] or "").strip()
    if not sent_as:
        return None
    parts = [partner.id, sent_as, *said]
    sums = [hashlib.sha256(f.data).digest() for f in files]
    return same_receipt(secret, b"mail", *(x.encode() for x in parts), *sums)


async def take(reports: Reports, partner: Partner, message: EmailMessage, sender: str) -> str:
    """The mail as a report (or a triage item); the receipt to the sender; the SMTP answer."""
    body = message.get_body(preferencelist=("plain",))
    text = mailin.new_text(str(body.get_content()) if body is not None else "")
    site = reports.site
    said = mailin.block(text, site.directory)
    subject = str(message["Subject"] or "").strip()
    summary = "\n".join(t for t in (subject, said.text) if t)[:4000] or "(no text)"
    files, refused = await asyncio.to_thread(files_of, message)  # off the loop: see files_of
    at = when(message).isoformat()
    said_when = str(message["Date"] or "")  # not `at`: without a Date, that is now
    same = same_as(site.signer.receipt_key, partner, message, [summary, said_when], files)
    receipt: str | None = None
    if said.area and said.category:
        data: dict[str, Any] = {
            "category": said.category,
            "summary": summary,
            "area": said.area,
            "occurred_at": at,
            "reporter_role": "organisation",
            "organisation": partner.name[:200],
            "language": partner.language,
        }
        taken = await accept(reports, data, source_type=partner.type, kept=files, receipt=same)
        receipt = taken.receipt
    if receipt is None:  # where or what it is was not said (or not readably): triage
        receipt = same or new_receipt()
        category = said.category or "other"
        signal = {
            "id": signal_id(receipt),
            "kind": "tension" if category in TENSION else "incident",
            "category": category,
            "severity": 2,
            "occurred_at": at,
            "area": "",
            "source": {"type": partner.type, "name": partner.name[:200]},
            "summary": summary,
            "language": partner.language,
            "tags": ["email-report", f"partner-{partner.id}"[:64]],
        }
        reason = "the mail named no area or what happened in a way Concord reads"
        await site.flow.acked(site.flow.triage(signal, "email", reason, "", files))
        waiting = True
    else:
        waiting = False
    answer = reports.compose.mail_receipt(
        sender, partner.language, receipt, waiting, refused, utcnow()
    )
    await site.flow.post(answer)
    await site.flow.audit(
        f"partner:{partner.id}", "report.emailed", signal_id(receipt), via="email",
        files=str(len(files)), refused_files=str(len(refused)), triage="yes" if waiting else "no",
    )  # fmt: skip
    return "250 2.0.0 Report received: " + receipt
