"""How much memory this machine can still give the process: what nstx's size checks compare with.

Linux reports it as ``MemAvailable`` (/proc/meminfo); a container's cgroup may allow less. Where
neither can be read, the free pages are the guess, and None means there is nothing to go by.
"""

from __future__ import annotations

import os
from pathlib import Path

GIB = 2**30


def available() -> int | None:
    """Bytes the process can still allocate without swapping or being killed, as far as known."""
    known = [found for found in (meminfo_available(), cgroup_headroom()) if found is not None]
    if known:
        return min(known)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def cgroup_headroom() -> int | None:
    """``memory.max - memory.current`` of this process's cgroup (v2); None without a limit."""
    try:
        entry = Path("/proc/self/cgroup").read_text().splitlines()[0]
        group = Path("/sys/fs/cgroup") / entry.partition("::")[2].lstrip("/")
        limit = (group / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return int(limit) - int((group / "memory.current").read_text())
    except (OSError, ValueError, IndexError):
        return None


def gib(size: float) -> str:
    """Bytes as GiB for a message: ``'3.2 GiB'``."""
    return f"{size / GIB:.1f} GiB"
