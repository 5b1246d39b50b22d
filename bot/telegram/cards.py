"""The staff triage card for one message: its HTML, its buttons and their callback data. Pure: plain data in.

Every piece of text that came from a resident (or from the classifier's reading of it) is trimmed and
then escaped with `html.escape`, so a resident who types `<b>` gets `<b>` shown, never bold. Trimming
happens before escaping so an entity is never cut in half.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from models.enums import Label

TEXT_LIMIT = 600
DEFINITION_LIMIT = 700  # the classifier's summary: the points, then "Outcome sought: ..."
SUBJECT_LIMIT = 200
NAME_LIMIT = 120

# One letter per label keeps the callback data short ("t:123456:c"); Telegram allows 64 bytes.
LABEL_CODES: dict[Label, str] = {
    Label.COMPLAINT: "c",
    Label.SERVICE_REQUEST: "s",
    Label.SURVEY_FEEDBACK: "v",
    Label.OTHER: "o",
}
_CODE_LABELS = {code: label for label, code in LABEL_CODES.items()}
BUTTONS: tuple[tuple[Label, str], ...] = (
    (Label.COMPLAINT, "Complaint"),
    (Label.SERVICE_REQUEST, "Service request"),
    (Label.SURVEY_FEEDBACK, "Survey feedback"),
    (Label.OTHER, "Other"),
)
CALLBACK_PATTERN = r"^t:\d{1,18}:[csvo]$"
_CALLBACK = re.compile(CALLBACK_PATTERN)


class PromptKind(StrEnum):
    """The card buttons that ask the staff member to reply with something: "d:123456", "l:123456"."""

    DEFINITION = "d"  # Edit definition
    LINK = "l"  # Link to case…


PROMPT_BUTTONS: tuple[tuple[PromptKind, str], ...] = (
    (PromptKind.DEFINITION, "Edit definition"),
    (PromptKind.LINK, "Link to case\u2026"),
)
PROMPT_CALLBACK_PATTERN = r"^[dl]:\d{1,18}$"
_PROMPT_CALLBACK = re.compile(PROMPT_CALLBACK_PATTERN)

HAZARD_NAMES = {
    "damp_mould": "damp and mould",
    "gas": "gas",
    "electrical": "electrical",
    "fire": "fire",
    "water_leak": "water leak",
    "no_heating": "no heating",
    "structural": "structural",
    "security": "security",
}
EXCLUSION_NAMES = {
    "over_12_months": "issue over 12 months old",
    "legal_proceedings": "legal proceedings",
    "previously_considered": "previously considered",
}


@dataclass(frozen=True)
class CardData:
    """What a card shows about one message awaiting review, read from the database beforehand."""

    message_id: int
    reference: str  # MSG-000123
    channel: str
    sender_name: str | None
    sender_address: str
    known_resident: bool  # a confirmed resident record, not a provisional one
    received_at: datetime
    acknowledge_by: date
    text: str
    subject: str | None = None
    label: Label | None = None
    confidence: float | None = None
    needs_review: bool = False
    hazard: str | None = None
    vulnerability: bool = False
    third_party: bool = False
    exclusion_hint: str | None = None
    definition: str | None = None  # the draft definition (Code 5.6), with the outcome sought
    definition_by: str | None = None  # the staff member who rewrote the draft, when one did


@dataclass(frozen=True)
class DecisionLine:
    """The outcome shown on a decided card: 'Confirmed as complaint CMP-2026-00042 by Tess at 10:42', or for a
    message linked to a case it belongs to, 'Linked to CMP-2026-00042 by Tess at 10:42'."""

    label: Label
    case_reference: str | None
    staff_name: str
    decided_at: datetime
    linked: bool = False


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def trim(text: str, limit: int) -> str:
    """At most `limit` characters, ending in an ellipsis when cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def label_name(label: Label) -> str:
    return label.value.replace("_", " ")


def day(value: date) -> str:
    """'Tue 1 Dec 2026'."""
    return f"{value:%a} {value.day} {value:%b %Y}"


def local_time(moment: datetime, zone: tzinfo) -> str:
    """'Tue 24 Nov 2026 09:58' in the landlord's time zone."""
    local = moment.astimezone(zone)
    return f"{day(local.date())} {local:%H:%M}"


def flags(card: CardData) -> list[str]:
    """The card's flags, HTML, in order of urgency: a hazard first and in bold (Awaab's Law)."""
    found: list[str] = []
    if card.hazard:
        found.append(f"<b>\u26a0\ufe0f HAZARD: {esc(HAZARD_NAMES.get(card.hazard, card.hazard))} (Awaab's Law)</b>")
    if card.vulnerability:
        found.append("vulnerability")
    if card.third_party:
        found.append("third party")
    if card.exclusion_hint:
        name = EXCLUSION_NAMES.get(card.exclusion_hint, card.exclusion_hint)
        found.append(f"exclusion hint: {esc(name)} (a person decides)")
    return found


def sender_line(card: CardData) -> str:
    name = trim(card.sender_name, NAME_LIMIT) if card.sender_name else None
    address = trim(card.sender_address, NAME_LIMIT)
    who = f"{esc(name)} ({esc(address)})" if name else esc(address)
    return f"From: {who} \u00b7 {'known resident' if card.known_resident else 'provisional'}"


def render_card(card: CardData, zone: tzinfo, *, decision: DecisionLine | None = None) -> str:
    """The card's HTML; with a decision, the card as it reads once decided (the buttons go)."""
    lines = [f"<b>New {esc(card.channel)} message {esc(card.reference)}</b>"]
    if found := flags(card):
        lines.append(" \u00b7 ".join(found))
    lines += [
        sender_line(card),
        f"Received: {local_time(card.received_at, zone)} \u00b7 acknowledge by <b>{day(card.acknowledge_by)}</b>",
    ]
    if card.subject:
        lines.append(f"Subject: {esc(trim(card.subject, SUBJECT_LIMIT))}")
    lines.append(f"<blockquote>{esc(trim(card.text, TEXT_LIMIT) or '(no text)')}</blockquote>")
    if card.label is not None:
        confidence = f" ({card.confidence:.0%})" if card.confidence is not None else ""
        review = " \u00b7 unsure" if card.needs_review else ""
        lines.append(f"Predicted: <b>{esc(label_name(card.label))}</b>{confidence}{review}")
    else:
        lines.append("Predicted: not classified")
    if card.definition:
        whose = f"Definition (edited by {esc(trim(card.definition_by, NAME_LIMIT))})" if card.definition_by else None
        lines.append(f"{whose or 'Draft definition'}: {esc(trim(card.definition, DEFINITION_LIMIT))}")
    if decision is not None:
        lines += ["", f"<b>\u2705 {esc(decision_text(decision, zone))}</b>"]
    return "\n".join(lines)


def decision_text(decision: DecisionLine, zone: tzinfo) -> str:
    at = decision.decided_at.astimezone(zone).strftime("%H:%M")
    if decision.linked:
        return f"Linked to {decision.case_reference} by {decision.staff_name} at {at}"
    what = label_name(decision.label)
    if decision.case_reference:
        what = f"{what} {decision.case_reference}"
    return f"Confirmed as {what} by {decision.staff_name} at {at}"


def already_decided_text(line: DecisionLine | None, zone: tzinfo) -> str:
    """What a second tap on a decided card is told."""
    if line is None:
        return "Already decided."
    if line.linked:
        what = f"linked to {line.case_reference}"
    else:
        what = label_name(line.label) + (f" {line.case_reference}" if line.case_reference else "")
    return f"Already decided by {line.staff_name}: {what} at {line.decided_at.astimezone(zone):%H:%M}."


def callback_data(message_id: int, label: Label) -> str:
    return f"t:{message_id}:{LABEL_CODES[label]}"


def parse_callback(data: str | None) -> tuple[int, Label] | None:
    """(message id, label) from a button's data, or None for anything we did not make."""
    if data is None or not _CALLBACK.fullmatch(data):
        return None
    _, message_id, code = data.split(":")
    return int(message_id), _CODE_LABELS[code]


def prompt_callback_data(message_id: int, kind: PromptKind) -> str:
    return f"{kind.value}:{message_id}"


def parse_prompt_callback(data: str | None) -> tuple[int, PromptKind] | None:
    """(message id, what to ask for) from an Edit definition or Link to case… button, else None."""
    if data is None or not _PROMPT_CALLBACK.fullmatch(data):
        return None
    code, message_id = data.split(":")
    return int(message_id), PromptKind(code)


def card_keyboard(message_id: int) -> InlineKeyboardMarkup:
    """The four labels, then the two buttons that ask for a reply (a new definition, a case to link to)."""
    buttons = [InlineKeyboardButton(text, callback_data=callback_data(message_id, label)) for label, text in BUTTONS]
    asks = [InlineKeyboardButton(text, callback_data=prompt_callback_data(message_id, k)) for k, text in PROMPT_BUTTONS]
    return InlineKeyboardMarkup([buttons[:2], buttons[2:], asks])
