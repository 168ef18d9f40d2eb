"""concord.access.tokens.token_refusal: a token acts as someone the directory knows."""

from __future__ import annotations

from concord.access.tokens import token_refusal
from concord.config.directory import Directory


def test_a_liaison_token_names_a_liaison_of_its_agency(directory: Directory) -> None:
    assert token_refusal(directory, "police-duty", "liaison", "police") is None
    assert token_refusal(directory, "police-chief", "liaison", "police") is None
    # The NGO's liaison on the police's tasks would see persons at the NGO's level.
    why = token_refusal(directory, "ngo-duty", "liaison", "police")
    assert (
        why
        == "a liaison token is named after a liaison of police: one of police-duty, police-chief"
    )
    assert token_refusal(directory, "made-up", "liaison", "police") == why
    assert (
        token_refusal(directory, "police-duty", "liaison", None) == "a liaison token needs --agency"
    )
    assert token_refusal(directory, "x", "liaison", "nasa") == "unknown agency 'nasa'"


def test_a_panel_token_names_a_member(directory: Directory) -> None:
    assert token_refusal(directory, "panel-researcher", "panel", None) is None
    assert "named after its member" in (token_refusal(directory, "someone", "panel", None) or "")


def test_other_roles_take_any_name_but_no_agency(directory: Directory) -> None:
    assert token_refusal(directory, "ngo-feed", "producer", None) is None
    assert token_refusal(directory, "city-dashboard", "coordinator", None) is None
    assert (
        token_refusal(directory, "x", "producer", "police") == "--agency is only for liaison tokens"
    )
