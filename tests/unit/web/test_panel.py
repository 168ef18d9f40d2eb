"""The panel's analysis page shows the bias indicators the reports give, in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from concord.streams.situations import Situation
from concord.web.panel import indicators_of
from concord.web.reportwords import INDICATOR_WORDS
from concord.web.site import Pages
from tests.unit.factories import DIRECTORY, html, make_situation, review_of

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def review_page(s: Situation, lang: str) -> str:
    """The review page of a situation, as the panel reads it in `lang`."""
    return html(
        Pages("Europe/Brussels", DIRECTORY).render(
            "review.html", lang=lang, r=review_of(s, NOW), analysis="", can_vote=False,
            said={}, refs=s.signals, indicators=indicators_of(s),
            indicator_words=INDICATOR_WORDS, mine=None, csrf="", playbooks=[],
            notice=None, error=None,
        )
    )  # fmt: skip


def test_the_analysis_page_names_the_bias_indicators_in_the_readers_language() -> None:
    s = make_situation(category="vandalism")
    first = s.signals[0].model_copy(update={"id": "a", "indicators": ["symbols", "location"]})
    second = s.signals[0].model_copy(update={"id": "b", "indicators": ["location", "language"]})
    s = s.model_copy(update={"signals": [first, second]})
    assert indicators_of(s) == ["symbols", "location", "language"]
    page = review_page(s, "fr")
    shown = re.search(r'<p id="indicators">(.*?)</p>', page)
    assert shown is not None
    assert "Des symboles, graffitis, gestes ou drapeaux" in shown.group(1)
    assert "Le lieu compte" in shown.group(1)
    assert "symbols" not in shown.group(1)  # words, never codes


def test_no_indicator_no_line() -> None:
    s = make_situation()
    page = review_page(s, "en")
    assert 'id="indicators"' not in page
