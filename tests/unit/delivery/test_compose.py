"""What a task's message says (concord.delivery.compose): its title, what, where and when,
names not ids, in the liaison's language; nothing from a report."""

from __future__ import annotations

from datetime import UTC, datetime

from concord.notifiers.render import Renderer
from tests.unit.factories import composer, make_task, speaking

WHEN = datetime(2026, 12, 5, 19, 42, tzinfo=UTC)


def test_the_police_task_in_slack_and_email_says_what_where_when_by_name() -> None:
    compose = composer(speaking(Renderer("Europe/Brussels", "https://c.example/")))
    task = make_task(
        agency="police",
        assignee="police-duty",
        title="Record the offence and secure evidence",
        action="Record the vandalism in Centre-ville as a hate crime.",
        translations={
            "fr": {
                "title": "Acter l'infraction et préserver les preuves",
                "action": "Actez le vandalisme à Centre-ville comme crime de haine.",
            }
        },
        area="centre",
        areas=["centre"],
        occurred_at=WHEN,
        created_at=WHEN,
        updated_at=WHEN,
    )
    out = compose.task_message(task, WHEN)
    assert out is not None
    message = out.message
    assert message.recipient.language == "fr"
    lines = message.slack_text.splitlines()
    assert lines[0] == "*Acter l'infraction et préserver les preuves*"  # the title first
    assert lines[1].startswith("Centre-ville · 5 déc. 2026 20:42")  # where, when (city time)
    assert "Tâche pour" not in message.slack_text
    assert "Concord a une tâche pour votre service (Police" in message.text
    assert "Quand : 5 déc. 2026 20:42" in message.text
    for text in (message.text, message.slack_text, message.subject):
        assert "police-duty" not in text
