"""What `concord up` costs when nothing happens: the CPU of its own process, of the
embedded broker and of the archiver, as a share of one core, over a quiet spell once it
has started and settled.

Nothing is posted; the city is the repository's example directory and playbooks. Prints
one JSON line per process and one for the whole. `concord up` runs from a directory of
its own, so `PYTHONPATH=<a clone>` measures that clone's code.
Usage: [BENCH_SETTINGS=name=value,...] python bench/idle.py [SECONDS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import concord_up, cpu, extra_settings, free_port, line, up_env, up_processes

ROOT = Path(__file__).resolve().parent.parent
SETTLE_SECONDS = 20.0


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    home = Path(tempfile.mkdtemp(prefix="concord-idle-bench-"))
    directory, playbooks = str(ROOT / "directory.yml"), str(ROOT / "playbooks")
    env = up_env(home, free_port(), directory=directory, playbooks=playbooks)
    with concord_up(home, env) as proc:
        time.sleep(SETTLE_SECONDS)  # the start's own work (recovery, first joins) is done
        pids = up_processes(proc.pid)
        before = {name: cpu(pid) for name, pid in pids.items()}
        time.sleep(seconds)
        used = {name: cpu(pid) - before[name] for name, pid in pids.items()}
    for name, spent in [*used.items(), ("all", sum(used.values()))]:
        line(
            bench="idle",
            metric="core_share",
            process=name,
            value=round(spent / seconds, 3),
            unit="cores",
            seconds=seconds,
            settings=extra_settings(),
        )


if __name__ == "__main__":
    main()
