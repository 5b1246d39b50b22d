"""`triage run` as a subprocess for tests: its JSON log read as it comes, bounded waits, a clean environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 90.0  # imports and the model on a busy two-core machine
STOP_SECONDS = 15.0
T = TypeVar("T")
TRIAGE = (sys.executable, "-m", "bot")


def later(moment: datetime) -> tuple[str, ...]:
    """The `triage` command with its wall clock moved to `moment` and running on (tests/servers/shifted_clock.py)."""
    return (sys.executable, "-m", "tests.servers.shifted_clock", moment.isoformat())


def wait_until(predicate: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(0.1)
    return result


class Service:
    """`triage run` in a subprocess; its stderr (JSON log lines) is read as it comes by a thread."""

    def __init__(self, env: dict[str, str], *args: str, launcher: Sequence[str] = TRIAGE) -> None:
        self.process = subprocess.Popen(
            [*launcher, "run", *args],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def entries(self) -> list[dict[str, object]]:
        """Every stderr line parsed as JSON: a line that is not JSON fails the test."""
        with self._lock:
            return [json.loads(line) for line in self.lines]

    def wait_for_log(self, text: str, timeout: float = START_SECONDS) -> None:
        def seen() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"`triage run` exited {self.process.returncode} early:\n{self.log}")
            return text in self.log

        wait_until(seen, timeout, f"log line {text!r}\n{self.log}")

    def signal(self, signum: signal.Signals = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = STOP_SECONDS) -> int:
        code = self.process.wait(timeout=timeout)
        self._close()
        return code

    def _close(self) -> None:
        self._reader.join(timeout=5)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()

    def stop(self, timeout: float = STOP_SECONDS) -> tuple[int, float]:
        started = time.monotonic()
        self.signal(signal.SIGTERM)
        code = self.wait(timeout)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._close()


@contextmanager
def running(env: dict[str, str], *args: str, launcher: Sequence[str] = TRIAGE) -> Iterator[Service]:
    """`launcher` is the `triage` command; `later(moment)` gives one whose wall clock starts at `moment`."""
    service = Service(env, *args, launcher=launcher)
    try:
        yield service
    finally:
        service.kill()


def environment(database_url: str, data_dir: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(
        TRIAGE_DATA_DIR=str(data_dir),
        TRIAGE_DATABASE_URL=database_url,
        TRIAGE_SHUTDOWN_GRACE_SECONDS="10",
        TRIAGE_MESSAGE_ID_DOMAIN="triage.test",
    )
    env.update(values)
    return env
