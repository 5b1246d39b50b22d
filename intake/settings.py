"""Typed settings for email intake. Built by bot/ from the environment; nothing here reads it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Security(StrEnum):
    TLS = "tls"  # implicit TLS (IMAPS, usually port 993): the default
    STARTTLS = "starttls"
    PLAIN = "plain"  # only for loopback tests; never silently chosen


@dataclass(frozen=True)
class MailboxSettings:
    host: str
    username: str
    password: str | None = None
    oauth2_token: str | None = None
    port: int | None = None
    security: Security = Security.TLS
    ca_file: Path | None = None
    folder: str = "INBOX"
    # Marked on the server once a message is safely stored; deleting is never the default.
    processed_keyword: str = "$TriageStored"
    move_to: str | None = None
    timeout_seconds: float = 30.0

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return 993 if self.security is Security.TLS else 143

    @property
    def name(self) -> str:
        """Identifies the folder in checkpoints and source keys."""
        return f"{self.username}@{self.host}/{self.folder}"

    def __repr__(self) -> str:  # never show secrets in logs or tracebacks
        return f"MailboxSettings({self.name}, {self.security.value})"


@dataclass(frozen=True)
class IntakeSettings:
    batch_size: int = 100
    max_message_bytes: int = 25 * 1024 * 1024
    max_attachment_bytes: int = 10 * 1024 * 1024
    poll_seconds: float = 60.0
    idle_seconds: float = 300.0
    # More than this many messages from one sender in an hour looks like a mail loop.
    sender_limit_per_hour: int = 30
