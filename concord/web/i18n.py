"""The pages' languages: gettext catalogues (one `.po` per language, read with Babel),
the reader's language, and dates in the reader's locale.

Every page says its words through `_()` in its template; `locales/{lang}/LC_MESSAGES/
concord.po` translates them (English is the source). The catalogues are compiled in
memory when a worker starts, so there is no build step; `tests/unit/web/test_i18n.py`
fails when a page's words miss a translation.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from concord.common import dates

LOCALES = Path(__file__).parent / "locales"
DOMAIN = "concord"
#: The source language of the templates.
SOURCE = "en"


def N_(message: str) -> str:
    """Mark a string for the catalogues (the page translates it when it renders)."""
    return message


#: The words for the codes pages show (categories, states, roles, ...); `|words` in a
#: template translates them. A code missing here is shown as it is.
WORDS = {
    "hate_crime": N_("hate crime"),
    "hate_speech": N_("hate speech"),
    "online_hate": N_("online hate"),
    "discrimination": N_("discrimination"),
    "harassment": N_("harassment"),
    "vandalism": N_("vandalism"),
    "intergroup_conflict": N_("conflict between groups"),
    "rumour": N_("rumour"),
    "demonstration": N_("demonstration"),
    "other": N_("other"),
    "anti_muslim": N_("anti-Muslim"),
    "anti_black": N_("anti-Black"),
    "antisemitic": N_("antisemitic"),
    "anti_roma": N_("anti-Roma"),
    "anti_migrant": N_("anti-migrant"),
    "anti_asian": N_("anti-Asian"),
    "open": N_("open"),
    "under_review": N_("under review"),
    "responding": N_("responding"),
    "monitoring": N_("monitoring"),
    "closed": N_("closed"),
    "pending": N_("pending"),
    "assigned": N_("assigned"),
    "acknowledged": N_("acknowledged"),
    "declined": N_("declined"),
    "done": N_("done"),
    "escalated": N_("escalated"),
    "reassigned": N_("reassigned"),
    "cancelled": N_("cancelled"),
    "failed": N_("failed"),
    "delivered": N_("delivered"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "approve": N_("approve"),
    "amend": N_("amend"),
    "reject": N_("reject"),
    "conflict": N_("conflict of interest"),
    "low": N_("low"),
    "moderate": N_("moderate"),
    "high": N_("high"),
    "critical": N_("critical"),
    "overdue": N_("overdue"),
    "undeliverable": N_("undeliverable"),
    "delayed": N_("delayed"),
    "victim": N_("victim"),
    "witness": N_("witness"),
    "reporter": N_("reporter"),
    "panel": N_("panel"),
    "coordinator": N_("coordinator"),
    "liaison": N_("liaison"),
    "operator": N_("operator"),
    "producer": N_("producer"),
    "time_limit": N_("the time limit"),
    "signal": N_("report"),
    "decision": N_("playbook"),
    "vote": N_("vote"),
    "task": N_("task"),
    "delivery": N_("delivery"),
    "situation": N_("situation"),
    # how a decision went, how a message left, who reported
    "fired": N_("fired"),
    "suppressed": N_("held back (quiet period)"),
    "inhibited": N_("held back (a more specific playbook)"),
    "retrying": N_("retrying"),
    "withdrawn": N_("withdrawn"),
    "slack": N_("Slack"),
    "email": N_("email"),
    "ngo": N_("an association"),
    "school": N_("a school"),
    "police": N_("the police"),
    "public": N_("a resident"),
    "monitoring_service": N_("monitoring"),
    "consented": N_("with consent"),
    "roles": N_("roles only"),
    "full": N_("full"),
    "none": N_("none"),
    "concord": N_("Concord"),
    # what happened to a situation or a task (the audit's actions, on the timeline)
    "playbook.fired": N_("playbook fired"),
    "playbook.repeated": N_("happened again"),
    "playbook.suppressed": N_("playbook held back"),
    "playbook.inhibited": N_("playbook held back"),
    "playbook.failed": N_("playbook could not plan"),
    "review.released": N_("released by the panel"),
    "situation.state": N_("state changed"),
    "situation.split": N_("split"),
    "situation.merge": N_("merged"),
    "situation.refused": N_("change refused"),
    "task.delivered": N_("delivered"),
    "task.delivery_failed": N_("not delivered"),
    "task.replied": N_("replied by email"),
    "task.reply_refused": N_("reply by email refused (not the liaison's address)"),
    # the analysis: a signal's kind, the trend of an area
    "incident": N_("incident"),
    "tension": N_("tension"),
    "rising": N_("rising"),
    "falling": N_("falling"),
    "steady": N_("steady"),
    "municipality": N_("the municipality"),
    "web": N_("web page"),
    "api": N_("API"),
    "link": N_("email link"),
}


#: Words the templates pick from a literal table (`_({...}[key])`), marked here so the
#: catalogues have them.
PICKED = (
    N_("Acknowledge"),
    N_("Decline"),
    N_("Done"),
    N_("Incidents by month"),
    N_("Incidents by category"),
    N_("Incidents by area"),
    N_("Incidents by bias"),
)


def catalogue_path(language: str) -> Path:
    """The catalogue file of a language (`web/locales/<lang>/LC_MESSAGES/concord.po`)."""
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def available() -> list[str]:
    """The languages with a catalogue, and the source language."""
    if not LOCALES.is_dir():
        return [SOURCE]
    found = sorted(p.name for p in LOCALES.iterdir() if catalogue_path(p.name).exists())
    return [SOURCE, *found]


class Catalogues:
    """The translations of every language the pages speak."""

    def __init__(self, timezone: str) -> None:
        self.tz = ZoneInfo(timezone)
        self.languages = available()
        self._translations: dict[str, gettext.NullTranslations] = {
            SOURCE: gettext.NullTranslations()
        }
        for language in self.languages[1:]:
            with catalogue_path(language).open("rb") as po:
                catalog = read_po(po, locale=language, domain=DOMAIN)
            compiled = io.BytesIO()
            write_mo(compiled, catalog)
            compiled.seek(0)
            self._translations[language] = Translations(compiled, domain=DOMAIN)

    def translations(self, language: str) -> gettext.NullTranslations:
        """The compiled translations of a language (the source language's when it has none)."""
        return self._translations.get(language, self._translations[SOURCE])

    def words(self, code: str, language: str) -> str:
        """A code in plain words (`hate_crime` -> `hate crime`, `crime de haine`)."""
        return self.translations(language).gettext(WORDS.get(code, code))

    def message(self, message_id: str, language: str, values: dict[str, Any] | None = None) -> str:
        """`{{ x|msg }}`: a message id chosen in Python (marked `N_` where it is written),
        in the reader's language. A lookup only: the text comes back as plain text (the
        page escapes it), so a value that is not a message id, such as a refusal's text
        or whatever a request carried, is shown as it is, escaped. `values` fill the
        message's `%(name)s` places; text that is not a format is shown unfilled."""
        text = self.translations(language).gettext(message_id)
        if not values:
            return text
        try:
            return text % values
        except (KeyError, ValueError, TypeError):
            return text

    def speaks(self, language: str | None) -> bool:
        """Whether the pages speak this language."""
        return language in self._translations

    def time(self, value: datetime | None, language: str, missing: str = "—") -> str:
        """A time in the city's zone, written the reader's way (`1 déc. 2026, 14:05`)."""
        if value is None:
            return missing
        return dates.written(value, self.tz, language)

    def duration(self, seconds: float | None, language: str, missing: str = "—") -> str:
        """A duration the reader's way (`3 minutes`, `2 heures`)."""
        if seconds is None:
            return missing
        return format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=language)

    def choose(self, asked: str | None, accept_language: str | None, default: str = SOURCE) -> str:
        """The language of a page for someone not signed in: `?lang=`, else the
        browser's Accept-Language, else `default`."""
        if asked and self.speaks(asked):
            return asked
        for language in preferred(accept_language or ""):
            if self.speaks(language):
                return language
        return default if self.speaks(default) else SOURCE


def preferred(header: str) -> Iterable[str]:
    """The primary languages of an Accept-Language header, most wanted first
    (`fr-BE,fr;q=0.9,en;q=0.5` -> fr, en)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.split("-", 1)[0].strip().lower()
        if language and language != "*" and quality > 0:
            weighted.append((-quality, index, language))
    seen: set[str] = set()
    for _, _, language in sorted(weighted):
        if language not in seen:
            seen.add(language)
            yield language
