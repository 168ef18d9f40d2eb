"""The `when` part of a playbook: conditions on a situation, and their combinators.

Every condition given must hold (an empty list means "no condition"). `all`, `any` and
`not` nest further `when` blocks. Two conditions look beyond the situation, at the
recent history of its area: `threshold` ("3 or more incidents here within 24 h") and
`trend` ("tension signals rising over 7 days"). The correlation stage keeps that
history and computes the figures (`Situation.measures`), keyed by `WindowSpec.key`;
the matcher only compares them.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from functools import cached_property
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from concord.common.types import Code, Strict
from concord.streams.signals import Bias, Category, Kind

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: Any) -> timedelta:
    """'30m', '2h', '1d', '1w' -> timedelta ('45s' too: drills and tests use short limits)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    raise ValueError("a duration like '30m', '2h', '1d' or '1w'")


def format_duration(value: timedelta) -> str:
    """timedelta -> the shortest exact '30m' / '2h' / '1d' form."""
    seconds = int(value.total_seconds())
    if seconds % 60:
        return f"{seconds}s"
    minutes = seconds // 60
    for unit, size in (("w", 10080), ("d", 1440), ("h", 60)):
        if minutes and minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d+\s*(s|m|h|d|w)\s*$"}),
]


def _parse_clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        # YAML 1.1 reads an unquoted 18:00 as the sexagesimal integer 1080.
        return time(value // 60, value % 60)
    if isinstance(value, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    raise ValueError("a time of day like '18:00'")


Clock = Annotated[
    time,
    BeforeValidator(_parse_clock),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}),
]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Spec(Strict):
    """A part of a playbook: strict like every model, and fields may be given by name
    as well as by alias."""

    model_config = ConfigDict(populate_by_name=True)


class SeverityRange(Spec):
    """Comparisons on the situation's severity (1-5); all given must hold."""

    gte: int | None = Field(None, ge=1, le=5, description="at least")
    gt: int | None = Field(None, ge=0, le=5, description="more than")
    lte: int | None = Field(None, ge=1, le=5, description="at most")
    lt: int | None = Field(None, ge=1, le=6, description="less than")
    eq: int | None = Field(None, ge=1, le=5, description="exactly")

    @model_validator(mode="after")
    def _satisfiable(self) -> Self:
        if not any(self.fails(v) is None for v in range(1, 6)):
            raise ValueError("no severity from 1 to 5 satisfies these comparisons")
        return self

    def fails(self, severity: int) -> str | None:
        """Why `severity` fails the comparisons, or None when it passes."""
        checks: tuple[tuple[int | None, bool, str], ...] = (
            (self.gte, self.gte is not None and severity >= self.gte, "below"),
            (self.gt, self.gt is not None and severity > self.gt, "not above"),
            (self.lte, self.lte is not None and severity <= self.lte, "above"),
            (self.lt, self.lt is not None and severity < self.lt, "not below"),
            (self.eq, self.eq is not None and severity == self.eq, "not"),
        )
        for bound, ok, word in checks:
            if bound is not None and not ok:
                return f"severity {severity} is {word} {bound}"
        return None


class TimeWindow(Spec):
    """Local time (city time zone) of the situation's latest signal.

    `from` <= time < `to`; when `from` is later than `to` the window runs past midnight
    (`from: '22:00', to: '06:00'`), and its early-morning part belongs to the day the
    window started (a Friday-night window includes Saturday 03:00).
    """

    days: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS), description="days the window starts on"
    )
    start: Clock = Field(time(0, 0), alias="from", description="start, e.g. '18:00'")
    end: Clock = Field(time(0, 0), alias="to", description="end (exclusive); '00:00' = midnight")


class WindowSpec(Spec):
    """What part of the area's history a threshold or trend counts."""

    kind: list[Kind] = Field(default_factory=list, description="only these signal kinds")
    category: list[Category] = Field(default_factory=list, description="only these categories")
    bias: list[Bias] = Field(default_factory=list, description="only signals with any of these")
    tags: list[Code] = Field(default_factory=list, description="only signals with all these tags")
    min_severity: int = Field(1, ge=1, le=5, description="only signals at least this severe")

    @cached_property
    def key(self) -> str:
        """Names the figure the correlation stage computes for this spec, readably:
        `threshold kind=incident within=3d` (fields left at their default are omitted)."""
        fields = self.model_dump(
            mode="json", exclude=self._comparison_fields(), exclude_defaults=True
        )
        parts = [
            f"{name}={','.join(map(str, value)) if isinstance(value, list) else value}"
            for name, value in sorted(fields.items())
        ]
        return " ".join([type(self).__name__.lower(), *parts])

    @classmethod
    def _comparison_fields(cls) -> set[str]:
        return set()

    def span(self) -> timedelta:
        """How much history this spec needs."""
        raise NotImplementedError


class Threshold(WindowSpec):
    """`count` or more signals of the area within `within` (the situation's own included).

    With `per_tag_prefix`, signals are counted per distinct tag starting with the prefix
    and the largest count is compared (e.g. reports per housing provider, tagged
    `provider-acme`, `provider-bm-homes`, ...).
    """

    count: int = Field(ge=1, description="at least this many signals")
    within: Duration = Field(description="in this window, ending at the latest signal")
    per_tag_prefix: Code | None = Field(None, description="count per tag with this prefix")

    @classmethod
    def _comparison_fields(cls) -> set[str]:
        return {"count"}

    def span(self) -> timedelta:
        """How far back the threshold looks."""
        return self.within


class Trend(WindowSpec):
    """Signals rising (or falling) over a period: the later half of `over` compared with
    the earlier half, by count or by the sum of severities; at least `min_signals` in all.
    """

    over: Duration = Field(description="the period, ending at the latest signal, e.g. 7d")
    direction: Literal["rising", "falling"] = "rising"
    by: Literal["count", "severity"] = Field("count", description="count, or sum of severities")
    min_signals: int = Field(2, ge=1, description="ignore the trend below this many signals")

    @classmethod
    def _comparison_fields(cls) -> set[str]:
        return {"direction", "min_signals"}

    def span(self) -> timedelta:
        """How far back the trend looks."""
        return self.over


class When(Spec):
    """Conditions on a situation; every condition given must hold (empty lists ignore)."""

    kind: list[Kind] = Field(default_factory=list, description="any of these signal kinds")
    category: list[Category] = Field(default_factory=list, description="any of these categories")
    bias: list[Bias] = Field(default_factory=list, description="any of these bias motivations")
    severity: SeverityRange = Field(default_factory=SeverityRange)
    areas: list[Code] = Field(
        default_factory=list, description="area codes or area groups from the directory"
    )
    tags: list[Code] = Field(default_factory=list, description="all of these tags")
    source_types: list[Code] = Field(
        default_factory=list, description="any signal from one of these source types"
    )
    time: list[TimeWindow] = Field(
        default_factory=list, description="any of these local-time windows (city time zone)"
    )
    exercise: Literal["include", "only", "exclude"] = Field(
        "include", description="drills: match them too, only them, or never"
    )
    wants: Literal["act", "register", "any"] | None = Field(
        None,
        description="what the reporter wants done: act (follow-up), register (count "
        "only), any; unset: act (a playbook never acts on a report only registered)",
    )
    threshold: Threshold | None = Field(None, description="enough signals in the area lately")
    trend: Trend | None = Field(None, description="signals in the area rising or falling")
    all_: list[When] = Field(default_factory=list, alias="all", description="every one holds")
    any_: list[When] = Field(default_factory=list, alias="any", description="at least one holds")
    not_: When | None = Field(None, alias="not", description="this one does not hold")

    def walk(self) -> list[When]:
        """This block and every nested one."""
        out = [self]
        for child in [*self.all_, *self.any_, *([self.not_] if self.not_ else [])]:
            out.extend(child.walk())
        return out

    def window_specs(self) -> list[Threshold | Trend]:
        """Every threshold and trend, nested ones included."""
        return [s for w in self.walk() for s in (w.threshold, w.trend) if s is not None]
