"""Everything else the bot says, as pure functions of plain data.

Residents get plain text (no parse mode, so nothing they or we write can break the markup). Staff get
HTML with every stored value escaped. Long answers are cut into parts under Telegram's 4,096-character
limit by `chunk_lines`, which never splits a line (and so never splits an HTML tag).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from bot.telegram.cards import HAZARD_NAMES, CardData, day, esc, label_name, local_time, trim
from models.enums import CaseStatus
from scheduler.letters import LandlordDetails

TELEGRAM_LIMIT = 4096
QUEUE_SHOWN = 40

RESIDENT_STATUS = {
    CaseStatus.RECEIVED: "received",
    CaseStatus.STAGE1_OPEN: "stage 1 complaint: we are looking into it",
    CaseStatus.STAGE1_RESPONDED: "stage 1 complaint: we have sent our response",
    CaseStatus.STAGE2_REQUESTED: "you have asked for stage 2",
    CaseStatus.STAGE2_OPEN: "stage 2 complaint: we are reviewing it",
    CaseStatus.STAGE2_RESPONDED: "stage 2 complaint: we have sent our final response",
    CaseStatus.EXCLUDED: "not taken on as a complaint (we wrote to you with the reasons)",
    CaseStatus.OPEN: "open",
    CaseStatus.CLOSED: "closed",
}


def status_name(status: CaseStatus) -> str:
    return status.value.replace("stage1", "stage 1").replace("stage2", "stage 2").replace("_", " ")


def chunk_lines(lines: Sequence[str], limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Join lines into as few messages as fit under `limit`; a line too long on its own is trimmed.

    Lengths are measured on the text as written (HTML included), which is never shorter than what
    Telegram counts once it has parsed the markup, so every part fits.
    """
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for raw in lines:
        line = raw if len(raw) <= limit else trim(raw, limit)
        extra = len(line) + (1 if current else 0)
        if current and size + extra > limit:
            parts.append("\n".join(current))
            current, size = [], 0
            extra = len(line)
        current.append(line)
        size += extra
    if current and "\n".join(current).strip():
        parts.append("\n".join(current))
    return parts


# ------------------------------------------------------------------------------------ residents


def welcome(landlord: LandlordDetails) -> str:
    """/start: what the bot is for, the privacy notice, how to complain, and the Ombudsman's details."""
    ombudsman = landlord.ombudsman
    policy = f"\nOur complaints policy: {landlord.complaints_policy_url}" if landlord.complaints_policy_url else ""
    return "\n".join(
        [
            f"Hello, and welcome to {landlord.name}'s messaging service.",
            "",
            "What this is for: tell us about a repair, a problem with our service, or anything you are "
            "unhappy about, in your own words. You do not need to use the word \u201ccomplaint\u201d. Send a "
            "text message or a photo (with a caption if you can). You get a reference straight away, and a "
            "member of staff reads every message. Send /status to see your cases.",
            "If anyone is in danger right now, call 999.",
            "",
            "Your privacy: we store what you send us (your messages and photos), your Telegram name and user "
            "number, and when you sent each message. We use them to deal with what you tell us, to contact "
            "you about it, and to keep the record of your case that the Housing Ombudsman's Complaint "
            f"Handling Code asks landlords to keep. Only {landlord.name} staff can see them. To ask what we "
            f"hold about you, or for a copy, contact {landlord.complaints_email}.",
            "",
            f"How to make a complaint: tell us here, email {landlord.complaints_email} or phone "
            f"{landlord.complaints_phone}.{policy}",
            "We acknowledge a complaint within 5 working days and answer it within 10 working days after that.",
            "",
            f"The {ombudsman.name} can give you free, independent advice at any time, and can look into your "
            "complaint once our complaints process has finished:",
            f"\u2022 online form: {ombudsman.online_form}",
            f"\u2022 telephone: {ombudsman.telephone}",
        ]
    )


def receipt(reference: str) -> str:
    return (
        f"Thanks, we have your message. Your reference is {reference}. A member of our team will read it "
        "and get back to you. If it is a complaint, we will acknowledge it within 5 working days. "
        "If anyone is in danger right now, call 999."
    )


NOT_SAVED = (
    "Sorry, we could not save your message just now. Please send it again in a few minutes. "
    "If anyone is in danger right now, call 999."
)
ONLY_TEXT_AND_PHOTOS = (
    "Sorry, we can only read text messages and photos here. Please type your message, or send a photo "
    "with a caption saying what it shows."
)
EDITS_NOT_READ = (
    "We have kept your message as you first sent it. To add to it or correct it, please send a new message."
)
UNKNOWN_COMMAND = "Sorry, I do not know that command. Send /start to see what I can do, or /status to see your cases."


@dataclass(frozen=True)
class ResidentCase:
    reference: str
    kind: str
    status: CaseStatus
    next_due: date | None


@dataclass(frozen=True)
class ResidentStatus:
    known: bool  # we hold a record for this Telegram user
    cases: tuple[ResidentCase, ...] = ()
    waiting: tuple[tuple[str, datetime], ...] = ()  # (MSG reference, received) not yet turned into a case


def resident_status(status: ResidentStatus, zone: tzinfo) -> list[str]:
    """/status for one resident: their own cases and the messages still being read, as plain-text lines."""
    if not status.known or (not status.cases and not status.waiting):
        return ["We do not have any cases for you yet. Send us a message and we will give you a reference."]
    lines: list[str] = []
    if status.cases:
        lines.append("Your cases:")
        for case in status.cases:
            due = f" \u2014 next step due by {day(case.next_due)}" if case.next_due else ""
            kind = case.kind.replace("_", " ")
            lines.append(f"\u2022 {case.reference} ({kind}): {RESIDENT_STATUS[case.status]}{due}")
    else:
        lines.append("You do not have any cases with us yet.")
    if status.waiting:
        lines += ["", "Messages we are still reading:"]
        lines += [f"\u2022 {ref}, received {local_time(at, zone)}" for ref, at in status.waiting]
    return lines


# ----------------------------------------------------------------------------------------- staff

STAFF_ONLY = "Sorry, that is for staff only. If you are a resident, just send us your message here."
STAFF_ONLY_BUTTON = "Sorry, only staff can decide this."


def queue(cards: Sequence[CardData], total: int, zone: tzinfo) -> list[str]:
    """/queue as HTML lines: messages awaiting review, the earliest acknowledgement deadline first."""
    if total == 0:
        return ["Nothing is awaiting review."]
    lines = [f"<b>Awaiting review: {total}</b> (earliest acknowledgement deadline first)"]
    for card in cards:
        predicted = label_name(card.label) if card.label else "not classified"
        if card.label and card.confidence is not None:
            predicted += f" {card.confidence:.0%}"
        hazard = f" \u00b7 <b>HAZARD: {esc(HAZARD_NAMES.get(card.hazard, card.hazard))}</b>" if card.hazard else ""
        lines.append(
            f"<b>{esc(card.reference)}</b> \u00b7 {esc(card.channel)} \u00b7 ack by {day(card.acknowledge_by)}"
            f" \u00b7 {esc(predicted)}{hazard} \u00b7 received {local_time(card.received_at, zone)}"
            f"\n    {esc(trim(' '.join(card.text.split()), 90))}"
        )
    if total > len(cards):
        lines.append(f"\u2026 and {total - len(cards)} more.")
    return lines


@dataclass(frozen=True)
class DeadlineView:
    stage: int
    kind: str
    due_on: date
    original_due_on: date
    due_at: datetime
    met_at: datetime | None


@dataclass(frozen=True)
class CaseView:
    reference: str
    kind: str
    status: CaseStatus
    stage: int | None
    received_at: datetime
    resident: str | None
    stage1_handler: str | None
    stage2_handler: str | None
    hazard: str | None
    definition: str | None
    deadlines: tuple[DeadlineView, ...]
    closed_at: datetime | None = None
    exclusion_reason: str | None = None


def case(view: CaseView, now: datetime, zone: tzinfo) -> list[str]:
    """/case REF as HTML lines: status, stage, the dates that matter."""
    stage = f" \u00b7 stage {view.stage}" if view.stage else ""
    lines = [
        f"<b>{esc(view.reference)}</b> \u00b7 {esc(view.kind.replace('_', ' '))}",
        f"Status: <b>{esc(status_name(view.status))}</b>{stage}",
        f"Received: {local_time(view.received_at, zone)}",
    ]
    if view.resident:
        lines.append(f"Resident: {esc(trim(view.resident, 120))}")
    for number, handler in ((1, view.stage1_handler), (2, view.stage2_handler)):
        if handler:
            lines.append(f"Stage {number} handler: {esc(handler)}")
    if view.hazard:
        lines.append(f"<b>HAZARD: {esc(HAZARD_NAMES.get(view.hazard, view.hazard))}</b>")
    if view.deadlines:
        lines.append("Deadlines:")
    for d in view.deadlines:
        extended = f" (was {day(d.original_due_on)})" if d.original_due_on != d.due_on else ""
        if d.met_at is not None:
            state = f"met {local_time(d.met_at, zone)}"
        elif d.due_at < now:
            state = "<b>OVERDUE</b>"
        else:
            state = "open"
        lines.append(f"\u2022 stage {d.stage} {esc(d.kind)}: due {day(d.due_on)}{extended} \u2014 {state}")
    if view.exclusion_reason:
        lines.append(f"Excluded: {esc(trim(view.exclusion_reason, 300))}")
    if view.closed_at:
        lines.append(f"Closed: {local_time(view.closed_at, zone)}")
    if view.definition:
        lines.append(f"Definition: {esc(trim(view.definition, 600))}")
    return lines


CASE_USAGE = "Send /case followed by a reference, e.g. /case CMP-2026-00042"


def case_not_found(reference: str) -> str:
    return f"No case with reference {esc(trim(reference, 40))}."
