from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from models.blobs import Blob, MailboxCheckpoint


def put_blob(session: Session, *, content: bytes, now: datetime) -> str:
    """Store bytes once by their SHA-256 and return it; storing the same bytes again costs nothing."""
    digest = hashlib.sha256(content).hexdigest()
    if session.get(Blob, digest) is None:
        session.add(Blob(sha256=digest, size=len(content), content=content, created_at=now))
        session.flush()
    return digest


def put_blobs(session: Session, *, contents: Sequence[bytes], now: datetime) -> list[str]:
    """Store many byte strings at once (one look-up for the lot); returns their SHA-256s in order."""
    digests = [hashlib.sha256(c).hexdigest() for c in contents]
    wanted = set(digests)
    present = set(session.exec(select(Blob.sha256).where(col(Blob.sha256).in_(sorted(wanted))))) if wanted else set()
    for digest, content in zip(digests, contents, strict=True):
        if digest not in present:
            session.add(Blob(sha256=digest, size=len(content), content=content, created_at=now))
            present.add(digest)
    return digests


def get_blob(session: Session, *, sha256: str) -> bytes | None:
    blob = session.get(Blob, sha256)
    return blob.content if blob else None


def get_checkpoint(session: Session, *, mailbox: str) -> MailboxCheckpoint | None:
    return session.get(MailboxCheckpoint, mailbox)


def save_checkpoint(session: Session, *, mailbox: str, uidvalidity: int, last_uid: int, now: datetime) -> None:
    checkpoint = session.get(MailboxCheckpoint, mailbox)
    if checkpoint is None:
        checkpoint = MailboxCheckpoint(mailbox=mailbox, uidvalidity=uidvalidity)
    checkpoint.uidvalidity = uidvalidity
    checkpoint.last_uid = max(last_uid, checkpoint.last_uid) if checkpoint.uidvalidity == uidvalidity else last_uid
    checkpoint.last_success_at = now
    session.add(checkpoint)
    session.flush()
