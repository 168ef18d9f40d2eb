"""Who sees which personal data: sharing level x consent x task state."""

from __future__ import annotations

import pytest

from concord.config.directory import Directory, Sharing
from concord.core.disclosure import (
    NotDisclosed,
    NotYours,
    PersonView,
    check_access,
    disclose,
    sharing_of,
)
from concord.core.tasks import ACTIVE, may_act
from concord.streams.signals import Person
from concord.streams.tasks import TaskState
from tests.unit.factories import make_task

VICTIM = Person(role="victim", name="Amina B.", contact="+32 470 00 00 00", consent_to_share=True)
WITNESS = Person(role="witness", name="Tom V.", contact="tom@example.org")
SUMMARY = "Amina B. was insulted and pushed near the mosque; Tom V. saw it."


def test_none_shows_nothing_not_even_roles() -> None:
    v = disclose("s1", [VICTIM, WITNESS], SUMMARY, Sharing.none)
    assert v.persons == []
    assert v.withheld == 2
    assert v.summary is None
    assert v.names_shown == 0


def test_roles_shows_who_was_involved_without_names() -> None:
    v = disclose("s1", [VICTIM, WITNESS], SUMMARY, Sharing.roles)
    assert v.persons == [PersonView("victim", consented=True), PersonView("witness")]
    assert v.withheld == 2
    assert v.summary is None
    assert v.names_shown == 0


def test_consented_shows_only_those_who_agreed() -> None:
    v = disclose("s1", [VICTIM, WITNESS], SUMMARY, Sharing.consented)
    assert v.persons == [
        PersonView("victim", "Amina B.", "+32 470 00 00 00", True),
        PersonView("witness"),
    ]
    assert v.withheld == 1
    assert v.names_shown == 1
    assert v.summary is None  # the summary as written names the witness too


def test_full_shows_everyone_and_the_report_as_written() -> None:
    v = disclose("s1", [VICTIM, WITNESS], SUMMARY, Sharing.full)
    assert [p.name for p in v.persons] == ["Amina B.", "Tom V."]
    assert v.withheld == 0
    assert v.summary == SUMMARY
    assert v.names_shown == 2


def test_empty_name_and_contact_stay_empty() -> None:
    anonymous = Person(role="reporter", consent_to_share=True)
    v = disclose("s1", [anonymous], "", Sharing.full)
    assert v.persons == [PersonView("reporter", None, None, True)]
    assert v.names_shown == 0


@pytest.mark.parametrize("state", list(TaskState))
def test_personal_data_only_while_the_task_is_in_someones_hands(state: TaskState) -> None:
    if state in ACTIVE:
        check_access(make_task(state=state), "police-duty", "liaison", "police")
    else:
        with pytest.raises(NotDisclosed, match=state.value):
            check_access(make_task(state=state), "police-duty", "liaison", "police")


def test_only_the_tasks_people_may_look_whatever_their_sharing_level() -> None:
    t = make_task(state=TaskState.assigned)
    check_access(t, "coord", "coordinator", None)
    for who in (("vs-duty", "liaison", "victim-support"), ("panel-researcher", "panel", None)):
        with pytest.raises(NotYours):
            check_access(t, *who)


def test_pending_and_finished_tasks_are_closed_books() -> None:
    # Held for the panel: the analysis is not validated, nobody acts yet.
    assert TaskState.pending not in ACTIVE
    assert not {TaskState.done, TaskState.declined, TaskState.cancelled} & ACTIVE


def test_who_may_act_on_a_task() -> None:
    t = make_task(state=TaskState.assigned)  # police, assigned to police-duty
    assert may_act(t, "coord", "coordinator", None)
    assert may_act(t, "police-chief", "liaison", "police")
    assert not may_act(t, "schools-duty", "liaison", "schools")
    assert may_act(
        t.model_copy(update={"assignee": "schools-duty"}), "schools-duty", "liaison", "x"
    )
    assert not may_act(t, "panel-researcher", "panel", None)


def test_the_viewers_sharing_level_comes_from_their_agency(directory: Directory) -> None:
    assert sharing_of(directory, "police-duty", "liaison", "police") is Sharing.consented
    assert sharing_of(directory, "vs-duty", "liaison", "victim-support") is Sharing.full
    # A token named after nobody in the directory: its agency decides.
    assert sharing_of(directory, "test-ngo", "liaison", "ngo-antiracism") is Sharing.none
    assert sharing_of(directory, "coord", "coordinator", None) is Sharing.roles
    assert sharing_of(directory, "ghost", "liaison", None) is Sharing.none


# (sharing level, the persons' consent to share, files shown)
FILES: list[tuple[Sharing, list[bool], bool]] = [
    (Sharing.none, [True], False),
    (Sharing.roles, [True], False),
    (Sharing.consented, [False], False),
    (Sharing.consented, [False, True], True),
    (Sharing.consented, [], False),
    (Sharing.full, [False], True),
    (Sharing.full, [], True),
]


@pytest.mark.parametrize(("level", "consents", "shown"), FILES)
def test_files_and_links_follow_the_sharing_level_and_consent(
    level: Sharing, consents: list[bool], shown: bool
) -> None:
    from concord.core.disclosure import shares_given
    from concord.streams.signals import EvidenceRef, Online

    people = [Person(role="victim", contact="a@b.example", consent_to_share=c) for c in consents]
    ref = EvidenceRef(id="blob-0001", digest="0" * 64, type="image/jpeg", size=10)
    online = Online(url="https://x.example/p")
    view = disclose("s1", people, "text", level, [ref], online)
    assert shares_given(people, level) is shown
    assert (view.evidence == [ref], view.online == online) == (shown, shown)
    assert view.withheld_files == (0 if shown else 1)
