"""The ODIHR export: the year's incidents in OSCE ODIHR's hate-crime reporting categories.

ODIHR publishes civil-society incident data every 16 November (hatecrime.osce.org). Its
categories are bias motivations and incident types; Concord's map onto them as the two
tables below say (docs/indicators, "ODIHR"). Only incidents count (signals of kind
`incident`), never drills; a signal with two motivations counts under each, as ODIHR
counts them. Categories that are not hate crimes in ODIHR's sense (hate speech, online
hate without a threat, discrimination, rumours, demonstrations, conflicts between
groups, other) are left out. Counts go through `indicators.shown`: under 5 is `<5`,
higher counts in bands of five, so that no one can be singled out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from concord.core.indicators import shown
from concord.streams.signals import Bias, Category, Kind
from concord.streams.situations import Situation

#: Concord's bias motivation -> ODIHR's.
BIAS: dict[Bias, str] = {
    Bias.anti_black: "Racism and xenophobia",
    Bias.anti_migrant: "Racism and xenophobia",
    Bias.anti_asian: "Racism and xenophobia",
    Bias.anti_roma: "Bias against Roma and Sinti",
    Bias.antisemitic: "Anti-Semitism",
    Bias.anti_muslim: "Bias against Muslims",
    Bias.other: "Other",
}
#: Concord's category -> ODIHR's incident type (absent: not a hate crime for ODIHR).
TYPE: dict[Category, str] = {
    Category.hate_crime: "Violent attacks against people",
    Category.harassment: "Threats",
    Category.vandalism: "Attacks against property",
}
#: A reported incident without a bias motivation.
UNSPECIFIED = "Other"
HEADER = ("year", "bias_motivation", "incident_type", "incidents")


def counts(situations: Iterable[Situation], year: int) -> Counter[tuple[str, str]]:
    """(ODIHR bias motivation, incident type) -> incidents that occurred in `year`."""
    out: Counter[tuple[str, str]] = Counter()
    seen: set[str] = set()
    for s in situations:
        if s.exercise:
            continue
        for ref in s.signals:
            kind = TYPE.get(ref.category)
            if ref.id in seen or ref.kind != Kind.incident or kind is None:
                continue
            if ref.occurred_at.year != year:
                continue
            seen.add(ref.id)  # a merge keeps a signal in two snapshots
            for motive in {BIAS[b] for b in ref.bias} or {UNSPECIFIED}:
                out[(motive, kind)] += 1
    return out


def rows(situations: Iterable[Situation], year: int) -> list[tuple[str, str, str, str]]:
    """The export's rows, counts shown as published (`<5`, bands of five)."""
    found = counts(situations, year)
    return [(str(year), motive, kind, shown(n)) for (motive, kind), n in sorted(found.items())]
