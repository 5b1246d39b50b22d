"""Builds the typed objects each package takes from the settings: the one place that wires them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.settings import TriageSettings
from models.enums import OutboxChannel
from models.outbox import OutboxItem
from scheduler.alerts import alert_delivery_failure
from scheduler.casework import Casework
from scheduler.delivery import OutboxWorker
from scheduler.mail_settings import DeliverySettings
from scheduler.senders import Sender, SmtpSender


def utc_now() -> datetime:
    return datetime.now(UTC)


def casework(settings: TriageSettings) -> Casework:
    return Casework(
        calendar=settings.calendar(),
        landlord=settings.landlord(),
        message_id_domain=settings.message_id_domain,
        staff_chat_id=settings.staff_chat_id,
    )


def outbox_worker(
    settings: TriageSettings,
    engine: Engine,
    work: Casework,
    *,
    extra_senders: dict[OutboxChannel, Sender] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> OutboxWorker | None:
    """The delivery worker, or None when there is nothing to send with (no SMTP and no extra senders)."""
    senders: dict[OutboxChannel, Sender] = dict(extra_senders or {})
    smtp = settings.smtp()
    if smtp is not None:
        senders[OutboxChannel.EMAIL] = SmtpSender(smtp)
    if not senders:
        return None
    return OutboxWorker(engine, senders, DeliverySettings(), clock, on_failure=partial(_on_failure, work=work))


def _on_failure(session: Session, item: OutboxItem, now: datetime, *, work: Casework) -> None:
    alert_delivery_failure(session, item, now=now, work=work)
