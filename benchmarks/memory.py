"""Resident memory of this process, read from /proc/self/status (Linux only)."""

from __future__ import annotations

from pathlib import Path

_STATUS = Path("/proc/self/status")


def rss_bytes() -> int | None:
    """VmRSS in bytes, or None where /proc is not available."""
    try:
        text = _STATUS.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None
