"""What staff type after a command, read into plain forms. Pure: text in, a form or a `Usage` out.

The syntax is made for typing on a phone: the case reference first, then a word or two, and for a stage
response one field a line (`reasons: ...`, `remedy: ...`, `actions: ...`). A field may run over several
lines; field names are case-insensitive. Anything missing comes back as a `Usage`: what is wrong, and an
example of the right way to write it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.enums import StageDecision
from models.references import find_references, parse_reference

ASSIGN_USAGE = "/assign CMP-2026-00042 @handler (their Telegram @username or e-mail address)"
DEFINE_USAGE = "/define CMP-2026-00042 What the resident is unhappy about, and the outcome they want"
RESPOND_USAGE = (
    "/respond CMP-2026-00042 upheld (or: partly upheld, not upheld)\n"
    "reasons: why we decided this\n"
    "remedy: what we will put right or pay (optional)\n"
    "actions: what is still to be done, and by when (optional)"
)
ESCALATE_USAGE = "/escalate CMP-2026-00042 (add @handler to log stage 2 at once with that handler)"
EXTEND_USAGE = (
    "/extend CMP-2026-00042 5 the reason, which the resident is told\n"
    "good reason: why (only to go past the Code's limit of 10 working days at stage 1, 20 at stage 2)"
)
EXCLUDE_USAGE = "/exclude CMP-2026-00042 the reasons, which the resident is sent (Code 2.4)"
CLOSE_USAGE = "/close CMP-2026-00042"

DECISIONS: dict[str, StageDecision] = {
    "upheld": StageDecision.UPHELD,
    "partly upheld": StageDecision.PARTLY_UPHELD,
    "partially upheld": StageDecision.PARTLY_UPHELD,
    "not upheld": StageDecision.NOT_UPHELD,
}
_FIELD = re.compile(
    r"^\s*(decision|reasons?|remedy|remedies|outstanding actions?|actions?|outstanding)\s*:\s*(.*)$", re.IGNORECASE
)
_FIELD_NAMES = {
    "decision": "decision",
    "reason": "reasons",
    "reasons": "reasons",
    "remedy": "remedy",
    "remedies": "remedy",
    "action": "actions",
    "actions": "actions",
    "outstanding": "actions",
    "outstanding action": "actions",
    "outstanding actions": "actions",
}
_GOOD_REASON = re.compile(r"^\s*good\s+reasons?\s*:\s*(.*)$", re.IGNORECASE)
_DAYS = re.compile(r"(\d{1,3})(?:\s*wd)?", re.IGNORECASE)
_DAYS_WORDS = re.compile(r"^(?:working\s+days?|days?|wd)\b[\s,:.-]*", re.IGNORECASE)


@dataclass(frozen=True)
class Usage:
    """Why the command could not be read, and how to write it."""

    problem: str
    usage: str


@dataclass(frozen=True)
class Assign:
    reference: str
    handle: str


@dataclass(frozen=True)
class Define:
    reference: str
    text: str


@dataclass(frozen=True)
class Respond:
    reference: str
    decision: StageDecision
    reasons: str
    remedy: str | None = None
    actions: str | None = None


@dataclass(frozen=True)
class Escalate:
    reference: str
    handle: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Extend:
    reference: str
    working_days: int
    reason: str
    good_reason: str | None = None


@dataclass(frozen=True)
class Exclude:
    reference: str
    reason: str


@dataclass(frozen=True)
class Close:
    reference: str


def after_command(text: str | None) -> str:
    """Everything after `/command` (or `/command@bot`), line breaks kept."""
    parts = (text or "").strip().split(maxsplit=1)
    return parts[1] if len(parts) == 2 else ""


def _reference(rest: str, usage: str) -> tuple[str, str] | Usage:
    """The case reference the text starts with (canonical form) and what follows it."""
    parts = rest.strip().split(maxsplit=1)
    if not parts:
        return Usage("Which case? Start with its reference.", usage)
    parsed = parse_reference(parts[0])
    if parsed is None:
        return Usage(f"{parts[0][:40]} is not a case reference.", usage)
    return str(parsed), parts[1] if len(parts) == 2 else ""


def _is_handle(word: str) -> bool:
    return (word.startswith("@") and len(word) > 1) or "@" in word[1:]


def parse_assign(rest: str) -> Assign | Usage:
    found = _reference(rest, ASSIGN_USAGE)
    if isinstance(found, Usage):
        return found
    reference, tail = found
    words = tail.split()
    if len(words) != 1 or not _is_handle(words[0]):
        return Usage("Say who should handle it: their @username or e-mail address.", ASSIGN_USAGE)
    return Assign(reference, words[0])


def parse_define(rest: str) -> Define | Usage:
    found = _reference(rest, DEFINE_USAGE)
    if isinstance(found, Usage):
        return found
    reference, text = found
    if not text.strip():
        return Usage("The definition is missing.", DEFINE_USAGE)
    return Define(reference, text.strip())


def decision_of(text: str) -> StageDecision | None:
    """'Partly upheld', 'partly_upheld', 'Not-upheld' ... as a StageDecision; None for anything else."""
    words = " ".join(text.lower().replace("_", " ").replace("-", " ").split()).rstrip(".")
    return DECISIONS.get(words)


def parse_respond(rest: str) -> Respond | Usage:
    found = _reference(rest, RESPOND_USAGE)
    if isinstance(found, Usage):
        return found
    reference, tail = found
    fields: dict[str, list[str]] = {}
    current: str | None = None
    for number, line in enumerate(tail.split("\n")):
        match = _FIELD.match(line)
        if match:
            current = _FIELD_NAMES[" ".join(match.group(1).lower().split())]
            fields.setdefault(current, []).append(match.group(2))
        elif number == 0:  # the decision, on the reference's own line
            fields["decision"] = [line]
        elif current is not None and current != "decision":
            fields[current].append(line)
        elif line.strip():
            return Usage(
                f"Start each line with reasons:, remedy: or actions: (not \u201c{line.strip()[:40]}\u201d).",
                RESPOND_USAGE,
            )

    def text(name: str) -> str | None:
        joined = "\n".join(fields.get(name, [])).strip()
        return joined or None

    decision_text = text("decision")
    if decision_text is None:
        return Usage("The decision is missing: upheld, partly upheld or not upheld.", RESPOND_USAGE)
    decision = decision_of(decision_text)
    if decision is None:
        return Usage(
            f"\u201c{decision_text[:40]}\u201d is not a decision: write upheld, partly upheld or not upheld.",
            RESPOND_USAGE,
        )
    reasons = text("reasons")
    if reasons is None:
        return Usage("The reasons for the decision are missing (Code 6.9): add a line starting reasons:", RESPOND_USAGE)
    return Respond(reference, decision, reasons, text("remedy"), text("actions"))


def parse_escalate(rest: str) -> Escalate | Usage:
    found = _reference(rest, ESCALATE_USAGE)
    if isinstance(found, Usage):
        return found
    reference, tail = found
    words = tail.split(maxsplit=1)
    if words and _is_handle(words[0]):
        return Escalate(reference, words[0], words[1].strip() if len(words) == 2 else None)
    return Escalate(reference, None, tail.strip() or None)


def parse_extend(rest: str) -> Extend | Usage:
    found = _reference(rest, EXTEND_USAGE)
    if isinstance(found, Usage):
        return found
    reference, tail = found
    words = tail.split(maxsplit=1)
    days = _DAYS.fullmatch(words[0]) if words else None
    if days is None:
        return Usage("How many working days? Put the number after the reference.", EXTEND_USAGE)
    reason_lines: list[str] = []
    good_lines: list[str] | None = None
    for line in _DAYS_WORDS.sub("", words[1] if len(words) == 2 else "").split("\n"):
        match = _GOOD_REASON.match(line)
        if match:
            good_lines = [match.group(1)]
        elif good_lines is not None:
            good_lines.append(line)
        else:
            reason_lines.append(line)
    reason = "\n".join(reason_lines).strip()
    if not reason:
        return Usage("The reason is missing: the resident is told why (Code 6.4).", EXTEND_USAGE)
    good = "\n".join(good_lines).strip() if good_lines is not None else ""
    return Extend(reference, int(days.group(1)), reason, good or None)


def parse_exclude(rest: str) -> Exclude | Usage:
    found = _reference(rest, EXCLUDE_USAGE)
    if isinstance(found, Usage):
        return found
    reference, reason = found
    if not reason.strip():
        return Usage("The reasons are missing: the resident must be told why (Code 2.4).", EXCLUDE_USAGE)
    return Exclude(reference, reason.strip())


def parse_close(rest: str) -> Close | Usage:
    found = _reference(rest, CLOSE_USAGE)
    if isinstance(found, Usage):
        return found
    reference, tail = found
    if tail.strip():
        return Usage("/close takes only the case reference.", CLOSE_USAGE)
    return Close(reference)


def reference_in(text: str | None) -> str | None:
    """The first case reference in a staff member's reply (e.g. to 'Link to case…'), canonical; else None."""
    found = find_references(text or "")
    return str(found[0]) if found else None
