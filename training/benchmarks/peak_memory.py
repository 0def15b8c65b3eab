"""A process's peak resident memory, as the kernel counts it for that process alone.

`ru_maxrss` from `wait4` is no good for a benchmark's child: Linux carries the high-water
mark of the forking process over into the child, so a child started by a parent that had
loaded torch reports the parent's peak. `VmHWM` belongs to the process's own address space,
which starts afresh at exec.
"""

from __future__ import annotations

import re
import resource
from pathlib import Path


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident set size of process `pid` (default: this one) in MiB."""
    status = Path(f"/proc/{pid}/status")
    if status.is_file():
        found = re.search(r"VmHWM:\s+(\d+)", status.read_text())
        if found:
            return int(found.group(1)) / 1024
    if pid != "self":
        raise OSError(f"{status}: no peak memory figure for process {pid}")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
