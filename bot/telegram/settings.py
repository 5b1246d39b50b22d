"""What the Telegram bot needs to run. Built by `bot.settings.TriageSettings.telegram()`; reads no environment."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BotSettings:
    """The bot's token (kept out of `repr`), the staff chat, and where the Bot API lives.

    `base_url` and `base_file_url` are for a local Bot API server (or a test's loopback one); None means
    Telegram's own. Cards for new messages are looked for every `card_poll_seconds`.

    Telegram allows a bot about 20 messages a minute in one group. Every request to a group goes through
    python-telegram-bot's AIORateLimiter at `group_messages_per_minute` (it waits rather than being
    refused), and cards take at most `cards_per_minute` of that, so that staff taps and command replies
    are never stuck behind a burst of cards. Cards beyond the budget wait in the database, oldest
    acknowledgement deadline first, and /queue always shows everything.
    """

    token: str = field(repr=False)
    staff_chat_id: int | None
    base_url: str | None = None
    base_file_url: str | None = None
    card_poll_seconds: float = 2.0
    cards_per_run: int = 20
    cards_per_minute: int = 15
    group_messages_per_minute: int = 20
    max_photo_bytes: int = 10 * 1024 * 1024

    def __post_init__(self) -> None:
        if not self.token.strip():
            raise ValueError("the Telegram bot token is empty")
        if self.card_poll_seconds <= 0:
            raise ValueError("card_poll_seconds must be positive")
        if not 0 < self.cards_per_minute <= self.group_messages_per_minute:
            raise ValueError("cards_per_minute must be positive and within group_messages_per_minute")
