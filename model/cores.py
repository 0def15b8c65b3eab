"""How many CPU cores this process may run on."""

from __future__ import annotations

import os


def available_cores() -> int:
    """Cores this process is allowed to use (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
