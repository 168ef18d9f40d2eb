"""Referral to the competent body: which body a report goes to, and why. Pure.

A report is referred

- when a body is `exclusive` for it (the city is not competent: the body handles it,
  the city only counts it: it is registered, not acted on here);
- or when its reporter asks for it (`refer`) and a body is competent for it.

The body gets a redacted referral (what happened, where, when, the scrubbed text) through
a signed link; the reporter's contact, the files and the link seen online only where the
reporter agreed to share them. The first competent body in the directory's order is the
one: order them from the most specific to the most general.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from concord.config.bodies import Body, Competence
from concord.config.directory import Directory
from concord.streams.signals import Bias, Category

#: What may be a criminal offence (a body with `offence: true` takes only these).
OFFENCES: frozenset[Category] = frozenset(
    {Category.hate_crime, Category.hate_speech, Category.vandalism}
)

Why = Literal["competent", "asked"]


@dataclass(frozen=True)
class Referral:
    """A report goes to `body`: because the city is not competent, or because its reporter
    asked for it."""

    body: Body
    why: Why


def covers(
    c: Competence, directory: Directory, category: Category, bias: list[Bias], area: str
) -> bool:
    """Whether a body with competence `c` is competent for this report."""
    if c.categories and category not in c.categories:
        return False
    if c.bias and not set(bias) & set(c.bias):
        return False
    if c.areas and not any(area in directory.areas_in(name) for name in c.areas):
        return False
    return c.offence is None or c.offence == (category in OFFENCES)


def competent(directory: Directory, category: Category, bias: list[Bias], area: str) -> list[Body]:
    """The bodies competent for a report, in the directory's order."""
    return [b for b in directory.bodies if covers(b.competent, directory, category, bias, area)]


def decide(
    directory: Directory, category: Category, bias: list[Bias], area: str, asked: bool
) -> Referral | None:
    """Where a report goes besides the city, if anywhere."""
    bodies = competent(directory, category, bias, area)
    exclusive = next((b for b in bodies if b.exclusive), None)
    if exclusive is not None:
        return Referral(exclusive, "competent")
    if asked and bodies:
        return Referral(bodies[0], "asked")
    return None
