"""The agency directory: the city's areas, agencies, liaisons, panel, sharing levels,
competent bodies and partners. Loaded from `CONCORD_DIRECTORY` (YAML); errors are
reported at file:line:col, and cross-references are checked here."""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import EmailStr, Field, StringConstraints, model_validator

from concord.common.types import Code, Lang, Strict
from concord.config.bodies import Body, check_bodies
from concord.config.channels import (
    ChatAddresses,
    Circle,
    PersonChannel,
    Subscription,
    both_channels,
    slack_only,
)
from concord.config.partners import Partner, Partners
from concord.config.yamlpos import Problem, load_file, validate_doc
from concord.streams.signals import Bias


class Sharing(StrEnum):
    """How much of a report's personal data an agency's liaisons may see on the task page."""

    none = "none"  # no personal data at all
    roles = "roles"  # who was involved (victim, witness), no names
    consented = "consented"  # names and contacts of persons who consented to sharing
    full = "full"  # everything (e.g. victim-support services bound by confidentiality)


class Area(Strict):
    """A place of the city: its code, its name (per language) and its neighbours."""

    code: Code = Field(description="the code producers put in a signal's `area`")
    name: str
    names: dict[Lang, str] = Field(
        default_factory=dict, description="its name per language (default: `name`)"
    )
    neighbours: list[Code] = Field(default_factory=list, description="adjacent area codes")
    circle: Circle | None = Field(None, description="its centre and radius (CAP alerts)")


class Liaison(ChatAddresses):
    """A person of an agency who gets its tasks: addresses, language, channels."""

    id: Code
    name: str
    email: EmailStr | None = None
    slack_user: str | None = Field(None, description="Slack member id, e.g. U024BE7LH")
    slack_channel: str | None = Field(None, description="channel id or name for this liaison")
    language: Lang = "en"

    def reachable(self, shared: ChatAddresses) -> bool:
        """Whether the liaison has an address of its own, or its agency a shared one."""
        own = self.email or self.slack_channel or self.slack_user or self.chat_channels()
        return bool(own or shared.chat_channels())


class Agency(ChatAddresses):
    """A public body or NGO: its liaisons in escalation order, its sharing level, its names.

    Its chat addresses (`teams_webhook`, `matrix_room`, ...) are its liaisons' where they
    have none of their own: the agency's shared channel."""

    id: Code
    name: str
    names: dict[Lang, str] = Field(
        default_factory=dict, description="its name per language (default: `name`)"
    )
    role: Literal[
        "police",
        "school",
        "youth_service",
        "social_work",
        "civil_society",
        "municipality",
        "victim_support",
        "housing",
        "equality_body",
        "other",
    ]
    sharing: Sharing = Sharing.none
    channels: list[PersonChannel] = Field(
        default_factory=both_channels,
        description="preferred channels, in order; the next one is the fallback",
    )
    liaisons: list[Liaison] = Field(min_length=1, description="first is on duty; then escalation")

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        for liaison in self.liaisons:
            if not liaison.reachable(self):
                raise ValueError(
                    f"liaison {liaison.id!r} needs an address: email, slack_channel, "
                    "slack_user, teams_webhook, matrix_room, mattermost_webhook or "
                    "rocketchat_webhook (its own, or its agency's)"
                )
        return self


class PanelMember(ChatAddresses):
    """A member of the expert panel, or a coordinator: their own chat addresses are tried
    after email and Slack."""

    id: Code
    name: str
    email: EmailStr | None = None
    slack_user: str | None = None
    language: Lang = "en"


class Panel(ChatAddresses):
    """The expert panel: its members and its shared channel (Slack, or a chat address)."""

    slack_channel: str | None = None
    channels: list[PersonChannel] = Field(
        default_factory=slack_only,
        description="where the panel's channel messages go, in order (the next: fallback)",
    )
    language: Lang = Field("en", description="language of the panel's channel messages")
    members: list[PanelMember] = Field(default_factory=list)


class City(Strict):
    """The city: its name, time zone and languages (the first is the default)."""

    name: str
    timezone: str = "Europe/Brussels"
    languages: list[Lang] = Field(default_factory=lambda: ["en"])
    region: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        "BE",
        description="ISO 3166 country code: the region of phone numbers written without "
        "a country code (access requests find `0471 23 45 67` as `+32471234567`)",
    )

    @model_validator(mode="after")
    def _tz(self) -> Self:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        return self


class Correlation(Strict):
    """How the city's analysts group signals into situations, beyond time and place."""

    linked_bias: list[list[Bias]] = Field(
        default_factory=list,
        description="bias motivations that may share a situation (each list a group); "
        "otherwise different motivations are different situations",
    )


class Directory(Strict):
    """The whole directory file."""

    city: City
    areas: list[Area] = Field(min_length=1)
    area_groups: dict[Code, list[Code]] = Field(default_factory=dict)
    agencies: list[Agency] = Field(min_length=1)
    panel: Panel = Field(default_factory=Panel)
    coordinators: list[PanelMember] = Field(default_factory=list)
    correlation: Correlation = Field(default_factory=Correlation)
    webhooks: list[Subscription] = Field(
        default_factory=list, description="other systems that follow situations and tasks"
    )
    bodies: list[Body] = Field(
        default_factory=list, description="competent bodies reports can be referred to"
    )
    partners: Partners = Field(default_factory=list, description="who reports by email")

    @property
    def linked_bias(self) -> tuple[frozenset[Bias], ...]:
        """The motivation groups for correlation (`core.correlation.same_motive`)."""
        return tuple(frozenset(group) for group in self.correlation.linked_bias)

    @model_validator(mode="after")
    def _references(self) -> Self:
        codes = {a.code for a in self.areas}
        if len(codes) != len(self.areas):
            raise ValueError("area codes must be unique")
        for area in self.areas:
            unknown = set(area.neighbours) - codes
            if unknown:
                raise ValueError(f"area {area.code!r}: unknown neighbours {sorted(unknown)}")
        for group, members in self.area_groups.items():
            unknown = set(members) - codes
            if unknown:
                raise ValueError(f"area group {group!r}: unknown areas {sorted(unknown)}")
        ids = [a.id for a in self.agencies]
        for what, named in (("agency", ids), ("webhook", [w.id for w in self.webhooks])):
            if len(set(named)) != len(named):
                raise ValueError(f"{what} ids must be unique")
        for hook in self.webhooks:
            if hook.agency is not None and hook.agency not in ids:
                raise ValueError(f"webhook {hook.id!r}: unknown agency {hook.agency!r}")
        check_bodies(self.bodies, codes | set(self.area_groups))
        return self

    def body(self, body_id: str) -> Body | None:
        """A competent body by id."""
        return next((b for b in self.bodies if b.id == body_id), None)

    def partner(self, partner_id: str) -> Partner | None:
        """A partner organisation by id."""
        return next((p for p in self.partners if p.id == partner_id), None)

    @cached_property
    def _areas(self) -> dict[str, Area]:
        return {a.code: a for a in self.areas}

    @cached_property
    def _agencies(self) -> dict[str, Agency]:
        return {a.id: a for a in self.agencies}

    @cached_property
    def _liaisons(self) -> dict[str, tuple[Agency, Liaison]]:
        out: dict[str, tuple[Agency, Liaison]] = {}
        for agency in self.agencies:
            for liaison in agency.liaisons:
                out.setdefault(liaison.id, (agency, liaison))
        return out

    @cached_property
    def _neighbours(self) -> dict[str, list[str]]:
        near: dict[str, set[str]] = {a.code: set(a.neighbours) for a in self.areas}
        for a in self.areas:
            for n in a.neighbours:
                near[n].add(a.code)
        return {code: sorted(codes - {code}) for code, codes in near.items()}

    def area(self, code: str) -> Area | None:
        """The area with this code, or None."""
        return self._areas.get(code)

    def names(self) -> list[str]:
        """Every name the directory gives a place or an organisation (the city, its areas
        and area groups, its agencies): words that are not a person's in a report."""
        return [
            self.city.name,
            *(a.name for a in self.areas),
            *self.area_groups,
            *(a.name for a in self.agencies),
        ]

    def place(self, codes: list[str], language: str = "") -> str:
        """The names of these areas, for people ("Quartier Nord, Centre-ville"), in
        `language` where the directory gives one."""
        return ", ".join(self.area_name(code, language) for code in codes)

    def area_name(self, code: str, language: str = "") -> str:
        """An area's name in `language` (else its `name`; its code when unknown)."""
        found = self.area(code)
        return found.names.get(language, found.name) if found else code

    def area_names(self, language: str = "") -> dict[str, str]:
        """Every area's code -> its name in `language` (else its `name`)."""
        return {a.code: a.names.get(language, a.name) for a in self.areas}

    def agency_names(self, language: str = "") -> dict[str, str]:
        """Every agency's id -> its name in `language` (else its `name`)."""
        return {a.id: a.names.get(language, a.name) for a in self.agencies}

    def agency(self, agency_id: str) -> Agency | None:
        """The agency with this id, or None."""
        return self._agencies.get(agency_id)

    def liaison(self, liaison_id: str) -> tuple[Agency, Liaison] | None:
        """The liaison with this id and its agency, or None."""
        return self._liaisons.get(liaison_id)

    def on_duty(self, agency_id: str) -> Liaison | None:
        """The liaison who receives an agency's new tasks."""
        agency = self.agency(agency_id)
        return agency.liaisons[0] if agency else None

    def chain(self, agency_id: str, escalate_to: list[str]) -> list[str]:
        """Who a task of `agency_id` goes to, in order: the agency's liaisons (on duty
        first), then `escalate_to` (a liaison, an agency's on-duty liaison, or
        `coordinator`: every coordinator)."""
        agency = self.agency(agency_id)
        out = [x.id for x in agency.liaisons] if agency else []
        for target in escalate_to:
            if target == "coordinator":
                out += [c.id for c in self.coordinators]
            elif self.liaison(target):
                out.append(target)
            elif (duty := self.on_duty(target)) is not None:
                out.append(duty.id)
        return list(dict.fromkeys(out))

    def coordinator(self, person_id: str) -> PanelMember | None:
        """The coordinator with this id, or None."""
        return next((x for x in self.coordinators if x.id == person_id), None)

    def panel_member(self, member_id: str) -> PanelMember | None:
        """The panel member with this id, or None."""
        return next((m for m in self.panel.members if m.id == member_id), None)

    def person_language(self, person_id: str) -> str | None:
        """The language of a liaison, coordinator or panel member, or None."""
        found = self.liaison(person_id)
        if found is not None:
            return found[1].language
        person = self.coordinator(person_id) or self.panel_member(person_id)
        return person.language if person else None

    def people(self) -> dict[str, str]:
        """Every person's id -> name: liaisons, coordinators, panel members (pages name
        people, never show their ids)."""
        names = {x.id: x.name for a in self.agencies for x in a.liaisons}
        names.update({c.id: c.name for c in self.coordinators})
        names.update({m.id: m.name for m in self.panel.members})
        return names

    def person_by_email(self, email: str) -> tuple[str, str, str | None] | None:
        """(person id, role, agency) of whoever has this address (role: panel, coordinator
        or liaison), or None."""
        wanted = email.strip().lower()
        for m in self.panel.members:
            if m.email and str(m.email).lower() == wanted:
                return m.id, "panel", None
        for c in self.coordinators:
            if c.email and str(c.email).lower() == wanted:
                return c.id, "coordinator", None
        for agency in self.agencies:
            for liaison in agency.liaisons:
                if liaison.email and str(liaison.email).lower() == wanted:
                    return liaison.id, "liaison", agency.id
        return None

    @cached_property
    def zones(self) -> dict[str, str]:
        """Area code -> its correlation zone: the smallest code of its connected group
        of neighbours. Signals are keyed by zone, so one worker sees neighbours together."""
        graph: dict[str, set[str]] = {a.code: set(a.neighbours) for a in self.areas}
        for a in self.areas:
            for n in a.neighbours:
                graph[n].add(a.code)
        zones: dict[str, str] = {}
        for start in sorted(graph):
            if start in zones:
                continue
            group, todo = {start}, [start]
            while todo:
                for n in graph[todo.pop()] - group:
                    group.add(n)
                    todo.append(n)
            for code in group:
                zones[code] = min(group)
        return zones

    def zone(self, area: str) -> str:
        """The correlation zone of an area (the area itself when unknown)."""
        return self.zones.get(area, area)

    def neighbours(self, area: str) -> list[str]:
        """The areas next to `area` (both directions of the directory's lists)."""
        return list(self._neighbours.get(area, []))

    def areas_in(self, name: str) -> set[str]:
        """Area codes of a group, or the single area when `name` is an area code."""
        return set(self.area_groups.get(name, [name]))


class DirectoryError(Exception):
    """The directory file is invalid; `problems` say where."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_directory(path: Path) -> Directory:
    """Load and validate the directory, or raise DirectoryError with file:line:col lines."""
    doc = load_file(path)
    if isinstance(doc, Problem):
        raise DirectoryError([doc])
    result = validate_doc(doc, Directory)
    if isinstance(result, list):
        raise DirectoryError(result)
    return result


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the directory file, for editors and `concord directory schema`."""
    schema = Directory.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://concord.example/directory.schema.json"
    return schema
