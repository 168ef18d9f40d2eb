"""`concord playbooks test`: the real intake, correlation, matcher and planning, no broker."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from pydantic import SecretStr
from rich.console import Console

from concord.core.correlation import correlate, situation_key
from concord.core.intake import Refused, parse, seal
from concord.core.planning import plan_tasks
from concord.directory import load_directory
from concord.keys import Sealer
from concord.playbooks.loader import load_playbooks
from concord.playbooks.matcher import Matcher
from concord.settings import Settings
from concord.streams.models import Situation, utcnow


def dry_run(settings: Settings, signals: Path) -> dict[str, Any]:
    """What the flow would do with these signals: situations, fired playbooks, tasks."""
    directory = load_directory(settings.directory)
    loaded = load_playbooks([settings.playbooks], directory)
    matcher = Matcher(loaded.playbooks, directory)
    sealer = Sealer(SecretStr(Fernet.generate_key().decode()))  # throwaway: nothing is kept
    window = timedelta(hours=settings.correlation_window_hours)
    current: dict[str, Situation] = {}
    fired: set[str] = set()
    report: dict[str, Any] = {
        "playbook_problems": [str(p) for p in loaded.problems],
        "refused": [],
        "fired": [],
    }
    for number, line in enumerate(signals.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        result = parse(line.encode(), directory)
        if isinstance(result, Refused):
            report["refused"].append(
                {"line": number, "reason": result.reason, "errors": result.errors}
            )
            continue
        signal = seal(result, sealer, utcnow())
        key = situation_key(signal)
        situation = correlate(current.get(key), signal, window, utcnow())
        current[key] = situation
        for pb in matcher.match(situation):
            if f"{situation.id}|{pb.id}" in fired:
                continue
            fired.add(f"{situation.id}|{pb.id}")
            tasks = plan_tasks(situation, pb, directory, utcnow())
            report["fired"].append(
                {
                    "line": number,
                    "signal": signal.id,
                    "situation": situation.id,
                    "area": situation.area,
                    "playbook": pb.id,
                    "version": pb.version,
                    "tasks": [
                        {
                            "task": x.task_key,
                            "agency": x.agency,
                            "assignee": x.assignee,
                            "title": x.title,
                            "action": x.action,
                            "urgent": x.urgent,
                            "waits_for": x.depends_on,
                        }
                        for x in tasks
                    ],
                }
            )
    report["situations"] = len({s.id for s in current.values()})
    return report


def print_report(report: dict[str, Any], console: Console) -> None:
    """Human-readable dry-run report."""
    for problem in report["playbook_problems"]:
        console.print(f"[red]playbook problem[/] {problem}")
    for r in report["refused"]:
        console.print(f"[red]line {r['line']} refused[/] {r['reason']}: {json.dumps(r['errors'])}")
    for f in report["fired"]:
        console.print(
            f"line {f['line']}: [bold]{f['playbook']}[/] v{f['version']} fires for "
            f"{f['situation']} ({f['area']})"
        )
        for x in f["tasks"]:
            console.print(
                f"   → {x['agency']}/{x['assignee']}: {x['title']}"
                + (" [bold red]URGENT[/]" if x["urgent"] else "")
            )
    console.print(f"{report['situations']} situation(s), {len(report['fired'])} playbook firing(s)")
