"""Run `triage` with the wall clock moved to a given moment, for tests that need "ten working days later".

`python -m tests.servers.shifted_clock 2026-12-07T10:00:00+00:00 run ...` is `triage run ...` whose
datetime.now() and time.time() start at that moment and keep running (time-machine patches them for the
whole process, threads included); monotonic clocks, and so every timeout, are left alone. The service's
own code is unchanged: it simply believes it is later.
"""

from __future__ import annotations

import sys
from datetime import datetime

import time_machine

from bot.cli import main


def run() -> None:
    moment = datetime.fromisoformat(sys.argv[1])
    sys.argv = ["triage", *sys.argv[2:]]
    with time_machine.travel(moment, tick=True):
        main()


if __name__ == "__main__":
    run()
