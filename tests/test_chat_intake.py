"""Chat intake: residents' Telegram messages stored once, matched to a resident, classified, never committed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from classifier.classify import Classifier, MessageIn, Result
from classifier.model import TriageModel
from intake.chat import (
    PHOTO_ONLY_TEXT,
    ChatIncoming,
    ChatPhoto,
    ChatStoreOutcome,
    content_hash,
    reference_for,
    store_chat_message,
)
from models.classification import Classification
from models.enums import Channel, ContactChannel, MessageStatus
from models.messages import Attachment, InboundMessage
from models.people import Resident, ResidentCreate
from models.repository.blobs import get_blob
from models.repository.residents import add_resident
from models.types import row_id

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
RECEIVED = datetime(2026, 11, 24, 9, 58, 17, tzinfo=UTC)
COMPLAINT = "engineer never turned up AGAIN for the boiler, 3rd time now, took the day off for nothing. not happy"
JPEG = b"\xff\xd8\xff\xe0fake-jpeg-bytes"


def incoming(
    text: str = COMPLAINT,
    *,
    message_id: int = 101,
    user_id: int = 555_000_111,
    user_name: str | None = "Kelly M",
    photos: tuple[ChatPhoto, ...] = (),
) -> ChatIncoming:
    return ChatIncoming(
        chat_id=user_id,  # a private chat's id is the user's id
        message_id=message_id,
        user_id=user_id,
        user_name=user_name,
        text=text,
        received_at=RECEIVED,
        photos=photos,
    )


def store(session: Session, item: ChatIncoming, classifier: Classifier | None) -> ChatStoreOutcome:
    return store_chat_message(session, incoming=item, now=T0, classifier=classifier)


def count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_first_message_creates_a_provisional_resident_and_a_message_awaiting_review(
    session: Session, classifier: Classifier
) -> None:
    outcome = store(session, incoming(), classifier)
    session.commit()

    message = outcome.message
    assert outcome.created
    assert message.channel is Channel.CHAT
    assert message.source_key == "telegram:555000111:101"
    assert message.sender_address == "telegram:555000111"
    assert message.sender_name == "Kelly M"
    assert message.received_at == RECEIVED
    assert message.new_text == message.body_text == COMPLAINT
    assert message.subject is None
    assert message.status is MessageStatus.AWAITING_REVIEW
    assert message.case_id is None  # chat messages are not threaded onto cases automatically
    classification = session.exec(select(Classification).where(Classification.message_id == message.id)).one()
    assert classification.created_at == T0

    resident = session.exec(select(Resident)).one()
    assert message.resident_id == resident.id
    assert resident.telegram_user_id == 555_000_111
    assert resident.name == "Kelly M"
    assert resident.provisional
    assert resident.preferred_channel is ContactChannel.CHAT
    assert resident.email is None
    assert resident.created_at == T0


def test_the_same_update_twice_is_stored_once(session: Session, classifier: Classifier) -> None:
    first = store(session, incoming(), classifier)
    session.commit()
    again = store(session, incoming(), classifier)
    session.commit()

    assert not again.created
    assert again.message.id == first.message.id
    assert again.reference == first.reference
    assert count(session, InboundMessage) == 1
    assert count(session, Classification) == 1
    assert count(session, Resident) == 1


def test_a_second_message_from_the_same_user_reuses_the_resident(session: Session, classifier: Classifier) -> None:
    first = store(session, incoming(), classifier)
    second = store(session, incoming("any news on the boiler?", message_id=102), classifier)
    session.commit()

    assert second.created
    assert second.message.id != first.message.id
    assert second.message.resident_id == first.message.resident_id
    assert count(session, Resident) == 1
    assert count(session, InboundMessage) == 2


def test_a_photo_with_a_caption_keeps_the_caption_and_the_photo_bytes(session: Session, classifier: Classifier) -> None:
    caption = "mould is back in the babys room, can someone come out"
    photo = ChatPhoto(file_id="AgACAgQAAxkBAAIBQ2abc", content=JPEG, size=999)
    outcome = store(session, incoming(caption, photos=(photo,)), classifier)
    session.commit()

    assert outcome.message.new_text == caption
    assert outcome.message.status is MessageStatus.AWAITING_REVIEW
    attachment = session.exec(select(Attachment)).one()
    assert attachment.message_id == outcome.message.id
    assert attachment.filename == "telegram:AgACAgQAAxkBAAIBQ2abc"
    assert attachment.content_type == "image/jpeg"
    assert attachment.size == len(JPEG)  # the bytes we hold, not the size Telegram reported
    assert attachment.storage_ref is not None
    assert attachment.sha256 == attachment.storage_ref
    assert get_blob(session, sha256=attachment.storage_ref) == JPEG


def test_a_photo_alone_is_stored_as_photo_never_as_an_empty_message(session: Session, classifier: Classifier) -> None:
    photos = (ChatPhoto("file-a", JPEG), ChatPhoto("file-b", None, content_type="image/png", size=20_480))
    outcome = store(session, incoming("", photos=photos), classifier)
    session.commit()

    assert outcome.message.new_text == outcome.message.body_text == PHOTO_ONLY_TEXT
    assert outcome.message.status is MessageStatus.AWAITING_REVIEW
    by_name = {a.filename: a for a in session.exec(select(Attachment))}
    assert set(by_name) == {"telegram:file-a", "telegram:file-b"}
    assert by_name["telegram:file-a"].storage_ref is not None
    metadata_only = by_name["telegram:file-b"]
    assert metadata_only.storage_ref is None
    assert metadata_only.sha256 == ""
    assert (metadata_only.content_type, metadata_only.size) == ("image/png", 20_480)


def test_a_known_resident_is_matched_by_their_telegram_id(session: Session, classifier: Classifier) -> None:
    known = add_resident(
        session,
        data=ResidentCreate(
            name="Kelly Morgan", email="kelly@resident.example", telegram_user_id=555_000_111, tenancy_ref="T-1042"
        ),
        now=T0 - timedelta(days=400),
    )
    session.commit()

    outcome = store(session, incoming(user_name="kel 🌸"), classifier)
    session.commit()

    assert outcome.message.resident_id == known.id
    assert count(session, Resident) == 1
    session.refresh(known)
    assert not known.provisional
    assert known.name == "Kelly Morgan"  # a chat display name never overwrites what we hold
    assert known.preferred_channel is ContactChannel.EMAIL


def test_without_a_classifier_the_message_stays_new(session: Session) -> None:
    outcome = store(session, incoming(), None)
    session.commit()

    assert outcome.created
    assert outcome.message.status is MessageStatus.NEW
    assert count(session, Classification) == 0


class _BrokenClassifier(Classifier):
    def classify_many(self, messages: Sequence[MessageIn], *, received: date) -> list[Result]:
        raise RuntimeError("model file unreadable")


def test_a_failing_classifier_never_loses_the_message(session: Session) -> None:
    outcome = store(session, incoming(), _BrokenClassifier(TriageModel.load()))
    session.commit()

    assert outcome.created
    assert outcome.message.status is MessageStatus.NEW
    assert count(session, InboundMessage) == 1
    assert count(session, Classification) == 0


def test_storing_flushes_but_never_commits(session: Session, classifier: Classifier) -> None:
    store(session, incoming(photos=(ChatPhoto("file-a", JPEG),)), classifier)
    session.rollback()

    assert count(session, InboundMessage) == 0
    assert count(session, Resident) == 0
    assert count(session, Attachment) == 0


def test_the_reference_is_msg_and_the_id_padded_to_six_digits(session: Session) -> None:
    outcome = store(session, incoming(), None)
    session.commit()

    assert outcome.reference == f"MSG-{row_id(outcome.message):06d}"
    assert outcome.reference == reference_for(outcome.message)
    assert reference_for(unsaved(42)) == "MSG-000042"
    assert reference_for(unsaved(1_234_567)) == "MSG-1234567"


def unsaved(message_id: int) -> InboundMessage:
    return InboundMessage(
        id=message_id,
        channel=Channel.CHAT,
        source_key=f"telegram:1:{message_id}",
        content_hash="0" * 64,
        received_at=RECEIVED,
        sender_address="telegram:1",
        created_at=T0,
    )


def test_the_content_hash_covers_text_and_photos() -> None:
    assert content_hash("hi", ["a"]) == content_hash("hi", ["a"])
    assert content_hash("hi", ["a"]) != content_hash("hi", ["b"])
    assert content_hash("hi", []) != content_hash("hi ", [])
    assert content_hash("a", ["b"]) != content_hash("a,b", [])


@pytest.mark.parametrize(
    ("text", "received_at", "photos"),
    [
        ("hello", datetime(2026, 11, 24, 9, 0), ()),  # noqa: DTZ001  (naive on purpose)
        ("", RECEIVED, ()),
        ("  \n", RECEIVED, ()),
    ],
    ids=["naive-time", "empty", "blank"],
)
def test_a_chat_message_needs_an_aware_time_and_some_content(
    text: str, received_at: datetime, photos: tuple[ChatPhoto, ...]
) -> None:
    with pytest.raises(ValueError, match=r"time-zone aware|text or a photo"):
        ChatIncoming(1, 2, 3, None, text, received_at, photos)
