"""What to send to whom: every outbound message, rendered, as an `Outgoing` for the delivery
stage. The stages that decide (track, the panel's gate, sign-in) ask here and post the
result; none of them talks to a carrier.

Deadlines (how long delivery keeps trying before falling back):

- a task message: until the task would escalate or is due, whichever comes first (else
  the notice horizon);
- a notice about a task, a panel notice: the horizon (`CONCORD_DELIVERY_HORIZON_HOURS`);
- a sign-in link: its own lifetime (15 minutes): later it could not be used anyway;
- a referral to a competent body: as long as its link lives (`REFERRAL_DAYS`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from concord.access.links import LOGIN_MAX_AGE, REFERRAL_DAYS, Signer, TaskLink, VoteLink
from concord.config.bodies import Body
from concord.config.directory import Directory, Liaison, PanelMember
from concord.core.mailin import reply_address
from concord.notifiers import forms
from concord.notifiers.area_full import full_notice
from concord.notifiers.recipients import chat, panel_channel, recipient_for
from concord.notifiers.referral import mail_receipt, referral_message
from concord.notifiers.render import Renderer
from concord.streams.delivery import DeliveryRecord, Kind, Message, Outgoing, Recipient
from concord.streams.reviews import ReviewRecord
from concord.streams.signals import SignalIn
from concord.streams.situations import Situation
from concord.streams.tasks import Task


class Compose:
    """Builds the `Outgoing` messages of one installation."""

    def __init__(
        self,
        directory: Directory,
        renderer: Renderer,
        signer: Signer,
        links_base: str,
        horizon: timedelta,
        reply_domain: str | None = None,
    ) -> None:
        #: where replies to task emails go (`CONCORD_INBOUND_DOMAIN`); None: no Reply-To
        self.reply_domain = reply_domain
        self.directory = directory
        self.renderer = renderer
        # Messages name agencies and people, never show their ids.
        renderer.names = {a.id: a.name for a in directory.agencies} | directory.people()
        spoken = {*directory.city.languages, *(p.language for p in _people(directory))}
        renderer.local_names = {lang: directory.agency_names(lang) for lang in sorted(spoken)}
        self.signer = signer
        self.links_base = links_base
        self.horizon = horizon

    def _outgoing(
        self,
        kind: Kind,
        subject: str,
        order: str,
        message: Message,
        channels: list[str],
        now: datetime,
        deadline: datetime | None = None,
        report_task: str | None = None,
        tell_on_failure: bool = True,
        label: str = "",
        agency: str | None = None,
    ) -> Outgoing:
        return Outgoing(
            label=label or message.subject,
            agency=agency,
            kind=kind,
            subject=subject,
            order=order,
            message=message,
            channels=channels,
            deadline=deadline or now + self.horizon,
            created_at=now,
            report_task=report_task,
            tell_on_failure=tell_on_failure,
        )

    def place(self, task: Task, language: str = "") -> str:
        """Where a task happened, in `language`: its areas' names."""
        return self.directory.place(task.areas or [task.area], language)

    def task_message(self, task: Task, now: datetime) -> Outgoing | None:
        """The task for its assignee, with signed action links; None when the directory
        no longer knows the assignee."""
        found = recipient_for(self.directory, task.assignee) if task.assignee else None
        if found is None:
            return None
        recipient, channels = found
        links = {
            action: self.links_base + self.signer.task_link(TaskLink(task.id, recipient.id, action))
            for action in ("ack", "decline", "done")
        }
        place = self.place(task, recipient.language)
        chain = list(task.channels or channels)
        message = self.renderer.task_message(task, recipient, place, links, forms.of(chain))
        if self.reply_domain:
            address = reply_address(self.signer.reply_key, task.id, recipient.id, self.reply_domain)
            message = message.model_copy(update={"reply_to": address})
        ends = [now + task.escalate_after] if task.escalate_after else []
        ends += [task.due] if task.due else []
        return self._outgoing(
            "task",
            task.id,
            task.id,
            message,
            chain,
            now,
            deadline=min(ends) if ends else None,
            report_task=task.id,
            label=task.title,
            agency=task.agency,
        )

    def notices(
        self,
        kind: str,
        task: Task,
        to: list[str],
        note: str,
        now: datetime,
        at: datetime | None = None,
    ) -> list[Outgoing]:
        """A notice about a task (declined, escalated, unassignable, reminder, repeat, ...)
        for each person in `to` the directory still knows; `at`: when a repeat happened
        (in the task's latest area)."""
        out = []
        for person in to:
            found = recipient_for(self.directory, person)
            if found is None:
                continue
            recipient, channels = found
            lang = recipient.language
            where = self.directory.place([task.area], lang)
            place = self.place(task, lang)
            kept = forms.of(channels)
            message = self.renderer.notice_message(
                kind, task, recipient, place, note, at, where, kept
            )
            out.append(self._outgoing("notice", task.id, task.id, message, channels, now))
        return out

    def slack_update(
        self, task: Task, ref: str, actor: str, shown_to: str, n: int, now: datetime
    ) -> Outgoing | None:
        """The new state of a task on the Slack message that announced it."""
        found = recipient_for(self.directory, shown_to)
        if found is None:
            return None
        recipient = found[0]
        text, blocks = self.renderer.task_status(task, actor, recipient.language)
        message = Message(
            key=f"{task.id}.update.{recipient.id}.{n}",
            recipient=recipient,
            subject=text,
            text=text,
            slack_text=text,
            slack_blocks=blocks,
            exercise=task.exercise,
            update_ref=ref,
        )
        return self._outgoing(
            "update", task.id, task.id, message, ["slack"], now, tell_on_failure=False
        )

    def review_recipients(self, kind: str) -> list[tuple[Recipient, list[str]]]:
        """Who hears of a review notice, and on which channels."""
        d = self.directory
        out: list[tuple[Recipient, list[str]]] = []
        channel = panel_channel(d)
        if channel is not None:
            out.append(channel)
        people = d.coordinators if kind in ("no_quorum", "stalled") else d.panel.members
        for m in people:
            found = recipient_for(d, m.id)
            if found is not None and found[0].email:
                out.append((found[0], ["email"]))  # the panel's Slack is its channel message
        return out

    def review_notices(
        self, record: ReviewRecord, kind: str, version: int, now: datetime
    ) -> list[Outgoing]:
        """A panel notice (opened, amended, reminder, approved, ...) for each recipient;
        members' emails carry their own signed vote links."""
        name = self.directory.place([record.area])
        members = {m.id for m in self.directory.panel.members}
        out = []
        for recipient, channels in self.review_recipients(kind):
            links = None
            if recipient.email and recipient.id in members:
                links = {
                    d: self.links_base
                    + self.signer.vote_link(VoteLink(record.situation_id, recipient.id, version, d))
                    for d in ("approve", "reject", "conflict")
                }
            kept = forms.of(channels)
            message = self.renderer.review_message(record, kind, recipient, name, links, kept)
            subject = f"review:{record.situation_id}"
            out.append(self._outgoing("review", subject, subject, message, channels, now))
        return out

    def sign_in(self, person: str, email: str, text: str, token: str, now: datetime) -> Outgoing:
        """A sign-in link (`text` already rendered), for as long as the link lives."""
        found = recipient_for(self.directory, person)
        name = found[0].name if found else person
        language = found[0].language if found else "en"
        message = Message(
            key=f"login.{person}.{token[-12:]}",
            recipient=Recipient(id=person, name=name, language=language, email=email),
            subject="[Concord] Sign-in link / Lien de connexion / Aanmeldlink",
            text=text,
        )
        return self._outgoing(
            "sign_in",
            f"login:{person}",
            f"login:{person}",
            message,
            ["email"],
            now,
            deadline=now + timedelta(seconds=LOGIN_MAX_AGE),
            tell_on_failure=False,
        )

    def referral(
        self, body: Body, signal: SignalIn, why: str, shared: bool, link: str, now: datetime
    ) -> Outgoing:
        """A report referred to a competent body, on its referral channels (until the
        link expires)."""
        recipient = Recipient(
            id=f"body.{body.id}",
            name=body.name,
            language=body.language,
            email=str(body.email) if body.email else None,
            **chat(body),
        )
        facts = {
            "why": why,
            "shared": shared,
            "city": self.directory.city.name,
            "body_name": body.name_in(body.language),
            "category": signal.category.value,
            "area_name": self.directory.place([signal.area], body.language),
            "occurred_at": signal.occurred_at,
            "exercise": signal.exercise,
        }
        key = f"referral.{signal.id}.{body.id}"
        channels: list[str] = [
            c for c in body.channels if c == "email" or c in body.chat_channels()
        ] or ["email"]
        kept = forms.of(channels)
        message = referral_message(self.renderer, key, recipient, link, facts, kept)
        return self._outgoing(
            "referral",
            signal.id,
            f"referral:{body.id}",
            message,
            channels,
            now,
            deadline=now + timedelta(days=REFERRAL_DAYS),
        )

    def mail_receipt(
        self,
        to: str,
        language: str,
        receipt: str,
        waiting: bool,
        refused: list[tuple[str, str]],
        now: datetime,
    ) -> Outgoing:
        """The receipt of a report sent by email, to whoever sent it, by email."""
        recipient = Recipient(id=f"mail:{receipt}", name=to, language=language, email=to)
        link = f"{self.renderer.public_url}/report/{receipt}?lang={language}"
        facts = {"receipt": receipt, "waiting": waiting, "refused": refused, "link": link}
        message = mail_receipt(
            self.renderer, recipient, {**facts, "city": self.directory.city.name}
        )
        subject = f"report-{receipt}"
        return self._outgoing(
            "notice", subject, subject, message, ["email"], now, tell_on_failure=False
        )

    def delivery_trouble(
        self, record: DeliveryRecord, outgoing: Outgoing, what: str, why: str, now: datetime
    ) -> list[Outgoing]:
        """Tell the coordinators that a message fell back to another channel or could not
        be delivered at all (never about a message to the coordinators themselves)."""
        out = []
        for coordinator in self.directory.coordinators:
            if coordinator.id == record.recipient:
                continue
            found = recipient_for(self.directory, coordinator.id)
            if found is None:
                continue
            recipient, channels = found
            kept = forms.of(channels)
            message = self.renderer.delivery_notice(record, outgoing, recipient, what, why, kept)
            out.append(
                self._outgoing(
                    "notice",
                    record.subject,
                    record.subject,
                    message,
                    channels,
                    now,
                    tell_on_failure=False,
                )
            )
        return out

    def area_full(self, area: str, count: int, largest: Situation, now: datetime) -> list[Outgoing]:
        """Tell the coordinators that an area is full (its open situations hold `count`
        signals): further reports there are dead letters until one of them closes or
        splits a situation (the link: the largest)."""
        found_area = self.directory.area(area)
        name = found_area.name if found_area else area
        out = []
        for coordinator in self.directory.coordinators:
            found = recipient_for(self.directory, coordinator.id)
            if found is None:
                continue
            recipient, channels = found
            kept = forms.of(channels)
            message = full_notice(self.renderer, name, count, largest, recipient, kept)
            subject = largest.id
            out.append(
                self._outgoing(
                    "notice", subject, subject, message, channels, now, tell_on_failure=False
                )
            )
        return out


def _people(directory: Directory) -> list[Liaison | PanelMember]:
    """Everyone a message may be for: liaisons, panel members, coordinators."""
    liaisons: list[Liaison | PanelMember] = [x for a in directory.agencies for x in a.liaisons]
    return liaisons + directory.panel.members + directory.coordinators
