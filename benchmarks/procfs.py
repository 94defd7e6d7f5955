"""What /proc says about a process: resident memory (now and peak) and CPU time (Linux only)."""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _status_kib(field: str, pid: int | str = "self") -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return None


def rss_bytes(pid: int | str = "self") -> int | None:
    """VmRSS of a process (this one by default) in bytes, or None where /proc does not say."""
    return _status_kib("VmRSS:", pid)


def peak_rss_bytes() -> int | None:
    """VmHWM (the peak of VmRSS since start or since `reset_peak_rss`) in bytes, or None."""
    return _status_kib("VmHWM:")


def reset_peak_rss() -> bool:
    """Restart VmHWM from the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def cpu_ticks(pid: int) -> int:
    """User plus system CPU time of process `pid` (all its threads) in clock ticks, from /proc/PID/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    # Fields after the command name, which is in parentheses and may itself contain spaces.
    fields = text[text.rfind(")") + 2 :].split()
    utime, stime = fields[11], fields[12]
    return int(utime) + int(stime)


def _parent(pid: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(text[text.rfind(")") + 2 :].split()[1])


def tree_cpu_ticks(pid: int) -> int:
    """`cpu_ticks` of `pid` and of every living descendant (uvicorn's supervisor and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _parent(entry.name)
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += cpu_ticks(current)
        except OSError:
            continue  # exited between the listing and the reading
        pending += children.get(current, [])
    return total
