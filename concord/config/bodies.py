"""The competent bodies a report can be referred to: an equality body, the police (for a
complaint), a regional body for matters the city does not handle.

Each says what it is competent for (categories, bias motivations, areas, offences or
not) and how a referral reaches it (`email`, or a chat channel). `exclusive`: the city
is not competent for what the body covers, so such a report is referred and only
counted here; otherwise a report is referred only when its reporter asks.
"""

from __future__ import annotations

from typing import Self

from pydantic import EmailStr, Field, model_validator

from concord.common.types import Code, Lang, Strict
from concord.config.channels import ChatAddresses, PersonChannel
from concord.streams.signals import Bias, Category


def _email() -> list[PersonChannel]:
    return ["email"]


class Competence(Strict):
    """What a body is competent for; every condition given must hold (empty: any)."""

    categories: list[Category] = Field(default_factory=list, description="any of these")
    bias: list[Bias] = Field(default_factory=list, description="any of these motivations")
    areas: list[Code] = Field(default_factory=list, description="area codes or area groups")
    offence: bool | None = Field(
        None,
        description="true: only what may be a criminal offence (hate crime, hate speech, "
        "vandalism); false: only what may not; unset: both",
    )


class Body(ChatAddresses):
    """A body reports can be referred to, and where its referrals go."""

    id: Code
    name: str
    names: dict[Lang, str] = Field(
        default_factory=dict, description="its name per language (the receipt page says it)"
    )
    language: Lang = Field("en", description="the language of its referral messages")
    email: EmailStr | None = None
    channels: list[PersonChannel] = Field(
        default_factory=_email, description="where referrals go, in order"
    )
    competent: Competence = Field(default_factory=Competence)
    exclusive: bool = Field(
        False, description="the city is not competent for this: always refer, never act"
    )

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not self.email and not self.chat_channels():
            raise ValueError(
                f"body {self.id!r} needs a referral address: email, teams_webhook, "
                "matrix_room, mattermost_webhook or rocketchat_webhook"
            )
        return self

    def name_in(self, language: str) -> str:
        """Its name in a language (its `name` where it has none there)."""
        return self.names.get(language, self.name)


def check_bodies(bodies: list[Body], areas: set[str]) -> None:
    """Raise ValueError for a repeated body id, or an area (or group) nobody knows."""
    ids = [b.id for b in bodies]
    if len(set(ids)) != len(ids):
        raise ValueError("body ids must be unique")
    for body in bodies:
        unknown = set(body.competent.areas) - areas
        if unknown:
            raise ValueError(f"body {body.id!r}: unknown areas {sorted(unknown)}")
