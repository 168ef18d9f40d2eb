"""Where a running worker's memory is: run inside it by `bench/memory.py` (with
`BENCH_CENSUS=1`, through gdb), never imported. Writes JSON to the path in
`CONCORD_CENSUS_OUT` (set by the injected line): the deep size of each part of the read
model and of the scans' digests (`Table.project`), glibc's malloc figures, and the
resident memory split (smaps_rollup)."""

import ctypes
import gc
import json
import sys
from collections import deque
from typing import Any


def deep(root: Any) -> int:
    """Bytes of `root` and everything it holds (containers, objects' attributes)."""
    seen: set[int] = set()
    stack, total = [root], 0
    while stack:
        x = stack.pop()
        if id(x) in seen or isinstance(x, type):
            continue
        seen.add(id(x))
        total += sys.getsizeof(x)
        if isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, (list, tuple, set, frozenset, deque)):
            stack.extend(x)
        elif hasattr(x, "__dict__"):
            stack.append(x.__dict__)
    return total


FIELDS = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"


class MallInfo2(ctypes.Structure):
    """glibc's `struct mallinfo2`."""

    _fields_ = [(name, ctypes.c_size_t) for name in FIELDS.split(" ")]


def census() -> dict[str, Any]:
    """The figures (MiB)."""
    mib = 2**20
    out: dict[str, Any] = {"readmodel": {}, "projections": {}}
    for o in gc.get_objects():
        name = type(o).__name__
        if name == "ReadModel":
            for part, value in vars(o).items():
                if (
                    not part.startswith("_")
                    and hasattr(value, "__len__")
                    and not isinstance(value, str)
                ):
                    out["readmodel"][part] = round(deep(value) / mib, 1)
        elif name == "Table" and hasattr(o, "_projections"):
            for part, value in o._projections.items():
                out["projections"][part] = round(deep(value) / mib, 1)
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    out["malloc"] = {
        "heap": round(info.arena / mib, 1),
        "mmapped": round(info.hblkhd / mib, 1),
        "in_use": round(info.uordblks / mib, 1),
        "free": round(info.fordblks / mib, 1),
    }
    with open("/proc/self/smaps_rollup") as f:
        rows = (line.split() for line in f if line.split()[0].endswith(":"))
        out["smaps"] = {r[0][:-1]: round(int(r[1]) / 1024, 1) for r in rows if len(r) >= 2}
    out["python_blocks"] = sys.getallocatedblocks()
    return out


with open(CONCORD_CENSUS_OUT, "w") as _f:  # type: ignore[name-defined]  # noqa: F821
    json.dump(census(), _f)
