"""Matcher cost per situation as the number of playbooks grows (10 .. 10,000).

Two sets of playbooks:

- `local` (the realistic one): a city keeps a few dozen city-wide playbooks and grows
  by local ones, one area (neighbourhood, school, place of worship) each. The number of
  areas grows with the playbooks (n/20, at least 50). Each playbook constrains 1-2
  categories, half of them a bias, some a kind, a severity, a threshold, an `any` or a
  `not` block.
- `generic` (the worst case): every playbook is city-wide and only says 2 categories of
  10, so a situation has ~n/5 candidates whatever the index does.

Prints one JSON line per (set, size): the median over 5 runs of the mean cost of
`Matcher.match` for 2,000 random situations, in microseconds, and the mean number of
playbooks matched.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from concord.config.directory import Directory
from concord.playbooks.matcher import Matcher
from concord.playbooks.schema import Playbook
from concord.streams.signals import Bias, Category
from concord.streams.situations import SignalRef, Situation

CATS, BIAS = [str(c) for c in Category], [str(b) for b in Bias]
TASK = {"id": "t", "agency": "police", "title": "T", "action": "a"}


def directory(areas: int) -> Directory:
    return Directory.model_validate(
        {
            "city": {"name": "Bench"},
            "areas": [{"code": f"a{i}", "name": f"A{i}"} for i in range(areas)],
            "area_groups": {"east": [f"a{i}" for i in range(0, areas, 2)]},
            "agencies": [
                {
                    "id": "police",
                    "name": "P",
                    "role": "police",
                    "liaisons": [{"id": "x", "name": "X", "email": "x@example.org"}],
                }
            ],
        }
    )


def local_when(rng: random.Random, areas: int, city_wide: bool) -> dict[str, Any]:
    when: dict[str, Any] = {"category": rng.sample(CATS, rng.randint(1, 2))}
    if not city_wide:
        when["areas"] = [f"a{rng.randrange(areas)}"]
    if rng.random() < 0.5:
        when["bias"] = rng.sample(BIAS, 2)
    if rng.random() < 0.3:
        when["kind"] = [rng.choice(["incident", "tension"])]
    if rng.random() < 0.5:
        when["severity"] = {"gte": rng.randint(1, 5)}
    if rng.random() < 0.1:
        when["threshold"] = {"count": rng.randint(2, 4), "within": rng.choice(["1d", "7d"])}
    if rng.random() < 0.1:
        when["any"] = [{"tags": ["school"]}, {"severity": {"gte": 4}}]
    if rng.random() < 0.1:
        when["not"] = {"exercise": "only"}
    return when


def playbooks(kind: str, n: int, areas: int, rng: random.Random) -> list[Playbook]:
    out = []
    for i in range(n):
        if kind == "generic":
            when: dict[str, Any] = {"category": rng.sample(CATS, 2)}
        else:
            when = local_when(rng, areas, city_wide=i < 30)
        out.append(
            Playbook.model_validate({"id": f"p{i}", "title": "P", "when": when, "tasks": [TASK]})
        )
    return out


def situations(n: int, areas: int, specs: list[str], rng: random.Random) -> list[Situation]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        cat = rng.choice(CATS)
        kind = rng.choice(["incident", "tension"])
        area, severity = f"a{rng.randrange(areas)}", rng.randint(1, 5)
        bias, tags = [rng.choice(BIAS)], rng.sample(["school", "online"], rng.randint(0, 1))
        out.append(
            Situation(
                id=f"s{i}",
                area=area,
                severity=severity,
                kinds=[kind],
                categories=[cat],
                bias=bias,
                tags=tags,
                signals=[
                    SignalRef(
                        id="x",
                        kind=kind,
                        category=cat,
                        severity=severity,
                        occurred_at=now,
                        source_type="ngo",
                        summary="s",
                        area=area,
                        bias=bias,
                        tags=tags,
                    )
                ],
                opened_at=now,
                updated_at=now,
                last_signal="x",
                measures={key: [rng.randint(0, 5)] for key in specs},
            )
        )
    return out


def measure(kind: str, n: int, rng: random.Random) -> dict[str, Any]:
    areas = max(50, n // 20)
    m = Matcher(playbooks(kind, n, areas, rng), directory(areas))
    sits = situations(2000, areas, sorted({s.key for s in m.specs}), rng)
    samples, matched = [], 0
    for _ in range(5):
        t0 = time.perf_counter()
        matched = sum(len(m.match(s)) for s in sits)
        samples.append((time.perf_counter() - t0) / len(sits) * 1e6)
    return {
        "bench": "matcher",
        "set": kind,
        "playbooks": n,
        "metric": "us_per_situation",
        "value": round(statistics.median(samples), 1),
        "unit": "us",
        "matched_per_situation": round(matched / len(sits), 2),
    }


def main() -> None:
    rng = random.Random(7)
    for kind in ("local", "generic"):
        for n in (10, 100, 1000, 10000):
            print(json.dumps(measure(kind, n, rng)), flush=True)


if __name__ == "__main__":
    main()
