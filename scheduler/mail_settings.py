"""Typed settings for sending mail and delivering the outbox. Built by bot/ from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from intake.settings import Security

__all__ = ["DeliverySettings", "Security", "SmtpSettings"]

_DEFAULT_PORTS = {Security.TLS: 465, Security.STARTTLS: 587, Security.PLAIN: 25}


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    """The submission server we send through, and who our mail says it is from.

    `security` is implicit TLS by default; `plain` is only for loopback tests and is never chosen
    silently. The password is never shown by `repr`, so it stays out of logs and tracebacks.
    """

    host: str
    port: int | None = None
    security: Security = Security.TLS
    username: str | None = None
    password: str | None = None
    from_address: str
    from_name: str
    # The right-hand side of the Message-IDs we make, e.g. "triage.landlord.example".
    message_id_domain: str
    timeout_seconds: float = 30.0
    ca_file: Path | None = None  # a private certificate authority; the system trust store otherwise

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else _DEFAULT_PORTS[self.security]

    def __repr__(self) -> str:  # never show the password
        login = f"{self.username}@" if self.username else ""
        return (
            f"SmtpSettings({login}{self.host}:{self.effective_port}, {self.security.value}, from={self.from_address})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class DeliverySettings:
    """How the outbox worker claims and retries. A claim counts as an attempt (see `claim_due`)."""

    batch_size: int = 50
    # How long a claim is ours; a worker that dies mid-batch gives its items back when it runs out.
    lease_seconds: float = 300
    # Enough for a day-long SMTP outage at the backoff cap, so Code letters are not given up on lightly.
    max_attempts: int = 30
    # Exponential backoff between attempts: min, 2 x min, 4 x min, ... capped at max.
    backoff_seconds_min: float = 60
    backoff_seconds_max: float = 3600
