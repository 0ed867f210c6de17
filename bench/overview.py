"""The console overview's cost: how long its report (``deskwatch.core.report.recent``, the
figures of `deskwatch report` over the last 8 weeks) and its per-10-seconds read take on a big
store. Uses bench/tui.py's store (built once, kept at --db). Prints medians of --runs runs.

    .venv/bin/python bench/overview.py [--tickets 100000] [--runs 3] [--db PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from tui import NOW, build_store  # noqa: E402 - bench/tui.py, next to this file

from deskwatch.core.report import recent  # noqa: E402
from deskwatch.core.store import QueueFilter, Store  # noqa: E402
from deskwatch.tui.context import default_calendar  # noqa: E402
from deskwatch.tui.screens.overview import OverviewScreen  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "deskwatch-bench-tui.db")
    args = ap.parse_args()
    build_store(args.db, args.tickets)
    cal = default_calendar()
    report_s, read_s, cpu_s = [], [], []
    with Store(args.db) as store:
        for _ in range(args.runs):
            # Alternate the two reads, as the overview does them (A B A B).
            t0, c0 = time.perf_counter(), time.process_time()
            rep = recent(store, cal, NOW, weeks=OverviewScreen.WEEKS)
            report_s.append(time.perf_counter() - t0)
            cpu_s.append(time.process_time() - c0)
            t0 = time.perf_counter()
            store.queue(QueueFilter(), limit=OverviewScreen.SCAN, now=NOW)
            store.status(NOW)
            store.outbox_failures(limit=OverviewScreen.FAILED)
            read_s.append(time.perf_counter() - t0)
    tickets = rep.tickets if rep else 0
    report, cpu = statistics.median(report_s), statistics.median(cpu_s)
    print(f"overview report over {tickets:,} tickets: median {report:.2f} s wall, {cpu:.2f} s CPU "
          f"(at most once a minute, only after a store change: <= {100 * cpu / OverviewScreen.REPORT_EVERY:.0f}% of a core)")
    print(f"overview counts read (queue scan of {OverviewScreen.SCAN:,}, status, failures): median {statistics.median(read_s):.2f} s "
          f"(every {OverviewScreen.EVERY:g} s while the overview is open)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
