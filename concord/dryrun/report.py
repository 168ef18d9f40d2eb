"""`concord playbooks test`: the real intake, correlation, decisions and planning, no broker."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from concord.common.types import utcnow
from concord.config.directory import load_directory
from concord.config.settings import Settings
from concord.core.intake import parse
from concord.core.refusal import Refused
from concord.dryrun.examples import check_playbooks
from concord.dryrun.flow import Simulator, Step


def _task_view(step: Step, playbook_id: str) -> list[dict[str, Any]]:
    tasks = step.tasks.get(playbook_id, [])
    keys = {x.id: x.task_key for x in tasks}
    return [
        {
            "task": x.task_key,
            "id": x.id,
            "agency": x.agency,
            "assignee": x.assignee,
            "title": x.title,
            "action": x.action,
            "translations": {k: v.model_dump() for k, v in x.translations.items()},
            "urgent": x.urgent,
            "due": x.due.isoformat() if x.due else None,
            "waits_for": [keys.get(d, d) for d in x.depends_on],
        }
        for x in tasks
    ]


def dry_run(settings: Settings, signals: Path) -> dict[str, Any]:
    """What the flow would do with these signals: situations, decisions, tasks."""
    directory = load_directory(settings.directory)
    loaded = check_playbooks([settings.playbooks], directory)
    sim = Simulator(loaded, directory, timedelta(hours=settings.correlation_window_hours))
    report: dict[str, Any] = {
        "playbooks": {p.id: p.version for p in loaded.playbooks},
        "playbook_problems": [str(p) for p in loaded.problems],
        "refused": [],
        "duplicates": [],
        "decisions": [],
        "placements": [],
    }
    situations: set[str] = set()
    for number, line in enumerate(signals.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        result = parse(line.encode(), directory)
        if isinstance(result, Refused):
            report["refused"].append(
                {"line": number, "reason": result.reason, "errors": result.errors}
            )
            continue
        step = sim.feed(result, utcnow())
        if step is None:
            report["duplicates"].append({"line": number, "signal": result.id})
            continue
        situations.add(step.situation.id)
        report["placements"].append(
            {
                "line": number,
                "signal": step.signal.id,
                "situation": step.situation.id,
                "area": step.situation.area,
                "joined": step.joined,
                "kept_apart_from": [
                    {"situation": s.id, "bias": [str(b) for b in s.bias]} for s in step.apart
                ],
            }
        )
        for d in step.decisions:
            report["decisions"].append(
                {
                    "line": number,
                    "signal": step.signal.id,
                    "situation": step.situation.id,
                    "area": step.situation.area,
                    "playbook": d.playbook,
                    "version": d.version,
                    "status": d.status,
                    "reason": step.errors.get(d.playbook, d.reason),
                    "tasks": _task_view(step, d.playbook),
                }
            )
    report["situations"] = len(situations)
    report["fired"] = [d for d in report["decisions"] if d["status"] == "fired"]
    return report


_STYLE = {"fired": "bold green", "suppressed": "yellow", "inhibited": "yellow"}


def print_report(report: dict[str, Any], console: Console) -> None:
    """Human-readable dry-run report."""
    for problem in report["playbook_problems"]:
        console.print(f"[red]playbook problem[/] {problem}", markup=True, highlight=False)
    for r in report["refused"]:
        console.print(f"[red]line {r['line']} refused[/] {r['reason']}: {json.dumps(r['errors'])}")
    for d in report["duplicates"]:
        console.print(f"line {d['line']}: duplicate of signal {d['signal']} (ignored)")
    for p in report["placements"]:
        how = "joined" if p["joined"] else "opened"
        apart = "; ".join(
            f"kept apart from {a['situation']} (another motivation: {', '.join(a['bias'])})"
            for a in p["kept_apart_from"]
        )
        console.print(
            f"line {p['line']}: {p['signal']} {how} {p['situation']} ({p['area']})"
            + (f"; {apart}" if apart else ""),
            soft_wrap=True,
            highlight=False,
        )
    for d in report["decisions"]:
        style = _STYLE[d["status"]]
        why = f": {d['reason']}" if d["reason"] else ""
        console.print(
            f"line {d['line']}: [bold]{d['playbook']}[/] v{d['version']} "
            f"[{style}]{d['status']}[/] for {d['situation']} ({d['area']}){why}",
            soft_wrap=True,
        )
        for x in d["tasks"]:
            console.print(
                f"   → {x['agency']}/{x['assignee']}: {x['title']}"
                + (" [bold red]URGENT[/]" if x["urgent"] else "")
                + (f" (after {', '.join(x['waits_for'])})" if x["waits_for"] else "")
            )
    fired = len(report["fired"])
    console.print(f"{report['situations']} situation(s), {fired} playbook firing(s)")
