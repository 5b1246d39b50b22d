"""Classify freshly stored messages in one batch and read replies in their case's context."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from classifier.classify import Classifier, MessageIn
from intake.threading_rules import thread_hint
from models.cases import Case
from models.classification import Classification
from models.enums import ExclusionHint, Hazard, Label, MessageStatus
from models.messages import InboundMessage
from models.types import row_id


def classify_messages(
    session: Session, messages: Sequence[InboundMessage], *, classifier: Classifier, received: date, now: datetime
) -> None:
    """Store a classification for each message that is new and written by a person; never for auto mail.

    One bulk insert for the classifications and one UPDATE for the statuses, not one per message.
    """
    todo = [m for m in messages if m.status is MessageStatus.NEW]
    if not todo:
        return
    inputs = [MessageIn(str(row_id(m)), m.channel.value, m.subject, m.new_text or m.body_text) for m in todo]
    results = classifier.classify_many(inputs, received=received)
    rows = []
    for message, result in zip(todo, results, strict=True):
        definition = result.definition
        rows.append(
            {
                "message_id": row_id(message),
                "model_version": result.model_version,
                "label": Label(result.label),
                "confidence": result.confidence,
                "scores": result.scores,
                "needs_review": result.needs_review,
                "categories": result.categories,
                "hazard": Hazard(result.hazard) if result.hazard else None,
                "vulnerability": result.vulnerability,
                "third_party": result.third_party,
                "exclusion_hint": ExclusionHint(result.exclusion_hint) if result.exclusion_hint else None,
                "definition_summary": definition.summary if definition else None,
                "definition_outcome": definition.outcome if definition else None,
                "needs_clarification": definition.needs_clarification if definition else False,
                "created_at": now,
            }
        )
        if message.case_id is not None:
            case = session.get(Case, message.case_id)
            if case is not None:
                message.thread_hint = thread_hint(case.kind, case.status, case.stage, result.label)
    session.execute(sa.insert(Classification), rows)
    ids = [row_id(m) for m in todo]
    session.execute(
        sa.update(InboundMessage).where(col(InboundMessage.id).in_(ids)).values(status=MessageStatus.AWAITING_REVIEW),
        execution_options={"synchronize_session": False},
    )
    for message in todo:  # keep the objects in step with the row, without a second UPDATE each
        set_committed_value(message, "status", MessageStatus.AWAITING_REVIEW)
    session.flush()
