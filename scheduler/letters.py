"""The messages the product sends, rendered from Jinja2 templates into a subject, plain text and HTML.

Pure: each `render_<kind>` takes a frozen context and the landlord's details and returns a `Rendered`;
nothing is sent and nothing reads the clock. HTML templates escape what residents wrote; text templates
keep it as written. Missing template variables raise (StrictUndefined) instead of printing blanks into
a letter. Dates are written out here, not with strftime, so the machine's locale cannot change them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from classifier.definition import OUTCOME_SOUGHT, UNHAPPY_THAT, UNHAPPY_VAGUELY

LONDON = ZoneInfo("Europe/London")
STAGES = (1, 2)
DEADLINE_KINDS = ("acknowledge", "respond")
# Age bands for the service request register (Code 1.4), in working days: (label, lowest, highest).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-5 working days", 0, 5),
    ("6-10 working days", 6, 10),
    ("11-20 working days", 11, 20),
    ("over 20 working days", 21, None),
)
EXCERPT_CHARS = 300
DIGEST_LISTED = 200  # a large landlord has thousands open: the counts cover all, the list the oldest

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = "January February March April May June July August September October November December".split()
# The Code's provision for each (stage, deadline kind), quoted to staff.
_PROVISIONS = {(1, "acknowledge"): "6.2", (1, "respond"): "6.3", (2, "acknowledge"): "6.11", (2, "respond"): "6.14"}
# Inline styles only: many mail apps on phones drop <style> blocks.
_STYLE = {
    "body": "margin:0;padding:0;background-color:#f3f2f1;",
    "page": (
        "max-width:600px;margin:0 auto;padding:20px 16px;background-color:#ffffff;color:#0b0c0c;"
        "font-family:Arial,Helvetica,sans-serif;font-size:17px;line-height:1.5;"
    ),
    "h2": "font-size:19px;line-height:1.3;margin:28px 0 8px;",
    "p": "margin:0 0 16px;",
    "quote": "margin:0 0 16px;padding:8px 12px;border-left:4px solid #b1b4b6;background-color:#f8f8f8;",
    "box": "margin:28px 0 16px;padding:4px 16px;border:2px solid #1d70b8;",
    "box_h2": "font-size:19px;line-height:1.3;margin:12px 0 8px;",
    "ul": "margin:0 0 16px;padding-left:20px;",
    "li": "margin:0 0 8px;",
    "a": "color:#1d70b8;text-decoration:underline;",
    "code": "font-family:Consolas,Menlo,monospace;font-size:15px;background-color:#f3f2f1;padding:2px 4px;",
    "small": "font-size:15px;color:#505a5f;",
}


class LetterError(ValueError):
    """A context that cannot make a sensible message (a third stage, a negative count); fit to show a person."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class OmbudsmanDetails:
    """The Housing Ombudsman's contact details (CODE.md defaults). It no longer takes new cases by email
    (since 13 January 2026), so no field may hold an email address and letters lead with the online form."""

    name: str = "Housing Ombudsman Service"
    online_form: str = "www.housing-ombudsman.org.uk/residents/make-a-complaint/"
    telephone: str = "0300 111 3000"
    post: str = "PO Box 1484, Unit D, Preston, PR2 0ET"
    website: str = "www.housing-ombudsman.org.uk"

    def __post_init__(self) -> None:
        for f in fields(self):
            if "@" in getattr(self, f.name):
                raise LetterError(f"the Ombudsman's {f.name} must not be an email address")


@dataclass(frozen=True)
class LandlordDetails:
    """Who resident letters come from, and how residents reach the complaints team."""

    name: str
    complaints_email: str
    complaints_phone: str
    complaints_policy_url: str | None = None
    address: str | None = None
    ombudsman: OmbudsmanDetails = field(default_factory=OmbudsmanDetails)


def _check_stage(stage: int) -> None:
    if stage not in STAGES:
        raise LetterError(f"the Code has two complaint stages, not stage {stage}")


def _check_deadline(stage: int, deadline_kind: str) -> None:
    _check_stage(stage)
    if deadline_kind not in DEADLINE_KINDS:
        raise LetterError(f"deadline kind must be one of {', '.join(DEADLINE_KINDS)}, not {deadline_kind!r}")


@dataclass(frozen=True)
class Acknowledgement:
    """Code 6.2/6.11 with the complaint definition (5.6), responsibilities (5.7) and adjustments (5.10)."""

    resident_name: str | None
    reference: str
    stage: int
    received_on: date
    definition: str
    outcomes_sought: str | None
    responsible_aspects: str | None
    not_responsible_aspects: str | None
    response_due: date
    handler_name: str | None

    def __post_init__(self) -> None:
        _check_stage(self.stage)


@dataclass(frozen=True)
class StageResponseLetter:
    """Code 6.9/6.19: the stage, the definition, the decision and reasons, any remedy, outstanding actions,
    and how to escalate (stage 1) or go to the Ombudsman (stage 2)."""

    resident_name: str | None
    reference: str
    stage: int
    definition: str
    decision: str  # a StageDecision value: upheld, partly_upheld, not_upheld
    reasons: str
    remedy: str | None
    outstanding_actions: str | None

    def __post_init__(self) -> None:
        _check_stage(self.stage)
        if self.decision not in DECISION_WORDS:
            raise ValueError(f"unknown decision {self.decision!r}")


DECISION_WORDS = {
    "upheld": "We uphold your complaint: we agree that we got this wrong.",
    "partly_upheld": "We partly uphold your complaint: we agree with some of it, but not all of it.",
    "not_upheld": "We do not uphold your complaint: we do not think we got this wrong.",
}


@dataclass(frozen=True)
class HandlerReminder:
    handler_name: str
    reference: str
    stage: int
    deadline_kind: str  # "acknowledge" or "respond"
    due: date
    working_days_left: int  # 0 means due today
    summary: str
    resident_name: str | None

    def __post_init__(self) -> None:
        _check_deadline(self.stage, self.deadline_kind)
        if self.working_days_left < 0:
            raise LetterError("a reminder comes before its deadline; send an overdue notice instead")


@dataclass(frozen=True)
class OverdueNotice:
    """To the handler, or to the complaints officer; `unassigned` says nobody is handling that stage."""

    handler_name: str
    reference: str
    stage: int
    deadline_kind: str
    due: date
    working_days_overdue: int
    summary: str
    resident_name: str | None
    unassigned: bool = False

    def __post_init__(self) -> None:
        _check_deadline(self.stage, self.deadline_kind)
        if self.working_days_overdue < 1:
            raise LetterError("an overdue notice needs at least 1 working day overdue")


@dataclass(frozen=True)
class UnreviewedAlert:
    message_id: int
    received_at: datetime
    acknowledge_due: date
    sender: str
    channel: str
    excerpt: str
    predicted_label: str | None

    def __post_init__(self) -> None:
        if self.received_at.utcoffset() is None:
            raise LetterError("received_at must be timezone-aware")


@dataclass(frozen=True)
class ExtensionNotice:
    """Code 6.4/6.15: the new date and why; 6.5/6.16: with the Ombudsman's details."""

    resident_name: str | None
    reference: str
    stage: int
    previous_due: date
    new_due: date
    reason: str

    def __post_init__(self) -> None:
        _check_stage(self.stage)
        if self.new_due <= self.previous_due:
            raise LetterError(f"an extension must move the date later than {self.previous_due}, not to {self.new_due}")


@dataclass(frozen=True)
class SurveyReply:
    """Code 1.6: survey dissatisfaction is not a complaint, but the resident is told how to make one."""

    resident_name: str | None
    reference: str


@dataclass(frozen=True)
class SurveyQuestion:
    """A satisfaction question about a service request; Code 1.6: it says how to complain too.
    `about` is a few words saying which request it was (the resident's own, shortened)."""

    resident_name: str | None
    reference: str
    question: str
    about: str | None = None

    def __post_init__(self) -> None:
        if not self.question.strip():
            raise LetterError("a survey needs a question")


@dataclass(frozen=True)
class LinkConflictAlert:
    """For staff: a chat resident gave an email address another resident record holds; nothing was merged."""

    chat_resident_id: int
    telegram_user_id: int
    chat_name: str | None
    email: str
    other_resident_id: int
    other_name: str | None


@dataclass(frozen=True)
class ExclusionLetter:
    """Code 2.4: why we are not taking it forward, and the right to take that decision to the Ombudsman."""

    resident_name: str | None
    reference: str
    reasons: str
    decided_on: date


class ServiceRequestRow(NamedTuple):
    reference: str
    opened_on: date
    age_working_days: int
    status: str
    summary: str
    linked_complaint: str | None


@dataclass(frozen=True)
class ServiceRequestDigest:
    """Code 1.4: the weekly register of open service requests. Rows may be plain tuples in row order."""

    week_of: date
    rows: Sequence[tuple[str, date, int, str, str, str | None]]


@dataclass(frozen=True)
class DeliveryFailureAlert:
    reference: str | None
    recipient: str
    channel: str
    attempts: int
    last_error: str
    original_subject: str


def long_date(day: date) -> str:
    """'Tuesday 8 December 2026', whatever the machine's locale."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def london_time(moment: datetime) -> str:
    """'Monday 30 November 2026 at 4:35pm' in London time, as staff read the clock (midday and midnight by name)."""
    if moment.utcoffset() is None:
        raise LetterError("a time to show must be timezone-aware")
    local = moment.astimezone(LONDON)
    if (local.hour, local.minute) == (12, 0):
        clock = "midday"
    elif (local.hour, local.minute) == (0, 0):
        clock = "midnight"
    else:
        hour = local.hour % 12 or 12
        minutes = f":{local.minute:02d}" if local.minute else ""
        clock = f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"
    return f"{long_date(local.date())} at {clock}"


def age_band(working_days: int) -> str:
    """The register's age band label for a service request open this many working days."""
    for label, _low, high in AGE_BANDS:
        if high is None or working_days <= high:
            return label
    raise AssertionError("the last band is open-ended")  # pragma: no cover


def _working_days(n: int) -> str:
    return f"{n} working day" if n == 1 else f"{n} working days"


def _deadline_noun(deadline_kind: str) -> str:
    return "acknowledgement" if deadline_kind == "acknowledge" else "response"


def _href(address: str) -> str:
    """Settings hold web addresses as people write them ('www.…'); links need a scheme."""
    return address if re.match(r"https?://", address) else f"https://{address}"


def _tel(number: str) -> str:
    return "tel:" + re.sub(r"[^\d+]", "", number)


def _html_lines(text: str) -> Markup:
    """Escape text a person wrote and keep its line breaks."""
    return Markup("<br>\n").join(escape(line) for line in text.strip().splitlines())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _tidy(text: str) -> str:
    """Templates leave stray blank lines where optional parts are skipped: at most one blank line between parts."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


@cache
def environment() -> Environment:
    """The template environment, built on first use (not at import): HTML escaped, text not, no silent blanks."""
    env = Environment(
        loader=PackageLoader("scheduler", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # so an included part ends its last line
    )
    env.filters.update(
        long_date=long_date,
        london_time=london_time,
        href=_href,
        tel=_tel,
        html_lines=_html_lines,
        working_days=_working_days,
    )
    env.globals.update(style=_STYLE)
    return env


def _render(stem: str, subject: str, landlord: LandlordDetails, **values: Any) -> Rendered:
    env = environment()
    subject = _one_line(subject)
    values.update(subject=subject, landlord=landlord)
    text = env.get_template(f"{stem}.txt").render(values)
    html = env.get_template(f"{stem}.html").render(values)
    return Rendered(subject=subject, text=_tidy(text), html=html.strip() + "\n")


def _greeting(name: str | None) -> str:
    return f"Dear {name.strip()}," if name and name.strip() else "Dear resident,"


def to_resident(definition: str) -> str:
    """The classifier's draft definition, written about the resident for staff, re-worded to the resident.

    The outcome sought is dropped from it because the letter gives it under its own heading; a definition
    staff rewrote in their own words is left as they wrote it.
    """
    text = definition.strip()
    if text.startswith(UNHAPPY_THAT):
        text = "You told us you are unhappy that:" + text[len(UNHAPPY_THAT) :]
    elif text.startswith(UNHAPPY_VAGUELY):
        text = "You told us you are unhappy with our service, but not yet what about." + text[len(UNHAPPY_VAGUELY) :]
    else:
        return text
    return text.split(OUTCOME_SOUGHT, 1)[0].strip()


def render_acknowledgement(ack: Acknowledgement, landlord: LandlordDetails) -> Rendered:
    subject = f"Your complaint {ack.reference}: we have received it (stage {ack.stage})"
    return _render(
        "acknowledgement",
        subject,
        landlord,
        ack=ack,
        definition=to_resident(ack.definition),
        greeting=_greeting(ack.resident_name),
    )


def render_stage_response(response: StageResponseLetter, landlord: LandlordDetails) -> Rendered:
    final = "final response" if response.stage == 2 else "stage 1 response"
    subject = f"Your complaint {response.reference}: our {final}"
    return _render(
        "stage_response",
        subject,
        landlord,
        response=response,
        definition=to_resident(response.definition),
        decision=DECISION_WORDS[response.decision],
        greeting=_greeting(response.resident_name),
    )


def render_handler_reminder(reminder: HandlerReminder, landlord: LandlordDetails) -> Rendered:
    days = reminder.working_days_left
    when = "today" if days == 0 else f"in {_working_days(days)}"
    noun = _deadline_noun(reminder.deadline_kind)
    subject = f"Reminder: {reminder.reference} stage {reminder.stage} {noun} due {when} ({long_date(reminder.due)})"
    return _render(
        "handler_reminder",
        subject,
        landlord,
        reminder=reminder,
        when=when,
        noun=noun,
        provision=_PROVISIONS[reminder.stage, reminder.deadline_kind],
    )


def render_overdue_notice(notice: OverdueNotice, landlord: LandlordDetails) -> Rendered:
    noun = _deadline_noun(notice.deadline_kind)
    late = _working_days(notice.working_days_overdue)
    prefix = "Overdue and unassigned" if notice.unassigned else "Overdue"
    subject = f"{prefix}: {notice.reference} stage {notice.stage} {noun} was due {long_date(notice.due)} ({late} late)"
    return _render(
        "overdue_notice",
        subject,
        landlord,
        notice=notice,
        noun=noun,
        late=late,
        provision=_PROVISIONS[notice.stage, notice.deadline_kind],
    )


def render_unreviewed_alert(alert: UnreviewedAlert, landlord: LandlordDetails) -> Rendered:
    subject = f"Needs triage: message {alert.message_id}, acknowledgement due {long_date(alert.acknowledge_due)}"
    excerpt = alert.excerpt.strip()
    if len(excerpt) > EXCERPT_CHARS:
        excerpt = excerpt[:EXCERPT_CHARS].rstrip() + "…"
    label = alert.predicted_label.replace("_", " ") if alert.predicted_label else None
    return _render("unreviewed_alert", subject, landlord, alert=alert, excerpt=excerpt, label=label)


def render_extension_notice(notice: ExtensionNotice, landlord: LandlordDetails) -> Rendered:
    subject = f"Your complaint {notice.reference}: we need more time to respond (stage {notice.stage})"
    return _render("extension_notice", subject, landlord, notice=notice, greeting=_greeting(notice.resident_name))


def render_survey_reply(reply: SurveyReply, landlord: LandlordDetails) -> Rendered:
    subject = f"Thank you for your feedback ({reply.reference})"
    return _render("survey_reply", subject, landlord, reply=reply, greeting=_greeting(reply.resident_name))


def render_survey_question(survey: SurveyQuestion, landlord: LandlordDetails) -> Rendered:
    subject = f"How did we do? ({survey.reference})"
    return _render("survey_question", subject, landlord, survey=survey, greeting=_greeting(survey.resident_name))


def render_link_conflict_alert(alert: LinkConflictAlert, landlord: LandlordDetails) -> Rendered:
    subject = f"Check a resident's email: resident {alert.chat_resident_id} gave one already on our records"
    return _render("link_conflict_alert", subject, landlord, alert=alert)


def render_exclusion_letter(letter: ExclusionLetter, landlord: LandlordDetails) -> Rendered:
    subject = f"Your complaint {letter.reference}: our decision not to take it forward"
    return _render("exclusion_letter", subject, landlord, letter=letter, greeting=_greeting(letter.resident_name))


def render_service_request_digest(digest: ServiceRequestDigest, landlord: LandlordDetails) -> Rendered:
    rows = sorted(
        (ServiceRequestRow(*row) for row in digest.rows),
        key=lambda r: (-r.age_working_days, r.opened_on, r.reference),
    )
    counts = Counter(age_band(r.age_working_days) for r in rows)
    listed = rows[:DIGEST_LISTED]
    bands = [
        (label, counts[label], [r for r in listed if age_band(r.age_working_days) == label])
        for label, _, _ in AGE_BANDS
    ]
    subject = (
        f"Service requests open, week of {long_date(digest.week_of)}: {len(rows)} open, "
        f"{counts[AGE_BANDS[-1][0]]} over 20 working days"
    )
    return _render(
        "service_request_digest", subject, landlord, digest=digest, total=len(rows), listed=len(listed), bands=bands
    )


def render_delivery_failure_alert(alert: DeliveryFailureAlert, landlord: LandlordDetails) -> Rendered:
    about = f"message for {alert.reference}" if alert.reference else "a message"
    subject = f"Not delivered: {about} to {alert.recipient} by {alert.channel}"
    return _render("delivery_failure_alert", subject, landlord, alert=alert)
