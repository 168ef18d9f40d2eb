"""`Answer`: what a view answers a vote or a task action, whatever the channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from faust.web import Response
from pydantic import ValidationError

from concord.core.intake import field_errors
from concord.core.refusal import Refused
from concord.web.site import json_response


@dataclass
class Answer:
    """An HTTP status and a JSON-able body (pages, Slack and links show its `error`)."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the action was taken (200 or 202)."""
        return self.status in (200, 202)

    @property
    def problem(self) -> str:
        """What went wrong, in one line (the field errors, or the error)."""
        detail = self.body.get("errors") or [{"msg": self.body.get("error", "")}]
        return "; ".join(str(e["msg"]) for e in detail)

    def response(self, headers: dict[str, str] | None = None) -> Response:
        """The answer as a JSON response."""
        return json_response(self.body, self.status, headers)

    @classmethod
    def refused(cls, refused: Refused, what: str, **extra: Any) -> Answer:
        """A core rule's refusal: 422 with the fields when it is about the request, 409
        when it is about the state of things."""
        if refused.errors:
            return cls(422, {"error": f"invalid {what}", "errors": refused.errors})
        return cls(409, {"error": refused.reason, **extra})

    @classmethod
    def invalid(cls, what: str, exc: ValidationError) -> Answer:
        """422 with pydantic's errors as `{loc, msg}` (dotted field paths)."""
        return cls(422, {"error": f"invalid {what}", "errors": errors_of(exc)})


def errors_of(exc: ValidationError) -> list[dict[str, str]]:
    """Pydantic errors as `{loc, msg}` with dotted field paths."""
    return field_errors(exc, "(body)")
