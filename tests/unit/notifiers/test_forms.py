"""The forms of a message each channel sends (concord.notifiers.forms), as a table."""

from __future__ import annotations

from typing import get_args

import pytest

from concord.notifiers import forms
from concord.streams.delivery import PersonChannel


@pytest.mark.parametrize(
    ("channels", "needed"),
    [
        (["slack"], {"slack"}),
        (["email"], {"html"}),
        (["teams"], {"card"}),
        (["matrix"], {"card"}),
        (["mattermost"], {"card"}),
        (["rocketchat"], {"card"}),
        (["webhook"], set()),
        (["slack", "email"], {"slack", "html"}),  # a fallback's form is rendered too
        (["matrix", "email"], {"card", "html"}),
        (["pager"], {"html", "slack", "card"}),  # a channel not in the table: every form
        ([], set()),
    ],
)
def test_a_message_is_rendered_in_the_forms_of_its_channels(
    channels: list[str], needed: set[str]
) -> None:
    assert forms.of(channels) == needed


def test_every_channel_a_person_can_have_is_in_the_table() -> None:
    # A channel missing here would get every form: correct, but rendered for nothing.
    assert set(get_args(PersonChannel)) <= set(forms.BY_CHANNEL)
