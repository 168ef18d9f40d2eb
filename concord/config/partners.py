"""Partner organisations that report by email: NGOs, schools, youth services.

Each has its own address, `report+<id>.<generation>.<code>@CONCORD_INBOUND_DOMAIN`
(`concord partner address ID` prints it): the code is keyed by the installation's
secret, so it cannot be guessed; `revoked: true` refuses it; raising `generation`
rotates it (the old address is refused). The partner becomes the report's source.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from concord.common.types import Code, Lang, Strict


class Partner(Strict):
    """An organisation that reports by email."""

    id: Code = Field(max_length=24, description="short: it is part of the address")
    name: str
    type: Code = Field(description="the source type of its reports: ngo, school, ...")
    language: Lang = Field("en", description="the language of its receipts")
    generation: int = Field(1, ge=1, le=999, description="raise it to rotate the address")
    revoked: bool = Field(False, description="true: its address is refused")


def _unique(partners: list[Partner]) -> list[Partner]:
    ids = [p.id for p in partners]
    if len(set(ids)) != len(ids):
        raise ValueError("partner ids must be unique")
    return partners


#: The directory's partners: their ids unique.
Partners = Annotated[list[Partner], AfterValidator(_unique)]
