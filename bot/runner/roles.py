"""Which parts of the service this instance runs.

With several instances on one PostgreSQL database, the outbox worker may run in all of them (claims
are `FOR UPDATE SKIP LOCKED` under a lease); the Telegram bot must run in exactly one (two long pollers
on one token make Telegram answer 409 Conflict), and email intake and the scheduler in one (see the
README, "Running in production"). A part also needs its settings: the bot a token, intake a mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Roles:
    bot: bool = True
    intake: bool = True
    scheduler: bool = True
    outbox: bool = True

    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def names(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name)]
