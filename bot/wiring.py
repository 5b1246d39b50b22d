"""Builds the typed objects each package takes from the settings: the one place that wires them."""

from __future__ import annotations

import logging
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
from scheduler.fallback import fall_back_to_email
from scheduler.mail_settings import DeliverySettings
from scheduler.senders import Sender, SmtpSender

log = logging.getLogger(__name__)


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
    worker_type: Callable[..., OutboxWorker] = OutboxWorker,
) -> OutboxWorker | None:
    """The delivery worker, or None when there is nothing to send with (no SMTP and no extra senders).

    `worker_type` builds it from OutboxWorker's arguments: the service passes one that also records heartbeats.
    """
    senders: dict[OutboxChannel, Sender] = dict(extra_senders or {})
    smtp = settings.smtp()
    if smtp is not None:
        senders[OutboxChannel.EMAIL] = SmtpSender(smtp)
    if not senders:
        return None
    return worker_type(engine, senders, DeliverySettings(), clock, on_failure=partial(_on_failure, work=work))


def _on_failure(session: Session, item: OutboxItem, now: datetime, *, work: Casework) -> None:
    """Tell staff, then (for a chat letter to a resident) send it by email instead; each on its own, so the
    alert stands even if the fallback fails."""
    alert_delivery_failure(session, item, now=now, work=work)
    try:
        with session.begin_nested():
            fall_back_to_email(session, item, now=now, work=work)
    except Exception:
        log.exception("outbox item %s: the email fallback failed", item.id)
