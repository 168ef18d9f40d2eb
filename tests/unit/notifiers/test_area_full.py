"""concord.notifiers.area_full: the coordinators' notice that an area is full."""

from __future__ import annotations

from concord.notifiers.area_full import full_notice
from concord.notifiers.render import Renderer
from tests.unit.factories import make_recipient, make_situation, speaking


def test_the_notice_says_how_full_and_links_the_largest_situation_in_every_form() -> None:
    renderer = speaking(Renderer("Europe/Brussels", "https://c.example"))
    largest = make_situation().model_copy(update={"exercise": True})
    message = full_notice(renderer, "Zuidwijk", 905, largest, make_recipient("nl"))
    link = f"https://c.example/board/{largest.id}"
    assert "Vol: Zuidwijk, 905 meldingen" in message.subject
    assert link in message.text
    assert "concord deadletter replay --all" in message.slack_text
    assert message.card is not None
    assert [(a.label, a.url) for a in message.card.actions] == [("Open de situatie", link)]
    assert message.card.banner  # a drill is marked as one
    assert message.exercise
