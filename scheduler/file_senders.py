"""Delivery into a directory instead of to a server: the demo's outbox, and a dry run before go-live.

Each email is written as the exact .eml the SMTP sender would submit (same headers, same body), and
each chat message as a .txt file, named by outbox item so nothing is written twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from models.outbox import OutboxItem
from scheduler.mail_settings import SmtpSettings
from scheduler.senders import SmtpSender

_UNSAFE = re.compile(r"[^a-z0-9]+")


def _now() -> datetime:
    return datetime.now(UTC)


def file_name(item: OutboxItem, suffix: str) -> str:
    """'0007-ack-cmp-2026-00003-stage1.eml': item number, then its idempotency key made file-safe."""
    key = _UNSAFE.sub("-", item.idempotency_key.lower()).strip("-")[:80]
    return f"{item.id or 0:04d}-{key}{suffix}"


class DirectoryEmailSender(SmtpSender):
    """Builds each email as SmtpSender does and writes it to `directory` as an .eml file."""

    def __init__(self, directory: Path, settings: SmtpSettings, *, clock: Callable[[], datetime] = _now) -> None:
        super().__init__(settings, clock=clock)
        self.directory = directory

    def send(self, item: OutboxItem) -> None:
        message = self.build_message(item)
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / file_name(item, ".eml")).write_bytes(message.as_bytes())


class DirectoryChatSender:
    """Writes each chat message to `directory` as a .txt file headed by its recipient."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, item: OutboxItem) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        text = f"To Telegram chat {item.recipient}\n\n{item.body_text}\n"
        (self.directory / file_name(item, ".txt")).write_text(text, encoding="utf-8")
