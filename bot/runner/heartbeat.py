"""Liveness for `triage status`: each part of the service notes in the database when it last did its work.

Writes are throttled per part (at most one every `every` seconds), never raise, and log an outage of
the database once rather than on every beat.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from models.repository.status import record_heartbeat

log = logging.getLogger(__name__)

TELEGRAM = "telegram"
SCHEDULER = "scheduler"
OUTBOX = "outbox"


def instance_name() -> str:
    """Which process wrote a heartbeat, for when two instances share a database."""
    return f"{socket.gethostname()} pid {os.getpid()}"


class Heartbeat:
    """Throttled, thread-safe heartbeat writer shared by the service's parts."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], *, every: float = 5.0) -> None:
        self.engine = engine
        self.clock = clock
        self.every = every
        self.instance = instance_name()
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._failing = False

    def due(self, name: str) -> bool:
        """True (and the slot taken) when `name` has not beaten within the last `every` seconds."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(name)
            if last is not None and now - last < self.every:
                return False
            self._last[name] = now
            return True

    def beat(self, name: str, detail: str | None = None) -> None:
        """Record `name` now unless it was recorded moments ago. Blocking: call it off the event loop."""
        if self.due(name):
            self.write(name, detail)

    def write(self, name: str, detail: str | None = None) -> None:
        text = f"{self.instance}: {detail}" if detail else self.instance
        try:
            with Session(self.engine) as session:
                record_heartbeat(session, name=name, now=self.clock(), detail=text)
                session.commit()
        except SQLAlchemyError as exc:
            with self._lock:
                self._last.pop(name, None)  # try again at the next chance, not `every` seconds later
                first = not self._failing
                self._failing = True
            if first:
                log.warning("cannot record the %s heartbeat (%s); retrying quietly", name, type(exc).__name__)
            return
        with self._lock:
            recovered, self._failing = self._failing, False
        if recovered:
            log.info("recording heartbeats again")

    async def on_update(self, update: object, _context: object) -> None:
        """A PTB handler for every update: notes that the bot is receiving (throttled, off the loop)."""
        if not self.due(TELEGRAM):
            return
        update_id = getattr(update, "update_id", None)
        await asyncio.to_thread(self.write, TELEGRAM, f"update {update_id}" if update_id is not None else None)
