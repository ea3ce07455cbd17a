"""Run one command and write its wall time, CPU time and peak RSS to a file.

Usage: ``python -I -S benchmarks/_timed_exec.py RESULT_PATH COMMAND [ARG ...]``

On Linux a new process's peak RSS (``ru_maxrss``) starts at the peak RSS of the process that
spawned it, so a command started straight from the benchmark would report at least the
benchmark's own peak. Started from this script instead, which imports nothing beyond ``os``,
``sys`` and ``time``, the floor is this interpreter's few MiB. The wall time runs from spawning
the command to its exit; CPU time and peak RSS are the command's own, from ``os.wait4``. The
result file gets one line: ``SECONDS CPU_SECONDS PEAK_RSS_KIB``. The exit status is the
command's.
"""

import os
import sys
import time


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    result, command = argv[0], argv[1:]
    start = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _pid, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    with open(result, "w") as file:
        file.write(f"{seconds} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}\n")
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
