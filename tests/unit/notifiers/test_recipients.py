"""Who a person is, as the notifiers see them (concord.notifiers.recipients)."""

from __future__ import annotations

from concord.common.secrets import SecretRef
from concord.notifiers.recipients import panel_channel, recipient_for
from tests.unit.factories import DIRECTORY

TEAMS = SecretRef(env="TEAMS_X")


def test_a_liaison_without_a_chat_address_of_its_own_has_its_agencys() -> None:
    recipient, channels = recipient_for(DIRECTORY, "equality-duty") or (None, [])
    assert recipient is not None
    assert recipient.teams_webhook == SecretRef(env="CONCORD_TEAMS_EQUALITY")
    assert channels == ["teams", "email"]
    housing, _ = recipient_for(DIRECTORY, "housing-duty") or (None, [])
    assert housing is not None
    assert housing.matrix_room == "#logement:concordia.example"


def test_a_coordinator_is_tried_on_email_slack_then_their_chats() -> None:
    coord = DIRECTORY.coordinators[0].model_copy(update={"teams_webhook": TEAMS})
    directory = DIRECTORY.model_copy(update={"coordinators": [coord]})
    recipient, channels = recipient_for(directory, coord.id) or (None, [])
    assert recipient is not None
    assert recipient.teams_webhook == TEAMS
    assert channels == ["email", "slack", "teams"]


def test_the_panels_channel_may_be_a_chat() -> None:
    found = panel_channel(DIRECTORY)
    assert found is not None
    assert found[1] == ["slack"]  # the example city's panel is on Slack
    panel = DIRECTORY.panel.model_copy(
        update={"slack_channel": None, "teams_webhook": TEAMS, "channels": ["teams"]}
    )
    found = panel_channel(DIRECTORY.model_copy(update={"panel": panel}))
    assert found is not None
    assert (found[0].teams_webhook, found[1]) == (TEAMS, ["teams"])
    nothing = panel.model_copy(update={"teams_webhook": None})
    assert panel_channel(DIRECTORY.model_copy(update={"panel": nothing})) is None
