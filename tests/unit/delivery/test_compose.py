"""What a task's message says (concord.delivery.compose): its title, what, where and when,
names not ids, in the liaison's language; nothing from a report."""

from __future__ import annotations

from datetime import UTC, datetime

from concord.notifiers.render import Renderer
from concord.streams.delivery import DeliveryRecord
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


def test_a_referral_tells_the_body_what_where_when_in_its_language_and_nothing_written() -> None:
    from concord.config.bodies import Body
    from concord.streams.signals import SignalIn

    compose = composer(speaking(Renderer("Europe/Brussels", "https://c.example/")))
    signal = SignalIn.model_validate(
        {
            "id": "report-abc",
            "kind": "incident",
            "category": "discrimination",
            "severity": 2,
            "occurred_at": WHEN.isoformat(),
            "area": "south",
            "source": {"type": "public", "name": "Report form"},
            "summary": "Mr Janssens refused to rent to Amina Diallo.",
            "persons": [{"role": "victim", "contact": "amina@example.org"}],
        }
    )
    body = Body.model_validate(
        {
            "id": "inspection",
            "name": "Inspection",
            "names": {"fr": "l'Inspection du travail"},
            "language": "fr",
            "email": "inspection@example.org",
            "matrix_room": "#signalements:region.example",
            "channels": ["matrix", "teams", "email"],  # no Teams address: skipped
        }
    )
    out = compose.referral(body, signal, "competent", False, "https://c.example/referrals/T", WHEN)
    assert out.kind == "referral"
    assert out.channels == ["matrix", "email"]
    assert out.key == "referral.report-abc.inspection"  # once per report and body
    message = out.message
    assert message.recipient.email == "inspection@example.org"
    assert message.recipient.matrix_room == "#signalements:region.example"
    assert message.subject == (
        "[Concord] Un signalement transmis à l'Inspection du travail : discrimination — Zuidwijk"
    )
    assert "https://c.example/referrals/T" in message.text
    assert "5 déc. 2026 20:42" in message.text
    assert "expurgée" in message.text  # no consent to share: the body is told
    shown = message.model_dump_json()
    for written in ("Janssens", "Amina", "amina@example.org", "refused"):
        assert written not in shown
    assert message.card is not None
    assert [a.url for a in message.card.actions] == ["https://c.example/referrals/T"]
    assert message.slack_text == ""  # on Matrix and email: no Slack form
    assert message.slack_blocks == []


def test_a_task_message_is_rendered_for_its_channels_and_their_fallbacks_only() -> None:
    compose = composer(speaking(Renderer("Europe/Brussels", "https://c.example/")))
    task = make_task(agency="police", assignee="police-duty", created_at=WHEN, updated_at=WHEN)
    out = compose.task_message(task, WHEN)
    assert out is not None
    assert out.channels == ["slack", "email"]  # the directory's channels of police-duty
    assert out.message.slack_blocks
    assert out.message.html
    assert out.message.card is None  # no chat channel among them
    only = compose.task_message(task.model_copy(update={"channels": ["slack"]}), WHEN)
    assert only is not None
    assert only.channels == ["slack"]
    assert only.message.slack_blocks
    assert only.message.html == ""
    assert only.message.card is None


def test_the_coordinators_notice_of_a_failed_message_is_in_their_channels_forms_only() -> None:
    compose = composer(speaking(Renderer("Europe/Brussels", "https://c.example/")))
    task = make_task(agency="police", assignee="police-duty", created_at=WHEN, updated_at=WHEN)
    out = compose.task_message(task, WHEN)
    assert out is not None
    record = DeliveryRecord(
        key=out.key,
        kind="task",
        subject=task.id,
        recipient="police-duty",
        channels=out.channels,
        deadline=WHEN,
        created_at=WHEN,
        updated_at=WHEN,
    )
    (notice,) = compose.delivery_trouble(record, out, "failed", "refused", WHEN)
    assert notice.channels == ["email", "slack"]  # the coordinator's
    assert notice.message.slack_blocks
    assert notice.message.card is None
