"""Run a command; write its wall time, CPU time and peak RSS (JSON) to a file: ``measure.py OUT -- ARGV...``.

CPU time (user + system, workers included) is what the machine's other users cannot inflate much.

A small launcher of its own, because a child forked from the big benchmark process would report
the benchmark's memory as its own peak (Linux records the old image's high-water mark at exec).
"""
import json
import os
import sys
import time

out, separator, *argv = sys.argv[1:]
assert separator == "--", "usage: measure.py OUT -- ARGV..."
start = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(out, "w") as handle:
    json.dump({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_kb": usage.ru_maxrss,
               "returncode": os.waitstatus_to_exitcode(status)}, handle)
