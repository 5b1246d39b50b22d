"""What every case event that sends a message needs: the calendar, the timescales, the landlord."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import make_msgid

from models.timescales import CODE_2024, Timescales
from scheduler.calendar import WorkingCalendar
from scheduler.letters import LandlordDetails


@dataclass(frozen=True)
class Casework:
    calendar: WorkingCalendar
    landlord: LandlordDetails
    message_id_domain: str
    timescales: Timescales = CODE_2024
    reminder_offsets: tuple[int, ...] = (3, 1, 0)
    staff_chat_id: int | None = None  # the Telegram staff chat, for alerts

    def message_id(self, key: str) -> str:
        """A Message-ID for an outgoing message; replies carry it back so they thread onto the case."""
        safe = "".join(c if c.isalnum() else "." for c in key)[:60]
        return make_msgid(idstring=safe, domain=self.message_id_domain)
