"""The pages' languages (concord.web.i18n): complete catalogues, the reader's language."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from babel.messages.pofile import read_po

from concord.web.i18n import WORDS, Catalogues, catalogue_path, preferred
from tests.unit.factories import ROOT

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture(scope="module")
def catalogues() -> Catalogues:
    return Catalogues("Europe/Brussels")


def test_the_template_of_messages_is_current() -> None:
    # A page's new words are in the catalogues' template (and so, below, translated).
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "extract-messages"), "--check"],
        capture_output=True,
    )
    assert result.returncode == 0, "run scripts/extract-messages, translate, and commit"


@pytest.mark.parametrize("language", ["fr", "nl", "de"])
def test_every_word_of_pages_and_messages_is_translated_with_its_placeholders(
    language: str,
) -> None:
    pot = read_po((ROOT / "concord" / "web" / "locales" / "concord.pot").open("rb"))
    po = read_po(catalogue_path(language).open("rb"), locale=language)
    missing, broken = [], []
    for message in pot:
        if not message.id:
            continue
        found = po.get(message.id)
        if found is None or not found.string:
            missing.append(message.id)
        elif set(PLACEHOLDER.findall(str(message.id))) != set(
            PLACEHOLDER.findall(str(found.string))
        ):
            broken.append(message.id)
    assert missing == []
    assert broken == []


def test_codes_read_as_words_in_each_language(catalogues: Catalogues) -> None:
    assert catalogues.words("hate_crime", "en") == "hate crime"
    assert catalogues.words("hate_crime", "fr") == "crime de haine"
    assert catalogues.words("under_review", "nl") == "in beoordeling"
    assert catalogues.words("not-a-code", "fr") == "not-a-code"
    assert set(WORDS) >= {"open", "closed", "acknowledged", "overdue", "anti_roma"}


def test_times_and_durations_are_written_the_readers_way(catalogues: Catalogues) -> None:
    at = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)  # 14:05 in Brussels
    assert catalogues.time(at, "fr") == "2 déc. 2026 14:05"
    assert catalogues.time(at, "en") == "Dec 2, 2026 14:05"
    assert catalogues.time(None, "nl") == "—"
    assert catalogues.duration(400, "nl") == "7 minuten"


def test_the_language_of_someone_not_signed_in(catalogues: Catalogues) -> None:
    assert list(preferred("fr-BE,fr;q=0.9,en;q=0.5")) == ["fr", "en"]
    assert list(preferred("en;q=0.2, nl")) == ["nl", "en"]
    assert list(preferred("*, de;q=0, xx;q=bad")) == []
    assert catalogues.choose("nl", "fr") == "nl"  # ?lang= wins
    assert catalogues.choose("xx", "es,fr;q=0.5") == "fr"  # else the browser's
    assert catalogues.choose("xx", "de,fr;q=0.5") == "de"  # German is one catalogue
    assert catalogues.choose(None, "es", default="nl") == "nl"  # else the city's
    assert catalogues.choose(None, None, default="xx") == "en"


def _gettext_calls(source: str) -> list[tuple[int, str]]:
    """Every `_()` / `gettext()` in a template whose message is not a literal string."""
    from jinja2 import Environment, nodes

    env = Environment(extensions=["jinja2.ext.i18n"])
    found = []
    for call in env.parse(source).find_all(nodes.Call):
        name = getattr(call.node, "name", None)
        literal = bool(call.args) and isinstance(call.args[0], nodes.Const)
        if name in ("_", "gettext", "ngettext", "pgettext") and not literal:
            found.append((call.lineno, type(call.args[0]).__name__ if call.args else ""))
    return found


def test_templates_translate_only_literal_strings() -> None:
    """`_()` marks its result safe and fills `%(x)s`: given a value from a request, it
    would let markup through and fail on a `%`. Values go through `|msg` (a lookup,
    escaped) or `|words`."""
    folders = [ROOT / "concord" / "web" / "templates", ROOT / "concord" / "notifiers" / "templates"]
    offenders = {
        p.name: calls
        for folder in folders
        for p in sorted(folder.iterdir())
        if p.is_file() and (calls := _gettext_calls(p.read_text()))
    }
    assert offenders == {}
    assert _gettext_calls("{{ _(error) }}") == [(1, "Name")]  # the check can fail


def test_msg_is_a_lookup_that_never_formats_or_marks_safe(catalogues: Catalogues) -> None:
    assert catalogues.message("No such task for you.", "fr") == "Aucune tâche de ce nom pour vous."
    assert catalogues.message("50% <b>", "fr") == "50% <b>"
    assert catalogues.message("%(x)s left", "en", {"y": 1}) == "%(x)s left"
    assert type(catalogues.message("Not available.", "nl")) is str
