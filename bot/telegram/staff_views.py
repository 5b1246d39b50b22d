"""What the bot tells staff after a case command, and its help texts. Pure functions of plain data.

Outcomes are HTML lines with every stored value escaped (split under Telegram's limit by `reply_html`);
help, usage and refusals are plain text, so nothing typed in them can break the markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.telegram.cards import day, esc, trim
from bot.telegram.staff_syntax import Usage
from bot.telegram.views import status_name
from models.enums import CaseStatus


@dataclass(frozen=True)
class DueDate:
    """An open deadline on a case, with the working days left from today (negative when overdue)."""

    stage: int
    kind: str
    due_on: date
    original_due_on: date
    working_days_left: int


@dataclass(frozen=True)
class CaseSummary:
    reference: str
    kind: str
    status: CaseStatus
    stage: int | None
    stage1_handler: str | None = None
    stage2_handler: str | None = None
    due: tuple[DueDate, ...] = ()


STAFF_HELP = "\n".join(
    [
        "Staff commands (in the staff chat, or here in private):",
        "/queue \u2014 messages awaiting review, the most urgent first",
        "/case REF \u2014 a case's status, handlers and dates",
        "/assign REF @handler \u2014 the stage 1 handler; once stage 2 is requested, the stage 2 handler "
        "(not the stage 1 one, Code 6.13), which logs stage 2 and acknowledges it",
        "/define REF text \u2014 the complaint definition: what is wrong and the outcome wanted (Code 5.6)",
        "/respond REF upheld | partly upheld | not upheld \u2014 the stage response (Code 6.9, 6.19); then, "
        "each on a new line: reasons: \u2026 / remedy: \u2026 / actions: \u2026 (remedy and actions optional)",
        "/escalate REF [@handler] \u2014 the resident wants stage 2 (Code 6.10; no reason needed)",
        "/extend REF DAYS reason \u2014 more working days to respond; the resident is told (Code 6.4, 6.15). "
        "Past the Code's limit, add a line good reason: \u2026",
        "/exclude REF reasons \u2014 not taken on; the resident gets the reasons and the Ombudsman's details "
        "(Code 2.1-2.4)",
        "/close REF \u2014 close a case that has had its response",
        "",
        "On a card: Complaint / Service request / Survey feedback / Other decide it in one tap; Edit definition "
        "and Link to case\u2026 ask you to reply to the bot's message.",
        "@handler is a Telegram @username or an e-mail address. REF is like CMP-2026-00042.",
    ]
)

PRIVATE_HINT = (
    "You are on the staff list, so what you write here is not stored as a resident's message. "
    "Staff commands: /queue, /case, /assign, /define, /respond, /escalate, /extend, /exclude, /close. "
    "Send /help for how to write them."
)

FAILED = "Sorry, something went wrong and it may not have been done. Check with /case before trying again."


def usage(found: Usage) -> str:
    return f"{found.problem}\nWrite it like this:\n{found.usage}"


def not_done(reason: str) -> str:
    """A domain refusal (the Code or the case's state says no), as one polite line."""
    return f"Sorry, that was not done: {reason}"


def days_left(left: int) -> str:
    if left > 1:
        return f"{left} working days left"
    if left == 1:
        return "1 working day left"
    if left == 0:
        return "due today"
    return f"<b>OVERDUE</b> by {-left} working day{'s' if left < -1 else ''}"


def summary(case: CaseSummary) -> list[str]:
    """The case as it now stands: status, handlers, and every open deadline with the working days left."""
    stage = f" \u00b7 stage {case.stage}" if case.stage else ""
    lines = [
        f"<b>{esc(case.reference)}</b> \u00b7 {esc(case.kind.replace('_', ' '))} \u00b7 "
        f"<b>{esc(status_name(case.status))}</b>{stage}"
    ]
    handlers = [f"stage {n} {esc(name)}" for n, name in ((1, case.stage1_handler), (2, case.stage2_handler)) if name]
    if handlers:
        lines.append("Handlers: " + ", ".join(handlers))
    for due in case.due:
        extended = f" (was {day(due.original_due_on)})" if due.original_due_on != due.due_on else ""
        lines.append(
            f"\u2022 stage {due.stage} {esc(due.kind)}: due {day(due.due_on)}{extended} \u2014 "
            f"{days_left(due.working_days_left)}"
        )
    if not case.due:
        lines.append("No open deadlines.")
    return lines


def outcome(said: Sequence[str], case: CaseSummary | None) -> list[str]:
    """What was done (plain sentences, escaped here), then the case as it now stands."""
    lines = [f"\u2705 {esc(trim(said[0], 1000))}"] if said else []
    lines += [esc(trim(line, 1000)) for line in said[1:]]
    if case is not None:
        lines += ["", *summary(case)]
    return lines
