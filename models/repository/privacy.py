"""One resident's personal data: find all of it, and erase it while the landlord's statistics stay right.

`collect` gathers everything held about one resident into a `Footprint`; a subject access export
(`models.subject_access`) and an erasure both start from it, so they always cover the same rows.

`erase_resident` anonymises rather than deletes. Every row stays, with its dates, stages, statuses,
decisions, categories, scores and counts, so the complaints performance report (Code 8.1) and the
Tenant Satisfaction Measures (CH01, CH02) count the same before and after; the person's identity and
their words are replaced by `ERASED`, and the stored bytes of their emails and attachments are deleted
unless another message holds the same bytes.

Whether to erase is the landlord's decision, not this module's: Code 5.12 asks for a full record of
each complaint, and limitation periods or a live dispute may justify keeping it. This is for when the
landlord has decided that a resident's data is to go. It cannot reach copies held elsewhere: database
backups, the mailbox the emails came from, or the Telegram chats where they and the staff cards were
posted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.blobs import Blob
from models.cases import Case, Deadline, Extension, StageResponse
from models.classification import Classification, TriageDecision
from models.enums import OutboxStatus, Party
from models.errors import DomainError, NotFoundError
from models.messages import Attachment, InboundMessage
from models.outbox import OutboxItem
from models.people import ContactRestriction, Resident, StaffMember, SupportNeed
from models.records import AuditEvent, Correspondence
from models.repository.audit import record_event
from models.repository.cases import CLOSED_STATUSES
from models.surveys import SurveyRequest
from models.types import HasId, row_id

ERASED = "[erased]"
ERASED_ACTION = "resident_erased"
CANCELLED = "cancelled: the resident's personal data was erased"

# Outbox keys that name a message, an outbox item or a resident rather than a case (scheduler.jobs,
# scheduler.alerts, bot.telegram.linking). The key itself holds only numbers and stays.
UNREVIEWED_KEY = "unreviewed:"
DELIVERY_FAILED_KEY = "delivery-failed:"
LINK_CONFLICT_KEY = "link-conflict:"

# Audit detail keys whose values are the system's own (states, labels, ids, counts), kept on erasure
# unless the value identifies the resident. Every other value in a detail is free text and is erased.
SAFE_DETAIL_KEYS = frozenset(
    {
        "answered",
        "attempts",
        "card_message_id",
        "case",
        "channel",
        "chat_id",
        "chat_refused",
        "decision",
        "email_item_id",
        "feedback_case",
        "from",
        "handler_id",
        "key",
        "label",
        "new_due_on",
        "other_resident_id",
        "outbox_item_id",
        "outcome",
        "predicted",
        "preferred_channel",
        "reading",
        "resident_id",
        "roles",
        "score",
        "service_request",
        "skipped",
        "stage",
        "staff_id",
        "step",
        "survey_request_id",
        "to",
        "what",
        "working_days",
    }
)

_CHUNK = 500
_Row = TypeVar("_Row", bound=HasId)


class AmbiguousResidentError(DomainError):
    """More than one resident matches; the message lists their ids."""


# ------------------------------------------------------------------------------------------ finding


def find_resident(session: Session, *, key: str | None = None, telegram_user_id: int | None = None) -> Resident:
    """The one resident named by a numeric id, an email address (any case) or a Telegram user id.

    Raises NotFoundError when none matches and AmbiguousResidentError when an address is held by more
    than one record (duplicates can slip in; the id then says which one is meant).
    """
    if (key is None) == (telegram_user_id is None):
        raise DomainError("give a resident id, an email address, or --telegram USER_ID (one of them)")
    if telegram_user_id is not None:
        found = session.exec(select(Resident).where(Resident.telegram_user_id == telegram_user_id)).first()
        if found is None:
            raise NotFoundError(f"no resident with Telegram user id {telegram_user_id}")
        return found
    text = (key or "").strip()
    if text.isdigit():
        resident = session.get(Resident, int(text))
        if resident is None:
            raise NotFoundError(f"no resident with id {text}")
        return resident
    if "@" not in text:
        raise DomainError(f"{text!r} is neither a resident id nor an email address")
    email = text.lower()
    matches = list(session.exec(select(Resident).where(Resident.email == email).order_by(col(Resident.id))))
    if not matches:
        raise NotFoundError(f"no resident with email {email}")
    if len(matches) > 1:
        ids = ", ".join(str(r.id) for r in matches)
        raise AmbiguousResidentError(f"{len(matches)} residents have the email {email} (ids {ids}): give the id")
    return matches[0]


def staff_names(session: Session) -> dict[int, str]:
    """Every staff member's name by id (the allow-list is small), for naming who did what in an export."""
    return {row_id(s): s.name for s in session.exec(select(StaffMember))}


def is_erased(resident: Resident) -> bool:
    return resident.name == ERASED and resident.email is None and resident.telegram_user_id is None


# ------------------------------------------------------------------------------------------ collecting


@dataclass
class Footprint:
    """Every row held about one resident, by table, and the stored bytes only their messages refer to.

    Messages are theirs (by resident, or by sender address when intake kept no resident, as for
    auto-replies) or filed on their cases, except messages of another resident. Outbox items are those
    on their cases, addressed to them, or staff reminders, digests and alerts naming them, their cases or
    their messages. Audit events are those on their cases or messages, or whose detail names their
    address or Telegram id.
    """

    resident: Resident
    support_needs: list[SupportNeed]
    contact_restrictions: list[ContactRestriction]
    messages: list[InboundMessage]
    attachments: list[Attachment]
    classifications: list[Classification]
    triage_decisions: list[TriageDecision]
    cases: list[Case]
    deadlines: list[Deadline]
    extensions: list[Extension]
    stage_responses: list[StageResponse]
    correspondence: list[Correspondence]
    outbox_items: list[OutboxItem]
    survey_requests: list[SurveyRequest]
    audit_events: list[AuditEvent]
    # SHA-256 keys of raw emails and attachment contents that no other message refers to.
    blobs: list[str]

    def counts(self) -> dict[str, int]:
        """Rows held, by table name (what an erasure would anonymise, or delete for `blob`)."""
        return {
            "resident": 1,
            "support_need": len(self.support_needs),
            "contact_restriction": len(self.contact_restrictions),
            "inbound_message": len(self.messages),
            "attachment": len(self.attachments),
            "blob": len(self.blobs),
            "classification": len(self.classifications),
            "triage_decision": len(self.triage_decisions),
            "triage_case": len(self.cases),
            "deadline": len(self.deadlines),
            "extension": len(self.extensions),
            "stage_response": len(self.stage_responses),
            "correspondence": len(self.correspondence),
            "outbox_item": len(self.outbox_items),
            "survey_request": len(self.survey_requests),
            "audit_event": len(self.audit_events),
        }

    def open_cases(self) -> list[Case]:
        return [c for c in self.cases if c.status not in CLOSED_STATUSES]


def collect(session: Session, *, resident: Resident) -> Footprint:
    """Everything held about `resident` (read only; see `Footprint` for what belongs to them)."""
    rid = row_id(resident)
    email = resident.email.strip().lower() if resident.email else None
    tg = resident.telegram_user_id
    senders = [s for s in (email, f"telegram:{tg}" if tg is not None else None) if s]

    surveys = list(session.exec(select(SurveyRequest).where(SurveyRequest.resident_id == rid)))
    mine_or_nobodys = sa.or_(col(InboundMessage.resident_id) == rid, col(InboundMessage.resident_id).is_(None))
    messages = list(session.exec(select(InboundMessage).where(InboundMessage.resident_id == rid)))
    if senders:
        sender = func.lower(col(InboundMessage.sender_address)).in_(senders)
        messages += session.exec(select(InboundMessage).where(col(InboundMessage.resident_id).is_(None), sender))
    if email:
        mentions = [
            func.lower(col(c)).contains(email, autoescape=True)
            for c in (InboundMessage.body_text, InboundMessage.subject)
        ]
        named = _mention(email)
        messages += [
            m
            for m in session.exec(
                select(InboundMessage).where(col(InboundMessage.resident_id).is_(None), sa.or_(*mentions))
            )
            if _mentions(named, m.body_text, m.subject)
        ]
    answered = [s.answer_message_id for s in surveys if s.answer_message_id is not None]
    messages += _where_in(session, InboundMessage, InboundMessage.id, answered, mine_or_nobodys)

    cases = list(session.exec(select(Case).where(Case.resident_id == rid)))
    orphan_case_ids = {m.case_id for m in messages if m.case_id is not None}
    cases += _where_in(session, Case, Case.id, orphan_case_ids, col(Case.resident_id).is_(None))
    cases = _unique(cases)
    case_ids = [row_id(c) for c in cases]
    messages = _unique(messages + _where_in(session, InboundMessage, InboundMessage.case_id, case_ids, mine_or_nobodys))
    message_ids = [row_id(m) for m in messages]
    surveys = _unique(surveys + _where_in(session, SurveyRequest, SurveyRequest.case_id, case_ids))

    deadlines = _where_in(session, Deadline, Deadline.case_id, case_ids)
    outbox = _outbox_items(
        session,
        resident_id=rid,
        case_ids=case_ids,
        message_ids=message_ids,
        needles=[*senders, *(c.reference.lower() for c in cases)],
        tg=tg,
    )
    outbox_ids = [row_id(o) for o in outbox]
    attachments = _where_in(session, Attachment, Attachment.message_id, message_ids)
    return Footprint(
        resident=resident,
        support_needs=list(session.exec(select(SupportNeed).where(SupportNeed.resident_id == rid))),
        contact_restrictions=list(
            session.exec(select(ContactRestriction).where(ContactRestriction.resident_id == rid))
        ),
        messages=sorted(messages, key=lambda m: (m.received_at, row_id(m))),
        attachments=attachments,
        classifications=_where_in(session, Classification, Classification.message_id, message_ids),
        triage_decisions=_unique(
            _where_in(session, TriageDecision, TriageDecision.message_id, message_ids)
            + _where_in(session, TriageDecision, TriageDecision.case_id, case_ids)
        ),
        cases=sorted(cases, key=lambda c: (c.received_at, row_id(c))),
        deadlines=deadlines,
        extensions=_where_in(session, Extension, Extension.deadline_id, [row_id(d) for d in deadlines]),
        stage_responses=_where_in(session, StageResponse, StageResponse.case_id, case_ids),
        correspondence=_unique(
            _where_in(session, Correspondence, Correspondence.case_id, case_ids)
            + _where_in(session, Correspondence, Correspondence.inbound_message_id, message_ids)
            + _where_in(session, Correspondence, Correspondence.outbox_item_id, outbox_ids)
        ),
        outbox_items=outbox,
        survey_requests=surveys,
        audit_events=_audit_events(
            session, resident_id=rid, case_ids=case_ids, message_ids=message_ids, email=email, tg=tg
        ),
        blobs=_blobs_only_theirs(session, messages, attachments),
    )


def _outbox_items(
    session: Session,
    *,
    resident_id: int,
    case_ids: Sequence[int],
    message_ids: Sequence[int],
    needles: Sequence[str],
    tg: int | None,
) -> list[OutboxItem]:
    """Items on their cases; and, on no case, items to them or naming them, their cases or their messages.

    Staff reminders, digests and alerts are enqueued without a case but name its reference and quote
    the definition; a digest naming one of their cases is erased whole, other residents' lines with it.
    """
    items = _where_in(session, OutboxItem, OutboxItem.case_id, case_ids)
    no_case = col(OutboxItem.case_id).is_(None)
    recipients = [n for n in needles if "@" in n] + ([str(tg)] if tg is not None else [])
    if recipients:
        items += session.exec(select(OutboxItem).where(no_case, col(OutboxItem.recipient).in_(recipients)))
    for needle in needles:
        mentions = [
            func.lower(col(c)).contains(needle, autoescape=True)
            for c in (OutboxItem.subject, OutboxItem.body_text, OutboxItem.body_html)
        ]
        named = _mention(needle)
        items += [
            o
            for o in session.exec(select(OutboxItem).where(no_case, sa.or_(*mentions)))
            if _mentions(named, o.subject, o.body_text, o.body_html)
        ]
    items += _keyed(session, [f"{UNREVIEWED_KEY}{i}:" for i in message_ids], no_case)
    conflicts = session.exec(
        select(OutboxItem).where(no_case, col(OutboxItem.idempotency_key).startswith(LINK_CONFLICT_KEY))
    )
    items += [o for o in conflicts if str(resident_id) in o.idempotency_key.split(":")[1:3]]
    items = _unique(items)
    items += _keyed(session, [f"{DELIVERY_FAILED_KEY}{row_id(o)}:" for o in items], no_case)
    return sorted(_unique(items), key=row_id)


def _keyed(session: Session, prefixes: Sequence[str], *where: Any) -> list[OutboxItem]:
    found: list[OutboxItem] = []
    for start in range(0, len(prefixes), _CHUNK):
        chunk = prefixes[start : start + _CHUNK]
        starts = [col(OutboxItem.idempotency_key).startswith(p, autoescape=True) for p in chunk]
        found += session.exec(select(OutboxItem).where(sa.or_(*starts), *where))
    return found


def _audit_events(
    session: Session,
    *,
    resident_id: int,
    case_ids: Sequence[int],
    message_ids: Sequence[int],
    email: str | None,
    tg: int | None,
) -> list[AuditEvent]:
    """Events on their cases or messages; and events elsewhere whose detail names them (a refused staff
    command from their Telegram account, a linking conflict over their address). Never an erasure event."""
    events = _where_in(session, AuditEvent, AuditEvent.case_id, case_ids)
    events += _where_in(session, AuditEvent, AuditEvent.message_id, message_ids)
    ours = set(case_ids), set(message_ids)
    detail = func.lower(sa.cast(col(AuditEvent.detail), sa.Text))
    for needle in [s for s in (email, str(tg) if tg is not None else None) if s]:
        for event in session.exec(select(AuditEvent).where(detail.contains(needle, autoescape=True))):
            elsewhere = (event.case_id is not None and event.case_id not in ours[0]) or (
                event.message_id is not None and event.message_id not in ours[1]
            )
            if not elsewhere and _names_resident(
                event.detail, resident_id=resident_id, email=email, telegram_user_id=tg
            ):
                events.append(event)
    return sorted((e for e in _unique(events) if e.action != ERASED_ACTION), key=lambda e: (e.occurred_at, row_id(e)))


def _names_resident(value: Any, *, resident_id: int, email: str | None, telegram_user_id: int | None) -> bool:
    """Whether an audit detail (any JSON value) holds this resident's id, address or Telegram id."""
    if isinstance(value, dict):
        return any(
            (key in ("resident_id", "other_resident_id") and item == resident_id)
            or _names_resident(item, resident_id=resident_id, email=email, telegram_user_id=telegram_user_id)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return any(
            _names_resident(item, resident_id=resident_id, email=email, telegram_user_id=telegram_user_id)
            for item in value
        )
    return _identifies(value, email=email, telegram_user_id=telegram_user_id)


def _identifies(value: Any, *, email: str | None, telegram_user_id: int | None) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return telegram_user_id is not None and value == telegram_user_id
    if isinstance(value, str):
        return bool(
            (email and _mention(email).search(value))
            or (
                telegram_user_id is not None
                and (value == str(telegram_user_id) or _mention(f"telegram:{telegram_user_id}").search(value))
            )
        )
    if isinstance(value, dict | list):
        return any(
            _identifies(v, email=email, telegram_user_id=telegram_user_id)
            for v in (value.values() if isinstance(value, dict) else value)
        )
    return False


def _mention(needle: str) -> re.Pattern[str]:
    """`needle` (an address, a case reference, telegram:ID) standing on its own in free text, in any case.

    The SQL LIKE that finds candidates matches inside longer words too: bob@x.com is in jimbob@x.com and
    bob@x.com.au, SR-2026-10000 in SR-2026-100001. Each hit is checked again with this.
    """
    return re.compile(r"(?<![\w.+-])" + re.escape(needle) + r"(?![\w-]|\.\w)", re.IGNORECASE)


def _mentions(pattern: re.Pattern[str], *texts: str | None) -> bool:
    return any(text and pattern.search(text) for text in texts)


def _blobs_only_theirs(
    session: Session, messages: Sequence[InboundMessage], attachments: Sequence[Attachment]
) -> list[str]:
    """Stored bytes their messages refer to (raw email, attachment contents) that no other message does."""
    mine = {m.raw_ref for m in messages if m.raw_ref} | {
        ref for a in attachments for ref in (a.storage_ref, a.sha256) if ref
    }
    if not mine:
        return []
    message_ids = {row_id(m) for m in messages}
    attachment_ids = {row_id(a) for a in attachments}
    shared: set[str] = set()
    for chunk in _chunks(mine):
        for mid, ref in session.exec(
            select(InboundMessage.id, InboundMessage.raw_ref).where(col(InboundMessage.raw_ref).in_(chunk))
        ):
            if mid not in message_ids and ref:
                shared.add(ref)
        refs = sa.or_(col(Attachment.storage_ref).in_(chunk), col(Attachment.sha256).in_(chunk))
        for aid, storage_ref, sha in session.exec(
            select(Attachment.id, Attachment.storage_ref, Attachment.sha256).where(refs)
        ):
            if aid not in attachment_ids:
                shared.update(r for r in (storage_ref, sha) if r)
    present: set[str] = set()
    for chunk in _chunks(mine - shared):
        present.update(session.exec(select(Blob.sha256).where(col(Blob.sha256).in_(chunk))))
    return sorted(present)


def _where_in(session: Session, model: type[_Row], column: Any, values: Iterable[int], *where: Any) -> list[_Row]:
    """Rows of `model` whose `column` is one of `values` (in chunks, so any number of values works)."""
    found: list[_Row] = []
    for chunk in _chunks(values):
        found += session.exec(select(model).where(col(column).in_(chunk), *where))
    return _unique(found)


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = sorted(set(values))
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _unique(rows: Iterable[_Row]) -> list[_Row]:
    """Each row once, in first-seen order (the session hands back one object per row)."""
    return list({row_id(r): r for r in rows}.values())


# ------------------------------------------------------------------------------------------ erasing


@dataclass(frozen=True)
class Erasure:
    """What an erasure found (`held`, by table) and what it changed (`changed`; all zero the second time)."""

    resident_id: int
    held: dict[str, int]
    changed: dict[str, int]
    cancelled_outbox_items: int


def erase_resident(
    session: Session,
    *,
    resident: Resident,
    reason: str,
    actor: str,
    now: datetime,
    actor_staff_id: int | None = None,
    keep_tenancy_prefixes: Sequence[str] = (),
) -> Erasure:
    """Anonymise everything held about `resident` and record one `resident_erased` audit event.

    The landlord decides whether to erase (Code 5.12 keeps a full record, and limitation periods may
    justify keeping it); this carries out that decision. Rows are kept with their dates, stages,
    statuses, decisions and counts, so complaint statistics (Code 8.1, TSM CH01/CH02) are unchanged;
    the resident's name becomes `ERASED` and their contact details, tenancy reference and Telegram id
    are cleared; their words and the texts written about them become `ERASED` (a blank text stays
    blank and a missing one missing, so "has a definition", "has a remedy" and "has a good reason"
    still count right); pending messages to them or about them are cancelled; their stored email and
    attachment bytes are deleted unless another message holds the same bytes.

    `keep_tenancy_prefixes`: a tenancy reference starting with one of these keeps just that prefix (the
    reports tell low-cost home ownership from rental stock by it); any other is cleared.

    Erasing again changes nothing and is harmless; it is audited again. Flushes, never commits.
    """
    if not reason.strip():
        raise DomainError("give the reason for erasing (--reason): it is kept in the audit trail")
    footprint = collect(session, resident=resident)
    rid = row_id(resident)
    email = resident.email.strip().lower() if resident.email else None
    tg = resident.telegram_user_id
    held = footprint.counts()
    changed = dict.fromkeys(held, 0)

    def count(table: str, rows: Iterable[Any], scrub: Callable[[Any], bool]) -> None:
        for row in rows:
            if scrub(row):
                changed[table] += 1
                session.add(row)

    tenancy = next((p for p in keep_tenancy_prefixes if p and (resident.tenancy_ref or "").startswith(p)), None)
    count(
        "resident",
        [resident],
        lambda r: _set(
            r, name=ERASED, email=None, phone=None, address=None, telegram_user_id=None, tenancy_ref=tenancy
        ),
    )
    count("support_need", footprint.support_needs, lambda s: _set(s, description=_erased(s.description)))
    count(
        "contact_restriction",
        footprint.contact_restrictions,
        lambda c: _set(c, description=_erased(c.description), reason=_erased(c.reason)),
    )
    count("inbound_message", footprint.messages, _scrub_message)
    count(
        "attachment",
        footprint.attachments,
        lambda a: _set(a, filename=_erased(a.filename), storage_ref=None, sha256=""),
    )
    count(
        "classification",
        footprint.classifications,
        lambda c: _set(
            c, definition_summary=_erased(c.definition_summary), definition_outcome=_erased(c.definition_outcome)
        ),
    )
    count("triage_decision", footprint.triage_decisions, lambda d: _set(d, definition=_erased(d.definition)))
    count("triage_case", footprint.cases, _scrub_case)
    count(
        "extension",
        footprint.extensions,
        lambda e: _set(e, reason=_erased(e.reason), good_reason=_erased(e.good_reason)),
    )
    count(
        "stage_response",
        footprint.stage_responses,
        lambda r: _set(
            r,
            reasons=_erased(r.reasons),
            remedy=_erased(r.remedy),
            outstanding_actions=_erased(r.outstanding_actions),
        ),
    )
    count(
        "correspondence",
        footprint.correspondence,
        lambda c: _set(c, party_name=_erased(c.party_name), subject=_erased(c.subject), body=_erased(c.body)),
    )
    cancelled = [o for o in footprint.outbox_items if o.status in (OutboxStatus.PENDING, OutboxStatus.SENDING)]
    count("outbox_item", footprint.outbox_items, lambda o: _scrub_outbox(o, email=email, tg=tg))
    count("survey_request", footprint.survey_requests, lambda s: _set(s, question=_erased(s.question)))
    count(
        "audit_event",
        footprint.audit_events,
        lambda e: _set(e, detail=scrub_detail(e.detail, email=email, telegram_user_id=tg)),
    )
    for chunk in _chunks(footprint.blobs):
        session.execute(sa.delete(Blob).where(col(Blob.sha256).in_(chunk)))
    changed["blob"] = len(footprint.blobs)
    session.flush()
    erasure = Erasure(rid, held, changed, len(cancelled))
    record_event(
        session,
        action=ERASED_ACTION,
        actor=actor,
        actor_staff_id=actor_staff_id,
        now=now,
        detail={
            "resident_id": rid,
            "reason": reason.strip(),
            "held": held,
            "changed": changed,
            "cancelled_outbox_items": len(cancelled),
        },
    )
    return erasure


def _erased(value: str | None) -> str | None:
    """`ERASED` for a text with something in it; a missing or blank text stays as it was."""
    return value if value is None or not value.strip() else ERASED


def _set(row: Any, **values: Any) -> bool:
    """Set the fields that differ; whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _scrub_message(m: InboundMessage) -> bool:
    # A Telegram source key holds the chat id, which is the resident's own; a mailbox's is the server's.
    source = m.source_key if m.source_key.startswith("imap:") else f"erased:{row_id(m)}"
    return _set(
        m,
        source_key=source,
        sender_address=ERASED,
        sender_name=_erased(m.sender_name),
        subject=_erased(m.subject),
        body_text=ERASED,
        new_text=ERASED,
        message_id_header=_erased(m.message_id_header),
        in_reply_to=_erased(m.in_reply_to),
        references=_erased(m.references),
        raw_ref=None,
    )


def _scrub_case(c: Case) -> bool:
    return _set(
        c,
        definition=_erased(c.definition),
        outcomes_sought=_erased(c.outcomes_sought),
        responsible_aspects=_erased(c.responsible_aspects),
        not_responsible_aspects=_erased(c.not_responsible_aspects),
        # Kept non-empty: a refusal is counted by its reason being there (reports.complaints.refusals).
        exclusion_reason=_erased(c.exclusion_reason),
    )


def _scrub_outbox(o: OutboxItem, *, email: str | None, tg: int | None) -> bool:
    """Words erased; a letter still waiting is cancelled so nothing more is sent. A staff recipient stays."""
    to_staff = o.party is Party.STAFF and not _identifies(o.recipient, email=email, telegram_user_id=tg)
    waiting = o.status in (OutboxStatus.PENDING, OutboxStatus.SENDING)
    return _set(
        o,
        recipient=o.recipient if to_staff else ERASED,
        subject=_erased(o.subject),
        body_text=ERASED,
        body_html=_erased(o.body_html),
        headers={},
        status=OutboxStatus.FAILED if waiting else o.status,
        last_error=CANCELLED if waiting or o.last_error == CANCELLED else _erased(o.last_error),
    )


def scrub_detail(detail: dict[str, Any], *, email: str | None, telegram_user_id: int | None) -> dict[str, Any]:
    """An audit detail with every free-text value, and anything naming the resident, replaced by `ERASED`.

    Values under `SAFE_DETAIL_KEYS` (states, labels, ids, counts) stay so the bot's own bookkeeping and
    the reports keep working; missing values and flags stay. Returns a new dict (JSON columns are
    replaced, never changed in place)."""
    scrubbed: dict[str, Any] = {}
    for key, value in detail.items():
        keep = (
            value is None
            or isinstance(value, bool)
            or (key in SAFE_DETAIL_KEYS and not _identifies(value, email=email, telegram_user_id=telegram_user_id))
        )
        scrubbed[key] = value if keep else ERASED
    return scrubbed
