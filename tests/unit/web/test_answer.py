"""`Answer` (concord.web.answer): how a core rule's refusal reaches HTTP."""

from __future__ import annotations

import json

from pydantic import BaseModel, ValidationError

from concord.core.refusal import Refused
from concord.web.answer import Answer


def test_a_refusal_about_the_request_is_422_with_the_fields() -> None:
    answer = Answer.refused(
        Refused("invalid", errors=[{"loc": "reason", "msg": "a decline needs a reason"}]), "action"
    )
    assert answer.status == 422
    assert not answer.ok
    assert answer.body == {
        "error": "invalid action",
        "errors": [{"loc": "reason", "msg": "a decline needs a reason"}],
    }
    assert answer.problem == "a decline needs a reason"


def test_a_refusal_about_the_state_of_things_is_409_with_the_reason() -> None:
    answer = Answer.refused(Refused("task t is done: nothing more to do"), "action", state="done")
    assert answer.status == 409
    assert answer.body == {"error": "task t is done: nothing more to do", "state": "done"}
    response = answer.response()
    assert response.status == 409
    assert json.loads(response.body) == answer.body


def test_a_validation_error_names_the_dotted_path() -> None:
    class Inner(BaseModel):
        n: int

    class Outer(BaseModel):
        items: list[Inner]

    try:
        Outer.model_validate({"items": [{"n": 1}, {"n": "x"}]})
    except ValidationError as exc:
        answer = Answer.invalid("vote", exc)
    assert answer.status == 422
    assert answer.body["error"] == "invalid vote"
    assert [e["loc"] for e in answer.body["errors"]] == ["items.1.n"]
