"""What the Telegram bot needs to run. Built by `bot.settings.TriageSettings.telegram()`; reads no environment."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BotSettings:
    """The bot's token (kept out of `repr`), the staff chat, and where the Bot API lives.

    `base_url` and `base_file_url` are for a local Bot API server (or a test's loopback one); None means
    Telegram's own. Cards for new messages are looked for every `card_poll_seconds`.
    """

    token: str = field(repr=False)
    staff_chat_id: int | None
    base_url: str | None = None
    base_file_url: str | None = None
    card_poll_seconds: float = 2.0
    cards_per_run: int = 20
    max_photo_bytes: int = 10 * 1024 * 1024

    def __post_init__(self) -> None:
        if not self.token.strip():
            raise ValueError("the Telegram bot token is empty")
        if self.card_poll_seconds <= 0:
            raise ValueError("card_poll_seconds must be positive")
