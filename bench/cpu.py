"""CPU time per request, from /proc: the server's and the database's, apart.

A ratio of request rates mixes two costs: the server's own work and the database's.
Reading the CPU time (utime + stime) that each side's processes spent during a run,
divided by the requests served, tells which one moved, and it does not depend on how
busy the rest of the machine was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def tree(root: int) -> list[int]:
    """root and every descendant (a postmaster and its backends)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_ms(pids: Iterable[int]) -> dict[int, float]:
    """pid -> user + system CPU time so far, ms (processes that ended are left out)."""
    times = {}
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            times[pid] = (int(fields[11]) + int(fields[12])) * _TICK_MS
    return times


@dataclass
class CpuMeter:
    """Measures one side (the server's process group, or the database's tree)."""

    pids: Callable[[], list[int]]
    _before: dict[int, float] | None = None

    def start(self) -> None:
        self._before = cpu_ms(self.pids())

    def stop(self) -> float:
        """CPU ms spent since start() by the processes alive now (a process born
        during the run counts from zero: a backend forked for a new connection)."""
        before = self._before or {}
        after = cpu_ms(self.pids())
        return sum(total - before.get(pid, 0.0) for pid, total in after.items())
