"""The whole bot, polling the loopback Bot API server, on a migrated database (SQLite and PostgreSQL).

A resident writes; the receipt and the staff card follow within a second; a staff member's tap confirms
the complaint, and the case and its acknowledgement are in the database. An email message already
awaiting review gets its card from the repeating job.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.telegram.app import build_application
from bot.telegram.settings import BotSettings
from classifier.classify import Classifier
from models.cases import Case
from models.database import DatabaseSettings, make_engine, upgrade
from models.enums import CaseKind, CaseStatus, Channel, MessageStatus, OutboxChannel, OutboxStatus
from models.messages import InboundMessage, InboundMessageCreate
from models.outbox import OutboxItem
from models.people import StaffMemberCreate
from models.repository.messages import store_inbound
from models.repository.staff import add_staff
from tests.bot_harness import RESIDENT, STAFF_CHAT, WORK, utc_now
from tests.servers.telegram_api import BotApiServer

TESS = 700_010
COMPLAINT = (
    "Third time I've reported the black mould in the bedroom and nobody has come. My son has asthma. "
    "I want it treated properly this week."
)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """A database migrated as `triage db upgrade` does, with Tess on the staff and one email waiting."""
    upgrade(DatabaseSettings(database_url))
    eng = make_engine(DatabaseSettings(database_url))
    with Session(eng) as session:
        add_staff(
            session,
            data=StaffMemberCreate(name="Tess", email="tess@riverside.example", telegram_user_id=TESS),
            now=utc_now(),
        )
        message, _ = store_inbound(
            session,
            data=InboundMessageCreate(
                channel=Channel.EMAIL,
                source_key="imap:test:1:1",
                content_hash="h",
                received_at=utc_now(),
                sender_address="maria@resident.example",
                subject="Bins",
                body_text="The bins were not collected again.",
                new_text="The bins were not collected again.",
            ),
            now=utc_now(),
        )
        message.status = MessageStatus.AWAITING_REVIEW
        session.add(message)
        session.commit()
    try:
        yield eng
    finally:
        eng.dispose()


async def test_resident_message_card_tap_and_acknowledgement(engine: sa.Engine, classifier: Classifier) -> None:
    with BotApiServer(max_poll_seconds=2) as api:
        settings = BotSettings(
            token=api.token, staff_chat_id=STAFF_CHAT, base_url=api.base_url, base_file_url=api.base_file_url
        )
        application = build_application(settings, engine=engine, casework=WORK, classifier=classifier, clock=utc_now)
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(timeout=1, poll_interval=0)
            try:
                # The repeating job (every 2 s) posts the email's card.
                (email_card,) = await api.wait_for_async(lambda: api.sent_messages(STAFF_CHAT), timeout=5)

                pushed = time.monotonic()
                api.push_message(RESIDENT, RESIDENT, COMPLAINT, first_name="Kelly")
                (receipt,) = await api.wait_for_async(lambda: api.sent_messages(RESIDENT), timeout=5)
                receipt_seconds = time.monotonic() - pushed
                card = (await api.wait_for_async(lambda: api.sent_messages(STAFF_CHAT)[1:], timeout=5))[0]
                card_seconds = time.monotonic() - pushed
                print(f"\nresident message queued -> receipt {receipt_seconds:.3f} s, card {card_seconds:.3f} s")

                assert card.reply_markup is not None
                callback = card.reply_markup["inline_keyboard"][0][0]["callback_data"]
                api.push_callback(STAFF_CHAT, TESS, card.message_id, callback, first_name="Tess")
                (edited,) = await api.wait_for_async(api.edited_messages, timeout=5)
                await api.wait_for_async(api.answered_callbacks, timeout=5)
            finally:
                await application.updater.stop()
                await application.stop()

    assert email_card.text is not None and "<b>New email message" in email_card.text
    assert receipt.text is not None
    reference = re.search(r"Your reference is (MSG-\d{6})\.", receipt.text)
    assert reference is not None
    assert card.text is not None and f"message {reference.group(1)}</b>" in card.text
    assert card.text.split("\n")[1].startswith("<b>\u26a0\ufe0f HAZARD: damp and mould")
    assert card_seconds < 1.0, f"the card took {card_seconds:.2f} s"
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        item = session.exec(select(OutboxItem)).one()
        message = session.exec(select(InboundMessage).where(InboundMessage.channel == Channel.CHAT)).one()
    assert (case.kind, case.status) == (CaseKind.COMPLAINT, CaseStatus.STAGE1_OPEN)
    assert (item.idempotency_key, item.channel, item.recipient) == (
        f"ack:{case.reference}:stage1",
        OutboxChannel.TELEGRAM,
        str(RESIDENT),
    )
    assert item.status is OutboxStatus.PENDING  # the outbox worker sends it; not this bot's job
    assert message.status is MessageStatus.TRIAGED and message.case_id == case.id
    assert edited.text is not None and f"Confirmed as complaint {case.reference} by Tess" in edited.text
    assert api.pending_updates == 0
