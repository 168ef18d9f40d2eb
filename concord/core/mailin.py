"""Mail in: which addresses Concord takes mail for, and what a reply to a task says. Pure.

Every task email's Reply-To is `task+<task>.<mac>@<inbound domain>`: the task's id (its
12 hex digits) and a keyed MAC of the task and the person it was sent to, so that a
reply acts as that person only, and a forged or guessed address is refused at RCPT. The
local part stays within SMTP's 64 characters.

A reply's new text (quoted history and signature cut off) is read by its first word:
acknowledge, done or decline (followed by the reason), in the languages of the city.
Anything else is a note on the task's timeline, never silently ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal

from concord.config.directory import Directory
from concord.config.partners import Partner
from concord.core.capin import area_named
from concord.core.tasks import TARGET, may_act, refusal
from concord.streams.signals import Category
from concord.streams.tasks import Task, TaskEvent

#: The prefix of task reply addresses.
TASK = "task+"
_TASK_ADDRESS = re.compile(r"^task\+([0-9a-f]{12})\.([a-z2-7]{16})$")

Action = Literal["ack", "done", "decline"]
#: First words, per action, in the city's languages (lower case, accents kept).
WORDS: dict[Action, tuple[str, ...]] = {
    "ack": (
        "ack", "ok", "okay", "acknowledged", "on it", "received", "yes",
        "reçu", "recu", "pris en charge", "je prends", "oui", "d'accord",
        "ontvangen", "akkoord", "begrepen", "ja", "ik neem het",
        "erhalten", "verstanden", "übernommen",
    ),
    "done": ("done", "finished", "completed", "fait", "terminé", "termine", "fini",
             "gedaan", "klaar", "afgerond", "erledigt", "fertig"),
    "decline": ("decline", "declined", "refuse", "refus", "refusé", "je refuse",
                "weiger", "geweigerd", "niet voor ons", "ablehnen", "abgelehnt"),
}  # fmt: skip
#: Where quoted history begins ("On … wrote:", "Le … a écrit :", "Op … schreef", …).
_QUOTE_START = re.compile(
    r"^(>|-{2,}\s*(original message|message d'origine|oorspronkelijk bericht|"
    r"ursprüngliche nachricht)|(on|le|op|am) .{3,200}(wrote|a écrit|schreef|schrieb)\b.{0,100}$|"
    r"(from|de|van|von)\s*:\s)",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^(-- ?|__+|sent from my .*|envoyé de mon .*|verzonden vanaf .*)$", re.I)


def _mac(secret: bytes, task_id: str, person: str) -> str:
    digest = hmac.new(secret, f"reply\x00{task_id}\x00{person}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().lower()


def reply_address(secret: bytes, task_id: str, person: str, domain: str) -> str:
    """The Reply-To of a task email for `person`."""
    return f"{TASK}{task_id.removeprefix('task-')}.{_mac(secret, task_id, person)}@{domain}"


@dataclass(frozen=True)
class TaskAddress:
    """A reply address, read: the task, and the MAC that says for whom."""

    task_id: str
    mac: str

    def issued_to(self, secret: bytes, person: str) -> bool:
        """Whether the address was made for `person` (constant time)."""
        return hmac.compare_digest(self.mac, _mac(secret, self.task_id, person))


def read_address(address: str, domain: str) -> TaskAddress | None:
    """A task reply address of this domain, or None (anything else is refused)."""
    local, _, host = address.strip().strip("<>").rpartition("@")
    if host.lower() != domain.lower():
        return None
    found = _TASK_ADDRESS.fullmatch(local.lower())
    return TaskAddress(f"task-{found.group(1)}", found.group(2)) if found else None


def new_text(body: str) -> str:
    """What the reply says itself: the lines before the quoted history or signature."""
    kept: list[str] = []
    for line in body.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if _QUOTE_START.match(stripped) or _SIGNATURE.match(stripped):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


@dataclass(frozen=True)
class Reading:
    """What a reply says: an action (and the reason given), or a note."""

    action: Action | None
    text: str


def read_reply(text: str) -> Reading:
    """The reply's first word (or first words: "on it", "pris en charge") as an action,
    the rest as its reason; no known first word: the whole text is a note."""
    first_line = next((line.strip() for line in text.split("\n") if line.strip()), "")
    lowered = first_line.lower()
    best: tuple[int, Action] | None = None
    for action, words in WORDS.items():
        for word in words:
            if re.match(rf"{re.escape(word)}(?![\w'])", lowered) and (
                best is None or len(word) > best[0]
            ):
                best = (len(word), action)
    if best is None:
        return Reading(None, text.strip())
    rest = first_line[best[0] :].lstrip(" \t:;,.-—!")
    others = text.strip()[len(first_line) :].strip()
    reason = "\n".join(t for t in (rest, others) if t)
    return Reading(best[1], reason)


@dataclass(frozen=True)
class Outcome:
    """What a reply does: a task event to send (or none), the note to keep (or none),
    and what the person is told (`taken`: a notice kind; `detail`: its line)."""

    event: TaskEvent | None
    note: str | None
    taken: bool
    detail: str
    state: str | None = None  # the task's state once the event is applied


def decide(task: Task, person: str, role: str, agency: str | None, reading: Reading) -> Outcome:
    """A reply from `person` (whom its address was issued to) through the buttons' rules:
    a refused action says why; no action makes the text a note."""
    if not may_act(task, person, role, agency):
        return Outcome(None, None, False, "the task is no longer yours")
    if reading.action is None:
        if not reading.text:
            return Outcome(None, None, False, "the reply was empty")
        return Outcome(None, reading.text, True, "added to the task as a note")
    reason = reading.text or None
    refused = refusal(task, reading.action, reason=reason)
    if refused is not None:
        return Outcome(None, None, False, refused.reason)
    event = TaskEvent(
        task_id=task.id, action=reading.action, actor=person, via="email", reason=reason
    )
    state = TARGET[reading.action].value
    return Outcome(event, None, True, state + (f": {reason}" if reason else ""), state)


#: The prefix of partner report addresses.
REPORT = "report+"
_REPORT_ADDRESS = re.compile(r"^report\+([a-z0-9][a-z0-9_.-]{0,23})\.(\d{1,3})\.([a-z2-7]{16})$")


def _partner_mac(secret: bytes, partner: str, generation: int) -> str:
    message = f"report\x00{partner}\x00{generation}".encode()
    return (
        base64.b32encode(hmac.new(secret, message, hashlib.sha256).digest()[:10]).decode().lower()
    )


def partner_address(secret: bytes, partner: Partner, domain: str) -> str:
    """A partner organisation's report address (its current generation)."""
    mac = _partner_mac(secret, partner.id, partner.generation)
    return f"{REPORT}{partner.id}.{partner.generation}.{mac}@{domain}"


@dataclass(frozen=True)
class ReportAddress:
    """A partner's report address, read."""

    partner: str
    generation: int
    mac: str

    def valid_for(self, secret: bytes, partner: Partner | None) -> bool:
        """Whether it is the partner's current address (not revoked, not rotated)."""
        if partner is None or partner.revoked or partner.generation != self.generation:
            return False
        return hmac.compare_digest(self.mac, _partner_mac(secret, partner.id, self.generation))


def read_report_address(address: str, domain: str) -> ReportAddress | None:
    """A partner report address of this domain, or None."""
    local, _, host = address.strip().strip("<>").rpartition("@")
    if host.lower() != domain.lower():
        return None
    found = _REPORT_ADDRESS.fullmatch(local.lower())
    if not found:
        return None
    return ReportAddress(found.group(1), int(found.group(2)), found.group(3))


#: The structured block's keys (`Area: Centre`), in the city's languages.
KEYS: dict[str, tuple[str, ...]] = {
    "area": ("area", "quartier", "wijk", "viertel", "zone", "lieu", "plaats", "ort"),
    "category": ("category", "catégorie", "categorie", "kategorie", "type"),
}
_FIELD = re.compile(r"^\s*([^\W\d_][\w' ]{1,20}?)\s*:\s*(.+?)\s*$")


@dataclass(frozen=True)
class Block:
    """What a report mail says in its structured lines, and the rest of its text."""

    area: str | None
    category: str | None
    text: str


def block(text: str, directory: Directory) -> Block:
    """Read `Area: …` and `Category: …` lines (an area's code or any of its names; a
    category's code, or its code in words: `hate speech`); the other lines stay text."""
    area = category = None
    rest: list[str] = []
    for line in text.split("\n"):
        found = _FIELD.match(line)
        key = found.group(1).casefold() if found else ""
        value = found.group(2) if found else ""
        if found and key in KEYS["area"] and area is None:
            area = area_named(value, directory)
            if area is not None:
                continue
        if found and key in KEYS["category"] and category is None:
            code = re.sub(r"[\s-]+", "_", value.casefold())
            if code in Category.__members__:
                category = code
                continue
        rest.append(line)
    return Block(area, category, "\n".join(rest).strip())
