"""The messages the product sends: the facts each must carry, in both parts, safely escaped in HTML only."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from jinja2 import UndefinedError

from classifier.definition import Definition
from scheduler.letters import (
    AGE_BANDS,
    DIGEST_LISTED,
    Acknowledgement,
    DeliveryFailureAlert,
    ExclusionLetter,
    ExtensionNotice,
    HandlerReminder,
    LandlordDetails,
    LetterError,
    OmbudsmanDetails,
    OverdueNotice,
    Rendered,
    ServiceRequestDigest,
    StageResponseLetter,
    SurveyReply,
    UnreviewedAlert,
    age_band,
    environment,
    london_time,
    long_date,
    render_acknowledgement,
    render_delivery_failure_alert,
    render_exclusion_letter,
    render_extension_notice,
    render_handler_reminder,
    render_overdue_notice,
    render_service_request_digest,
    render_stage_response,
    render_survey_reply,
    render_unreviewed_alert,
)

LANDLORD = LandlordDetails(
    name="Riverside Homes",
    complaints_email="complaints@riverside.example",
    complaints_phone="0161 000 0000",
    complaints_policy_url="www.riverside.example/complaints",
    address="1 River Street\nLeeds LS1 1AA",
)
BARE_LANDLORD = LandlordDetails(
    name="Riverside Homes", complaints_email="complaints@riverside.example", complaints_phone="0161 000 0000"
)
EVIL = 'Boiler <script>alert(1)</script> & "mould"'
EVIL_ESCAPED = "Boiler &lt;script&gt;alert(1)&lt;/script&gt; &amp;"
REF = "CMP-2026-00042"

ACK = Acknowledgement(
    resident_name="Maria Costa",
    reference=REF,
    stage=1,
    received_on=date(2026, 11, 30),
    definition="No heating since 3 November; the boiler was 'fixed' twice.",
    outcomes_sought="Replace the boiler and refund the heater costs.",
    responsible_aspects=None,
    not_responsible_aspects=None,
    response_due=date(2026, 12, 14),
    handler_name="Hal Jones",
)
RESPONSE = StageResponseLetter(
    resident_name="Maria Costa",
    reference=REF,
    stage=1,
    definition="No heating since 3 November; the boiler was 'fixed' twice.",
    decision="partly_upheld",
    reasons="The engineer missed the first visit.\nThe part had to be ordered.",
    remedy="\u00a375 for the days without heating.",
    outstanding_actions="New boiler fitted by 18 December.",
)
REMINDER = HandlerReminder(
    handler_name="Hal",
    reference=REF,
    stage=1,
    deadline_kind="respond",
    due=date(2026, 12, 11),
    working_days_left=3,
    summary="No heating since 3 November",
    resident_name="Maria Costa",
)
OVERDUE = OverdueNotice(
    handler_name="Hal",
    reference=REF,
    stage=1,
    deadline_kind="respond",
    due=date(2026, 12, 14),
    working_days_overdue=2,
    summary="No heating since 3 November",
    resident_name="Maria Costa",
)
UNREVIEWED = UnreviewedAlert(
    message_id=123,
    received_at=datetime(2026, 7, 1, 15, 35, tzinfo=UTC),  # 4:35pm in London (BST)
    acknowledge_due=date(2026, 7, 8),
    sender="maria@resident.example",
    channel="email",
    excerpt="The lift has been broken for two weeks",
    predicted_label="service_request",
)
EXTENSION = ExtensionNotice(
    resident_name="Maria Costa",
    reference=REF,
    stage=1,
    previous_due=date(2026, 12, 14),
    new_due=date(2026, 12, 21),
    reason="We are waiting for a surveyor's report.",
)
SURVEY = SurveyReply(resident_name="Maria Costa", reference="SVY-2026-00007")
EXCLUSION = ExclusionLetter(
    resident_name="Maria Costa",
    reference=REF,
    reasons="The issue arose over 12 months ago (Code 2.2).",
    decided_on=date(2026, 11, 25),
)
DIGEST = ServiceRequestDigest(
    week_of=date(2026, 11, 30),
    rows=[
        ("SR-2026-00003", date(2026, 11, 27), 1, "open", "Tap drips", None),
        ("SR-2026-00001", date(2026, 10, 2), 40, "open", "Fence down", "CMP-2026-00009"),
        ("SR-2026-00002", date(2026, 11, 2), 20, "open", "Gutter blocked", None),
    ],
)
FAILURE = DeliveryFailureAlert(
    reference=REF,
    recipient="maria@resident.example",
    channel="email",
    attempts=8,
    last_error="550 5.1.1 no such user",
    original_subject=f"Your complaint {REF}: we have received it (stage 1)",
)

# kind -> (render, context, facts in both parts, resident-facing)
KINDS: dict[str, tuple[Callable[[Any, LandlordDetails], Rendered], Any, list[str], bool]] = {
    "acknowledgement": (
        render_acknowledgement,
        ACK,
        [
            REF,
            "stage 1",
            "Monday 30 November 2026",
            "Monday 14 December 2026",
            ACK.definition,
            "Replace the boiler",
            "please reply to this message",
            "large print",
            "Hal Jones",
        ],
        True,
    ),
    "stage_response": (
        render_stage_response,
        RESPONSE,
        [
            REF,
            "stage 1 response",
            "No heating since 3 November",
            "We partly uphold your complaint",
            "The part had to be ordered.",
            "\u00a375 for the days without heating.",
            "New boiler fitted by 18 December.",
            "ask for your complaint to go to stage 2",
        ],
        True,
    ),
    "handler_reminder": (
        render_handler_reminder,
        REMINDER,
        [
            REF,
            "stage 1 response",
            "in 3 working days",
            "Friday 11 December 2026",
            "Code 6.3",
            "Maria Costa",
            "No heating since 3 November",
            f"triage cases show {REF}",
        ],
        False,
    ),
    "overdue_notice": (
        render_overdue_notice,
        OVERDUE,
        [
            REF,
            "stage 1 response",
            "Monday 14 December 2026",
            "2 working days late",
            "Code 6.3",
            f"triage cases show {REF}",
        ],
        False,
    ),
    "unreviewed_alert": (
        render_unreviewed_alert,
        UNREVIEWED,
        [
            "Message 123",
            "Wednesday 1 July 2026 at 4:35pm",
            "Wednesday 8 July 2026",
            "maria@resident.example",
            "email",
            "service request",
            "The lift has been broken",
        ],
        False,
    ),
    "extension_notice": (
        render_extension_notice,
        EXTENSION,
        [REF, "stage 1", "Monday 14 December 2026", "Monday 21 December 2026", "surveyor's report"],
        True,
    ),
    "survey_reply": (
        render_survey_reply,
        SURVEY,
        ["SVY-2026-00007", "make a complaint", "reply to this message", "www.riverside.example/complaints"],
        True,
    ),
    "exclusion_letter": (
        render_exclusion_letter,
        EXCLUSION,
        [REF, "Wednesday 25 November 2026", "not to take it forward", "over 12 months ago", "review our decision"],
        True,
    ),
    "service_request_digest": (
        render_service_request_digest,
        DIGEST,
        ["Monday 30 November 2026", "SR-2026-00001", "Friday 2 October 2026", "CMP-2026-00009", "Gutter blocked"],
        False,
    ),
    "delivery_failure_alert": (
        render_delivery_failure_alert,
        FAILURE,
        [
            REF,
            "maria@resident.example",
            "550 5.1.1 no such user",
            "Attempts: 8",
            "we have received it",
            f"triage cases show {REF}",
        ],
        False,
    ),
}
# kind -> the fields a resident (or a mail server) wrote, which the HTML must escape
FREE_TEXT = {
    "acknowledgement": [
        "resident_name",
        "definition",
        "outcomes_sought",
        "responsible_aspects",
        "not_responsible_aspects",
        "handler_name",
    ],
    "handler_reminder": ["summary", "resident_name"],
    "overdue_notice": ["summary", "resident_name"],
    "unreviewed_alert": ["excerpt", "sender"],
    "extension_notice": ["resident_name", "reason"],
    "survey_reply": ["resident_name"],
    "exclusion_letter": ["resident_name", "reasons"],
    "delivery_failure_alert": ["last_error", "original_subject", "recipient"],
}
OMBUDSMAN_FACTS = [
    "www.housing-ombudsman.org.uk/residents/make-a-complaint/",
    "0300 111 3000",
    "PO Box 1484, Unit D, Preston, PR2 0ET",
    "www.housing-ombudsman.org.uk",
]
VOID = {"meta", "br", "hr", "img", "input", "link"}


def render(kind: str, *, landlord: LandlordDetails = LANDLORD, **changes: Any) -> Rendered:
    fn, context, _, _ = KINDS[kind]
    return fn(replace(context, **changes), landlord)


class _Reader(HTMLParser):
    """Checks tags balance and collects the visible text, with a space where a block or line break falls."""

    INLINE = frozenset({"a", "strong", "code", "em", "b", "span"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)
        if tag not in self.INLINE:
            self.chunks.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()
        if tag not in self.INLINE:
            self.chunks.append(" ")

    def handle_data(self, data: str) -> None:
        if "head" not in self.stack:
            self.chunks.append(data)


def read_html(html: str) -> tuple[str, list[str]]:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    problems = reader.problems + [f"<{tag}> never closed" for tag in reader.stack]
    return " ".join("".join(reader.chunks).split()), problems


def squash(text: str) -> str:
    return " ".join(text.split())


def ombudsman_part(text: str) -> str:
    """The Ombudsman block of a text message: from its heading to the next blank line."""
    start = text.index("Help from the Housing Ombudsman Service")
    return text[start:].split("\n\n", maxsplit=1)[0]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 8), "Tuesday 8 December 2026"),
        (date(2024, 2, 29), "Thursday 29 February 2024"),
        (date(2026, 1, 1), "Thursday 1 January 2026"),
        (date(2000, 1, 1), "Saturday 1 January 2000"),
        (datetime(2026, 3, 29, 23, 59, tzinfo=UTC), "Sunday 29 March 2026"),
    ],
)
def test_long_date(day: date, expected: str) -> None:
    assert long_date(day) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Sunday 29 March 2026 at 12:30am"),  # still GMT
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Sunday 29 March 2026 at 2:30am"),  # BST from 1am UTC
        (datetime(2026, 7, 1, 23, 5, tzinfo=UTC), "Thursday 2 July 2026 at 12:05am"),  # the London date
        (datetime(2026, 12, 8, 12, 0, tzinfo=UTC), "Tuesday 8 December 2026 at midday"),
        (datetime(2026, 12, 8, 0, 0, tzinfo=UTC), "Tuesday 8 December 2026 at midnight"),
        (datetime(2026, 12, 8, 9, 0, tzinfo=UTC), "Tuesday 8 December 2026 at 9am"),
    ],
)
def test_london_time(moment: datetime, expected: str) -> None:
    assert london_time(moment) == expected


def test_london_time_refuses_a_naive_datetime() -> None:
    with pytest.raises(LetterError, match="timezone-aware"):
        london_time(datetime(2026, 12, 8, 9, 0))  # noqa: DTZ001


@pytest.mark.parametrize("kind", KINDS)
def test_every_message_carries_its_facts_in_both_parts(kind: str) -> None:
    _, _, facts, _ = KINDS[kind]
    letter = render(kind)
    visible, _ = read_html(letter.html)
    for fact in facts:
        assert fact in letter.text, fact
        assert squash(fact) in visible, fact
    assert "\n" not in letter.subject and letter.subject in letter.html


@pytest.mark.parametrize("kind", KINDS)
def test_html_is_a_balanced_self_contained_page(kind: str) -> None:
    html = render(kind).html
    _, problems = read_html(html)
    assert problems == []
    assert html.startswith("<!DOCTYPE html>") and '<meta name="viewport"' in html
    assert "<style" not in html and "<script" not in html and "<link" not in html and "src=" not in html


@pytest.mark.parametrize("kind", KINDS)
def test_the_text_part_says_what_the_html_says(kind: str) -> None:
    letter = render(kind)
    visible, _ = read_html(letter.html)
    for line in letter.text.splitlines():
        said = squash(line.removeprefix("- "))
        assert said in visible, said


@pytest.mark.parametrize("kind", KINDS)
def test_resident_letters_carry_the_ombudsman_block_and_sign_off_from_the_complaints_team(kind: str) -> None:
    _, _, _, resident_facing = KINDS[kind]
    letter = render(kind)
    visible, _ = read_html(letter.html)
    if not resident_facing:
        # A handler's reminder to respond carries the details the response must give the resident; other
        # staff mail does not.
        assert ("0300 111 3000" in letter.text) is (kind == "handler_reminder")
        return
    block = ombudsman_part(letter.text)
    positions = [block.index(fact) for fact in OMBUDSMAN_FACTS[:3]]
    assert positions == sorted(positions), "the online form leads, then phone, then post"
    assert OMBUDSMAN_FACTS[3] in block and "@" not in block and "email" not in block.lower()
    html_block = letter.html[letter.html.index("Help from the Housing Ombudsman Service") :]
    html_block = html_block[: html_block.index("</div>")]
    assert "@" not in html_block and "mailto:" not in html_block
    assert 'href="https://www.housing-ombudsman.org.uk/residents/make-a-complaint/"' in html_block
    assert 'href="tel:03001113000"' in html_block
    for fact in OMBUDSMAN_FACTS:
        assert fact in visible
    assert "@housing-ombudsman" not in letter.text and "@housing-ombudsman" not in letter.html
    for fact in ["Complaints team", "Riverside Homes", "complaints@riverside.example", "0161 000 0000"]:
        assert fact in letter.text and fact in visible
    assert 'href="mailto:complaints@riverside.example"' in letter.html


@pytest.mark.parametrize(("kind", "field"), [(k, f) for k, fields in FREE_TEXT.items() for f in fields])
def test_what_people_wrote_is_escaped_in_html_and_kept_as_written_in_text(kind: str, field: str) -> None:
    changes: dict[str, Any] = {field: EVIL}
    letter = render(kind, **changes)
    assert EVIL in letter.text
    assert "<script>" not in letter.html and EVIL_ESCAPED in letter.html


def test_digest_summaries_are_escaped_too() -> None:
    digest = replace(DIGEST, rows=[("SR-2026-00001", date(2026, 11, 2), 3, "open", EVIL, None)])
    letter = render_service_request_digest(digest, LANDLORD)
    assert EVIL in letter.text and "<script>" not in letter.html and EVIL_ESCAPED in letter.html


def test_landlord_settings_are_escaped_in_html() -> None:
    landlord = replace(LANDLORD, name="Smith & Sons <Homes>", address="Flat 1 & 2\n<River> Street")
    letter = render_survey_reply(SURVEY, landlord)
    assert "Smith & Sons <Homes>" in letter.text and "Smith &amp; Sons &lt;Homes&gt;" in letter.html
    assert "<River>" not in letter.html and "Flat 1 &amp; 2<br>" in letter.html


def test_a_missing_template_variable_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError, match="landlord"):
        environment().get_template("_ombudsman.txt").render(intro="x")
    with pytest.raises(UndefinedError, match="greeting"):
        environment().get_template("acknowledgement.html").render(ack=ACK, landlord=LANDLORD, subject="s")
    with pytest.raises(UndefinedError):
        environment().get_template("handler_reminder.txt").render(reminder=REMINDER, landlord=LANDLORD)


def test_html_templates_escape_and_text_templates_do_not() -> None:
    env = environment()
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"  # a string template counts as HTML
    assert env.get_template("_staff_footer.txt").render(landlord=replace(LANDLORD, name="<A&B>")).strip() == (
        "Sent by housing-triage for <A&B>."
    )
    assert "&lt;A&amp;B&gt;" in env.get_template("_staff_footer.html").render(
        landlord=replace(LANDLORD, name="<A&B>"), style={"small": ""}
    )


def test_the_acknowledgement_shows_responsibilities_only_when_set() -> None:
    neither = render("acknowledgement")
    for part in (neither.text, neither.html):
        assert "What we are responsible for" not in part and "What we are not responsible for" not in part
    both = render(
        "acknowledgement",
        responsible_aspects="The boiler repair",
        not_responsible_aspects="The gas supply (your supplier)",
    )
    visible, _ = read_html(both.html)
    for part in (both.text, visible):
        assert "What we are responsible for The boiler repair" in squash(part)
        assert "What we are not responsible for The gas supply (your supplier)" in squash(part)
    only_not = render("acknowledgement", not_responsible_aspects="The gas supply")
    assert "What we are not responsible for" in only_not.text and "What we are responsible for" not in only_not.text


@pytest.mark.parametrize("outcomes", [None, "", "   "])
def test_the_acknowledgement_asks_for_the_outcome_when_none_was_stated(outcomes: str | None) -> None:
    letter = render("acknowledgement", outcomes_sought=outcomes)
    visible, _ = read_html(letter.html)
    for part in (letter.text, visible):
        assert "You did not say what you would like us to do" in part and "Please reply and tell us" in part
    assert "Replace the boiler" not in letter.text


def test_the_acknowledgement_asks_for_detail_when_there_is_no_definition_yet() -> None:
    letter = render("acknowledgement", definition="  ")
    assert "We need a little more detail" in letter.text and "We need a little more detail" in letter.html


def test_the_acknowledgement_invites_corrections_and_offers_adjustments() -> None:
    letter = render("acknowledgement")
    assert "Have we got this right?" in letter.text
    assert "If we have misunderstood anything or missed something out, please reply" in letter.text
    assert "Help with contacting us" in letter.text and "someone to speak for you" in letter.text
    assert letter.subject == f"Your complaint {REF}: we have received it (stage 1)"


def test_stage_2_says_it_is_the_final_stage() -> None:
    one, two = render("acknowledgement"), render("acknowledgement", stage=2)
    assert "final stage" not in one.text
    assert "stage 2" in two.text and "This is the final stage of our complaints process." in two.text
    assert "final response by Monday 14 December 2026" in two.text
    assert two.subject == f"Your complaint {REF}: we have received it (stage 2)"
    assert "final (stage 2) response" in render("extension_notice", stage=2).text


def test_no_name_means_dear_resident() -> None:
    for kind in ("acknowledgement", "extension_notice", "survey_reply", "exclusion_letter"):
        for name in (None, "", "  "):
            letter = render(kind, resident_name=name)
            assert letter.text.startswith("Dear resident,\n") and "Dear resident," in letter.html
    assert render("acknowledgement", handler_name=None).text.count("is looking into your complaint") == 0


@pytest.mark.parametrize(
    ("left", "subject"),
    [
        (3, f"Reminder: {REF} stage 1 response due in 3 working days (Friday 11 December 2026)"),
        (1, f"Reminder: {REF} stage 1 response due in 1 working day (Friday 11 December 2026)"),
        (0, f"Reminder: {REF} stage 1 response due today (Friday 11 December 2026)"),
    ],
)
def test_reminder_subjects(left: int, subject: str) -> None:
    assert render("handler_reminder", working_days_left=left).subject == subject


def test_reminders_for_acknowledgements_and_stage_2_quote_their_provisions() -> None:
    ack = render("handler_reminder", deadline_kind="acknowledge", stage=2)
    assert "stage 2 acknowledgement" in ack.subject and "Code 6.11" in ack.text
    assert "Acknowledge the complaint" in ack.text
    final = render("handler_reminder", stage=2)
    assert "Code 6.14" in final.text and "to the Housing Ombudsman" in final.text


def test_an_unassigned_overdue_notice_asks_for_a_handler() -> None:
    assigned, unassigned = render("overdue_notice"), render("overdue_notice", handler_name="Olga", unassigned=True)
    assert assigned.subject == f"Overdue: {REF} stage 1 response was due Monday 14 December 2026 (2 working days late)"
    assert "Assign a handler" not in assigned.text
    assert unassigned.subject.startswith("Overdue and unassigned:")
    assert "Hello Olga," in unassigned.text and "has no handler for stage 1" in unassigned.text
    assert "Assign a handler today." in unassigned.text
    assert "1 working day late" in render("overdue_notice", working_days_overdue=1).text


def test_the_unreviewed_alert_without_a_label_and_with_a_long_excerpt() -> None:
    letter = render("unreviewed_alert", predicted_label=None, excerpt="x" * 400)
    assert "The classifier has not labelled it yet." in letter.text
    assert "x" * 300 + "…" in letter.text and "x" * 301 not in letter.text


def test_a_delivery_failure_without_a_case() -> None:
    letter = render("delivery_failure_alert", reference=None)
    assert letter.subject == "Not delivered: a message to maria@resident.example by email"
    assert "not linked to a case" in letter.text and "triage cases show" not in letter.text


@pytest.mark.parametrize(
    ("days", "band"),
    [(0, 0), (5, 0), (6, 1), (10, 1), (11, 2), (20, 2), (21, 3), (400, 3), (-1, 0)],
)
def test_age_band(days: int, band: int) -> None:
    assert age_band(days) == AGE_BANDS[band][0]


def test_the_digest_counts_age_bands_and_lists_the_oldest_first() -> None:
    ages = [0, 5, 6, 10, 11, 20, 21, 40, 3]
    rows = [
        (f"SR-2026-{i:05d}", date(2026, 11, 30) - timedelta(days=age), age, "open", f"job {i}", None)
        for i, age in enumerate(ages, start=1)
    ]
    letter = render_service_request_digest(ServiceRequestDigest(week_of=date(2026, 11, 30), rows=rows), LANDLORD)
    visible, _ = read_html(letter.html)
    for part in (letter.text, visible):
        flat = squash(part)
        assert "0-5 working days: 3" in flat and "6-10 working days: 2" in flat and "11-20 working days: 2" in flat
        assert "over 20 working days: 2" in flat and "total open: 9" in flat
    listed = re.findall(r"^- (SR-\d{4}-\d{5}):", letter.text, flags=re.MULTILINE)
    by_age = [ref for ref, *_ in sorted(rows, key=lambda r: -r[2])]
    assert listed == by_age
    assert letter.subject == "Service requests open, week of Monday 30 November 2026: 9 open, 2 over 20 working days"


def test_an_empty_digest_says_so() -> None:
    letter = render_service_request_digest(ServiceRequestDigest(week_of=date(2026, 11, 30), rows=[]), LANDLORD)
    assert "There are no open service requests this week." in letter.text and "total open: 0" in letter.text
    assert read_html(letter.html)[1] == []


def test_a_long_digest_lists_only_the_oldest_but_counts_them_all() -> None:
    rows = [(f"SR-2026-{i:05d}", date(2026, 1, 5), i % 30, "open", "job", None) for i in range(DIGEST_LISTED + 5)]
    letter = render_service_request_digest(ServiceRequestDigest(week_of=date(2026, 11, 30), rows=rows), LANDLORD)
    assert f"total open: {DIGEST_LISTED + 5}" in letter.text
    assert f"The {DIGEST_LISTED} oldest are listed below; 5 more are not shown." in letter.text
    assert len(re.findall(r"^- SR-", letter.text, flags=re.MULTILINE)) == DIGEST_LISTED


def test_the_ombudsman_details_default_to_the_code_and_can_be_overridden() -> None:
    default = LandlordDetails(name="R", complaints_email="c@r.example", complaints_phone="1").ombudsman
    assert default == OmbudsmanDetails(
        name="Housing Ombudsman Service",
        online_form="www.housing-ombudsman.org.uk/residents/make-a-complaint/",
        telephone="0300 111 3000",
        post="PO Box 1484, Unit D, Preston, PR2 0ET",
        website="www.housing-ombudsman.org.uk",
    )
    landlord = replace(BARE_LANDLORD, ombudsman=OmbudsmanDetails(telephone="0300 999 9999"))
    letter = render_exclusion_letter(EXCLUSION, landlord)
    assert "Phone: 0300 999 9999" in letter.text and "0300 111 3000" not in letter.text
    assert 'href="tel:03009999999"' in letter.html


def test_the_ombudsman_details_refuse_an_email_address() -> None:
    with pytest.raises(LetterError, match="email address"):
        OmbudsmanDetails(online_form="info@housing-ombudsman.org.uk")


def test_optional_landlord_details_are_left_out_when_unset() -> None:
    letter = render("survey_reply", landlord=BARE_LANDLORD)
    assert "complaints policy" not in letter.text and "Post: " not in ombudsman_part(letter.text).replace(
        "Post: Housing Ombudsman Service", ""
    )
    with_policy = render("survey_reply")
    assert 'href="https://www.riverside.example/complaints"' in with_policy.html
    assert "Post: 1 River Street\nLeeds LS1 1AA" in with_policy.text


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: replace(ACK, stage=3), "two complaint stages"),
        (lambda: replace(REMINDER, deadline_kind="close"), "deadline kind"),
        (lambda: replace(REMINDER, working_days_left=-1), "overdue notice"),
        (lambda: replace(OVERDUE, working_days_overdue=0), "at least 1"),
        (lambda: replace(EXTENSION, new_due=EXTENSION.previous_due), "later"),
        (lambda: replace(UNREVIEWED, received_at=datetime(2026, 7, 1, 15, 35)), "timezone-aware"),  # noqa: DTZ001
    ],
)
def test_contexts_that_cannot_make_a_sensible_message_are_refused(make: Callable[[], object], message: str) -> None:
    with pytest.raises(LetterError, match=message):
        make()


def test_the_classifiers_draft_is_put_to_the_resident_in_the_second_person_without_repeating_the_outcome() -> None:
    draft = Definition(
        points=("the mould in the bedroom is back", "nobody came after the survey on 3 October"),
        outcome="Treat the mould properly and move us while it is done.",
    )
    letter = render("acknowledgement", definition=draft.summary, outcomes_sought=draft.outcome)
    visible, _ = read_html(letter.html)
    for text in (letter.text, visible):
        assert "The resident" not in text
        assert "You told us you are unhappy that: (1) the mould in the bedroom is back; (2) nobody came" in text
        assert text.count("move us while it is done") == 1  # once, under "What you would like us to do"


def test_a_definition_staff_wrote_is_sent_as_they_wrote_it() -> None:
    letter = render("acknowledgement")
    assert "No heating since 3 November; the boiler was 'fixed' twice." in letter.text
    assert "You told us" not in letter.text


def test_a_draft_without_points_or_outcome_asks_the_resident_for_both() -> None:
    draft = Definition(points=(), outcome=None)
    letter = render("acknowledgement", definition=draft.summary, outcomes_sought=None)
    assert "You told us you are unhappy with our service, but not yet what about." in letter.text
    assert "You did not say what you would like us to do to put things right." in letter.text
    assert "Ask:" not in letter.text and "not stated" not in letter.text


def test_the_final_response_sends_the_resident_to_the_ombudsman_not_to_another_stage() -> None:
    letter = render("stage_response", stage=2, decision="not_upheld", remedy=None, outstanding_actions=None)
    assert letter.subject == f"Your complaint {REF}: our final response"
    assert "We do not uphold your complaint" in letter.text
    assert "We are not offering a remedy." in letter.text
    assert "What is still to be done" not in letter.text
    assert "stage 2. You do not have to give a reason" not in letter.text
    assert "If you are still unhappy, you can now ask the Housing Ombudsman Service" in letter.text


def test_a_stage_response_with_an_unknown_decision_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown decision"):
        replace(RESPONSE, decision="maybe")
