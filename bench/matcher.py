"""Matcher cost per situation as the number of playbooks grows (10 .. 10,000)."""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from concord.directory import load_directory
from concord.playbooks.matcher import Matcher
from concord.playbooks.schema import Playbook
from concord.streams.models import Bias, Category, SignalRef, Situation

ROOT = Path(__file__).resolve().parents[1]
CATS, BIAS = list(Category), list(Bias)


def playbooks(n: int, rng: random.Random) -> list[Playbook]:
    return [
        Playbook.model_validate(
            {
                "id": f"p{i}",
                "title": "P",
                "when": {
                    "category": rng.sample([str(c) for c in CATS], 2),
                    "bias": rng.sample([str(b) for b in BIAS], 2),
                    "severity": {"gte": rng.randint(1, 5)},
                },
                "tasks": [{"id": "t", "agency": "police", "title": "T", "action": "a"}],
            }
        )
        for i in range(n)
    ]


def situations(n: int, rng: random.Random) -> list[Situation]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        cat = rng.choice(CATS)
        out.append(
            Situation(
                id=f"s{i}",
                area=rng.choice(["north", "centre", "south"]),
                severity=rng.randint(1, 5),
                kinds=["incident"],
                categories=[cat],
                bias=[rng.choice(BIAS)],
                tags=[],
                signals=[
                    SignalRef(
                        id="x",
                        kind="incident",
                        category=cat,
                        severity=3,
                        occurred_at=now,
                        source_type="ngo",
                        summary="s",
                    )
                ],
                opened_at=now,
                updated_at=now,
                last_signal="x",
            )
        )
    return out


def main() -> None:
    rng = random.Random(7)
    directory = load_directory(ROOT / "directory.yml")
    sits = situations(2000, rng)
    for n in (10, 100, 1000, 10000):
        m = Matcher(playbooks(n, rng), directory)
        samples = []
        for _ in range(5):
            t0 = time.perf_counter()
            for s in sits:
                m.match(s)
            samples.append((time.perf_counter() - t0) / len(sits) * 1e6)
        print(
            json.dumps(
                {
                    "bench": "matcher",
                    "metric": "us_per_situation",
                    "value": round(statistics.median(samples), 1),
                    "unit": "us",
                    "playbooks": n,
                }
            )
        )


if __name__ == "__main__":
    main()
