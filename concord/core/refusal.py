"""The one way a core rule says no: `Refused`, returned (not raised) as an effect."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Refused:
    """A request the rules turn down: why, who asked (if anyone), and for input that
    does not validate, the field errors (`{"loc": "persons.0.role", "msg": "..."}`).

    Returned as a value by intake (bytes that are not a signal), the task flow (an action
    a task's state does not allow) and the panel's gate (a vote that cannot be taken);
    the caller audits it or answers with it.
    """

    reason: str
    by: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)
