"""Replies to task emails, by SMTP: the inbound server's handler (aiosmtpd).

Concord takes mail for two kinds of address only: the Reply-To of its task emails
(`task+<task>.<mac>@CONCORD_INBOUND_DOMAIN`, `concord.core.mailin`) and each partner
organisation's report address (`report+…`, `concord.inbound.reports`). Everything else
is refused at RCPT (550), never accepted and dropped; a reply from anyone but the person the
address was made for is refused too, and the coordinators are told. Size is enforced at
DATA (552, by aiosmtpd). What fails on Concord's side (the broker gone) is a temporary
failure (451): the sending server tries again. A reply is read by the rules of
`concord.core.mailin` and acts through the same task rules as the buttons; the person
gets a one-line confirmation.
A Message-ID seen before does nothing. Mail that cannot be read is a dead letter.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from concord.common.types import utcnow
from concord.config.directory import Directory
from concord.core import mailin
from concord.core.redaction import cut, scrub
from concord.delivery.compose import Compose
from concord.inbound import reports
from concord.notifiers.recipients import recipient_for
from concord.streams.tasks import Task
from concord.web.readmodel import ReadModel
from concord.web.report import Reports
from concord.worker.acks import Unavailable
from concord.worker.runtime import Flow, Where

log = logging.getLogger(__name__)
#: The audit action of a reply taken (its Message-ID: a replay does nothing).
REPLIED = "task.replied"
#: A temporary failure: the sending server keeps the mail and tries again.
TRY_LATER = "451 4.3.0 Concord cannot take this message now; try again later"


async def temporarily(step: Awaitable[str], what: str) -> str:
    """The SMTP answer of `step`; if it fails (the broker gone, a bug), a temporary
    failure, so that the sending server keeps the mail and tries again: aiosmtpd would
    answer 500, and the mail would bounce, lost to Concord."""
    try:
        return await step
    except Unavailable as exc:  # the broker's trouble, told by the watchdog: one line
        log.warning("mail in: %s could not be taken: %s", what, exc)
        return TRY_LATER
    except Exception:
        log.exception("mail in: %s could not be taken", what)
        return TRY_LATER


@dataclass
class Replies:
    """The aiosmtpd handler: what it needs from the worker."""

    flow: Flow
    readmodel: ReadModel
    directory: Directory
    compose: Compose
    key: bytes
    domain: str
    #: the public's report intake, for partners' reports by email (None: refused)
    reports: Reports | None = None
    #: replies taken by this server (the read model may not have read their audit yet)
    recent: set[tuple[str, str]] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        """Only a task's reply address, from the person it was made for."""
        return await temporarily(self.recipient(envelope, address), "a recipient")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Read the reply and act on it (once per Message-ID)."""
        return await temporarily(self.data(envelope), "a message")

    async def recipient(self, envelope: Any, address: str) -> str:
        """RCPT: a partner's report address, or a task's reply address from its person."""
        report = mailin.read_report_address(address, self.domain)
        if report is not None and self.reports is not None:
            partner = self.directory.partner(report.partner)
            if partner is None or not report.valid_for(self.key, partner):
                return "550 5.1.1 No such mailbox (a partner address revoked or rotated?)"
            envelope.rcpt_tos.append(address)
            envelope.concord = ("report", partner.id)
            return "250 2.1.5 OK"
        found = mailin.read_address(address, self.domain)
        task = self.readmodel.tasks.get(found.task_id) if found else None
        if found is None or task is None:
            return "550 5.1.1 No such mailbox: Concord takes replies to its task emails only"
        sender = self.directory.person_by_email(envelope.mail_from or "")
        if sender is None or not found.issued_to(self.key, sender[0]):
            await self.tell_refused(task, envelope.mail_from or "")
            return "550 5.7.1 Only the person this task was sent to may reply to it"
        envelope.rcpt_tos.append(address)
        envelope.concord = (task.id, sender)
        return "250 2.1.5 OK"

    async def data(self, envelope: Any) -> str:
        """DATA: the partner's report, or the reply acted on."""
        raw = bytes(envelope.original_content or envelope.content or b"")
        task_id, who = envelope.concord
        try:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            if task_id == "report" and self.reports is not None:
                partner = self.directory.partner(str(who))
                if partner is None:
                    return "550 5.1.1 No such mailbox"
                async with self.flow.audit_batch():
                    return await reports.take(self.reports, partner, message, envelope.mail_from)
            person, role, agency = who
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            message_id = str(message["Message-ID"] or "").strip()
        except (LookupError, ValueError, TypeError, AttributeError) as exc:
            where = Where("mail", f"{task_id}:{envelope.mail_from}")
            await self.flow.deadletter("intake", where, raw, "unreadable mail", [
                {"loc": "(mail)", "msg": str(exc) or type(exc).__name__}
            ], failure=False)  # fmt: skip
            return "550 5.6.0 The message could not be read"
        message_id = message_id or hashlib.sha256(raw).hexdigest()
        if self.seen(task_id, message_id):
            return "250 2.0.0 Taken already"
        task = self.readmodel.tasks.get(task_id)
        if task is None:
            return "550 5.1.1 No such task"
        reading = mailin.read_reply(mailin.new_text(str(text)))
        outcome = mailin.decide(task, person, role, agency, reading)
        self.recent.add((task_id, message_id))
        async with self.flow.audit_batch():
            await self.act(task, person, outcome, message_id)
        return "250 2.0.0 Taken"

    def seen(self, task_id: str, message_id: str) -> bool:
        """Whether a reply with this Message-ID was taken for the task already: by this
        server just now, or by any (the audit log, as the read model has it)."""
        if (task_id, message_id) in self.recent:
            return True
        entries = self.readmodel.audit.about([task_id])
        return any(
            e.action == REPLIED and e.details.get("message_id") == message_id[:200] for e in entries
        )

    async def act(self, task: Task, person: str, outcome: mailin.Outcome, message_id: str) -> None:
        """Send the task event, keep the note, audit the reply, confirm to the person."""
        if outcome.event is not None:  # in Kafka before the sending server hears 250
            await self.flow.acked(
                self.flow.topics.task_events.send(key=task.id, value=outcome.event)
            )
        details = {"message_id": message_id[:200], "taken": "yes" if outcome.taken else "no"}
        if outcome.note is not None:  # names taken out, as every reader's text is
            details["note"] = cut(scrub(outcome.note, [], self.flow.words))
        details["outcome"] = outcome.detail[:300]
        await self.flow.audit(person, REPLIED, task.id, via="email", **details)
        kind = "reply_taken" if outcome.taken else "reply_not_taken"
        key = hashlib.sha256(message_id.encode()).hexdigest()[:16]
        line = self.said(outcome, person)
        for out in self.compose.notices(kind, task, [person], line, utcnow()):
            keyed = out.message.model_copy(update={"key": f"reply.{key}.{person}"})
            await self.flow.post(out.model_copy(update={"message": keyed}))

    def said(self, outcome: mailin.Outcome, person: str) -> str:
        """The confirmation's line in the person's language: the task's new state in
        words (and the reason given), or what the rules said."""
        if outcome.event is None or outcome.state is None:
            return outcome.detail
        found = recipient_for(self.directory, person)
        language = found[0].language if found else "en"
        words = self.compose.renderer.words(outcome.state, language)
        colon = self.compose.renderer.say(": ", language)  # " : " in French
        return f"{words}{colon}{outcome.event.reason}" if outcome.event.reason else words

    async def tell_refused(self, task: Task, sender: str) -> None:
        """A reply from the wrong address: the coordinators are told, and it is audited."""
        await self.flow.audit(sender[:200] or "unknown", "task.reply_refused", task.id, via="email")
        note = "from an address that is not the liaison's"
        coordinators = [c.id for c in self.directory.coordinators]
        for out in self.compose.notices("reply_refused", task, coordinators, note, utcnow()):
            await self.flow.post(out)
