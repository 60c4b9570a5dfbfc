"""What this machine and process have: usable cores, physical memory, peak resident memory.

>>> machine_cores() >= 1, machine_memory() > 0, peak_rss_bytes() > 0
(True, True, True)
"""

from __future__ import annotations

import os
import resource
import sys


def machine_cores() -> int:
    """Cores this process may run on (its CPU affinity, so a container's or taskset's share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def machine_memory() -> int:
    """Physical memory in bytes (16 GiB when the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 1 << 34


def peak_rss_bytes() -> int:
    """Peak resident memory of this process."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb if sys.platform == "darwin" else kb * 1024


__all__ = ["machine_cores", "machine_memory", "peak_rss_bytes"]
