"""CPU time of the embedded runtime's processes, for benchmarks that report what work costs whatever
else the machine is doing meanwhile."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path


def cpu_seconds(pids: list[int], *, children: bool = False) -> float:
    """CPU seconds used so far by this process (every thread: the functions run here), by the running
    processes ``pids`` (the moto servers: ``LocalRuntime.aws_pids()``) and, with ``children``, by this
    process's children that have ended and been waited for (a sender run as a subprocess). Linux
    (/proc); a process that has gone counts 0."""
    total = time.process_time()
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    if children:
        ended = resource.getrusage(resource.RUSAGE_CHILDREN)
        total += ended.ru_utime + ended.ru_stime
    return total
