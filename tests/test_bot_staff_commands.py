"""Staff case commands in Telegram: /assign, /define, /respond, /escalate, /extend, /exclude, /close, /help,
@handler resolution, and staff text that must never be stored as a resident's message.

The application is built as production builds it and driven one update at a time against the loopback
Bot API server (as in test_bot_handlers), with a fixed clock so the dates are known: complaints received on
Monday 2 November 2026 are acknowledged on Tuesday 3 November, so their stage 1 response is due on
Tuesday 17 November (10 working days).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.telegram import casefile, staff_commands, staff_views
from bot.telegram.app import TriageApplication
from bot.telegram.staff_syntax import (
    Assign,
    Close,
    Define,
    Escalate,
    Exclude,
    Extend,
    Respond,
    Usage,
    after_command,
    parse_assign,
    parse_close,
    parse_define,
    parse_escalate,
    parse_exclude,
    parse_extend,
    parse_respond,
    reference_in,
)
from models.cases import StageResponse
from models.database import DatabaseSettings, make_engine
from models.enums import CaseStatus, DeadlineKind, Label, OutboxChannel, StageDecision
from models.messages import InboundMessage
from models.people import StaffMember
from tests import bot_staff_support as support
from tests.bot_staff_support import (
    NOW,
    PRIYA,
    RECEIVED,
    STAFF_ONLY,
    case_of,
    complaint,
    due,
    last,
    outbox,
    staff_id,
    staff_says,
    triage_as,
)
from tests.servers.telegram_api import BotApiServer
from tests.test_bot_handlers import GONE, RESIDENT, SAM, STAFF_CHAT, TESS, audit, count, handle, seed_message, texts

engine, clock, app = support.engine, support.clock, support.app  # the shared fixtures

# --------------------------------------------------------------------------------- the syntax (pure)


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (parse_assign, "cmp-2026-00042 @Sam", Assign("CMP-2026-00042", "@Sam")),
        (parse_assign, "CMP-2026-00042 sam@riverside.example", Assign("CMP-2026-00042", "sam@riverside.example")),
        (
            parse_define,
            "CMP-2026-00042  Mould in the bedroom.\nOutcome: fixed",
            Define("CMP-2026-00042", "Mould in the bedroom.\nOutcome: fixed"),
        ),
        (
            parse_respond,
            "CMP-2026-00042 Partly_Upheld\nReasons: two missed visits\nand no call back\nremedy: \u00a350"
            "\nOutstanding actions: mould wash",
            Respond(
                "CMP-2026-00042",
                StageDecision.PARTLY_UPHELD,
                "two missed visits\nand no call back",
                "\u00a350",
                "mould wash",
            ),
        ),
        (
            parse_respond,
            "CMP-2026-00042\ndecision: not upheld\nreason: the visit was kept",
            Respond("CMP-2026-00042", StageDecision.NOT_UPHELD, "the visit was kept"),
        ),
        (parse_escalate, "CMP-2026-00042", Escalate("CMP-2026-00042")),
        (parse_escalate, "CMP-2026-00042 @priya_s", Escalate("CMP-2026-00042", "@priya_s")),
        (
            parse_escalate,
            "CMP-2026-00042 not happy with the remedy",
            Escalate("CMP-2026-00042", None, "not happy with the remedy"),
        ),
        (
            parse_extend,
            "CMP-2026-00042 5 waiting for the survey",
            Extend("CMP-2026-00042", 5, "waiting for the survey"),
        ),
        (
            parse_extend,
            "CMP-2026-00042 5wd the survey is late",
            Extend("CMP-2026-00042", 5, "the survey is late"),
        ),
        (parse_extend, "CMP-2026-00042 5 working days: waiting", Extend("CMP-2026-00042", 5, "waiting")),
        (
            parse_extend,
            "CMP-2026-00042 12 survey late\nGood reason: the contractor went bust\nlast week",
            Extend("CMP-2026-00042", 12, "survey late", "the contractor went bust\nlast week"),
        ),
        (parse_exclude, "CMP-2026-00042 Court claim filed", Exclude("CMP-2026-00042", "Court claim filed")),
        (parse_close, " sr-2026-00001 ", Close("SR-2026-00001")),
    ],
)
def test_what_staff_type_is_read_into_a_form(parse: object, text: str, expected: object) -> None:
    assert callable(parse)
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("parse", "text", "problem"),
    [
        (parse_assign, "", "Which case? Start with its reference."),
        (parse_assign, "MSG-000001 @sam", "MSG-000001 is not a case reference."),
        (parse_assign, "CMP-2026-00042", "Say who should handle it: their @username or e-mail address."),
        (parse_assign, "CMP-2026-00042 Sam", "Say who should handle it: their @username or e-mail address."),
        (parse_define, "CMP-2026-00042  ", "The definition is missing."),
        (parse_respond, "CMP-2026-00042", "The decision is missing: upheld, partly upheld or not upheld."),
        (
            parse_respond,
            "CMP-2026-00042 upheld",
            "The reasons for the decision are missing (Code 6.9): add a line starting reasons:",
        ),
        (
            parse_respond,
            "CMP-2026-00042 maybe\nreasons: x",
            "\u201cmaybe\u201d is not a decision: write upheld, partly upheld or not upheld.",
        ),
        (
            parse_respond,
            "CMP-2026-00042 upheld\nbecause",
            "Start each line with reasons:, remedy: or actions: (not \u201cbecause\u201d).",
        ),
        (parse_extend, "CMP-2026-00042 five more", "How many working days? Put the number after the reference."),
        (parse_extend, "CMP-2026-00042 5", "The reason is missing: the resident is told why (Code 6.4)."),
        (parse_exclude, "CMP-2026-00042", "The reasons are missing: the resident must be told why (Code 2.4)."),
        (parse_close, "CMP-2026-00042 now", "/close takes only the case reference."),
    ],
)
def test_what_is_missing_comes_back_as_usage(parse: object, text: str, problem: str) -> None:
    assert callable(parse)
    found = parse(text)
    assert isinstance(found, Usage) and found.problem == problem
    assert found.usage.startswith("/")


def test_the_text_after_the_command_keeps_its_lines_and_references_are_found_in_replies() -> None:
    assert after_command("/respond@triage_bot CMP-2026-00001 upheld\nreasons: x") == "CMP-2026-00001 upheld\nreasons: x"
    assert after_command("/close") == "" and after_command(None) == ""
    assert reference_in("it's cmp-2026-00007 I think") == "CMP-2026-00007"
    assert reference_in("the mould one") is None


# ------------------------------------------------------------------------------------------ /assign


async def test_assign_finds_the_handler_by_username_in_any_case_or_by_email(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    reference = complaint(engine)

    await staff_says(app, api, f"/assign {reference.lower()} @samh")

    assert last(api) == "\n".join(
        [
            f"\u2705 Sam now handles {reference} at stage 1.",
            "",
            f"<b>{reference}</b> \u00b7 complaint \u00b7 <b>stage 1 open</b> \u00b7 stage 1",
            "Handlers: stage 1 Sam",
            "\u2022 stage 1 respond: due Tue 17 Nov 2026 \u2014 10 working days left",
        ]
    )
    assert case_of(engine, reference).stage1_handler_id == staff_id(engine, SAM)
    (event,) = audit(engine, "assign_handler")
    assert (event.actor, event.actor_staff_id) == ("staff", staff_id(engine, TESS))
    assert event.detail == {"from": "stage1_open", "to": "stage1_open", "stage": 1, "handler_id": staff_id(engine, SAM)}

    await staff_says(app, api, f"/assign {reference} PRIYA@riverside.example", user=SAM)

    assert last(api).startswith(f"\u2705 Priya &lt;P&gt; Shah now handles {reference} at stage 1.")
    assert "Handlers: stage 1 Priya &lt;P&gt; Shah" in last(api)
    assert case_of(engine, reference).stage1_handler_id == staff_id(engine, PRIYA)


async def test_assign_refuses_an_unknown_or_inactive_handler_and_explains_how_to_write_it(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    reference = complaint(engine)

    await staff_says(app, api, f"/assign {reference} @nobody")
    await staff_says(app, api, f"/assign {reference} @gone_g")
    await staff_says(app, api, f"/assign {reference}")
    await staff_says(app, api, "/assign CMP-2026-00099 @samh")

    assert texts(api, STAFF_CHAT) == [
        "Sorry, that was not done: nobody on the staff list is @nobody: use their Telegram @username or e-mail.",
        "Sorry, that was not done: Gone is not an active staff member.",
        "Say who should handle it: their @username or e-mail address.\nWrite it like this:\n"
        "/assign CMP-2026-00042 @handler (their Telegram @username or e-mail address)",
        "Sorry, that was not done: there is no case CMP-2026-00099.",
    ]
    assert case_of(engine, reference).stage1_handler_id is None
    assert audit(engine, "assign_handler") == []


async def test_a_staff_members_username_is_refreshed_whenever_they_are_authorised(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    reference = complaint(engine)

    await staff_says(app, api, "/queue", user=SAM, username="Sam_New")
    await staff_says(app, api, f"/assign {reference} @sam_new")
    assert last(api).startswith(f"\u2705 Sam now handles {reference} at stage 1.")

    # Usernames are unique on Telegram: Priya has taken Sam's new one, so he no longer holds it.
    await staff_says(app, api, "/queue", user=PRIYA, username="SAM_NEW")
    await staff_says(app, api, f"/assign {reference} @Sam_New")
    assert last(api).startswith(f"\u2705 Priya &lt;P&gt; Shah now handles {reference} at stage 1.")

    # Tess's Telegram shows no username any more: nobody can find her by the old one.
    await handle(app, api.push_message(TESS, TESS, "/queue", first_name="Tess"))
    await staff_says(app, api, f"/assign {reference} @tess_t", user=SAM)
    assert last(api) == (
        "Sorry, that was not done: nobody on the staff list is @tess_t: use their Telegram @username or e-mail."
    )
    with Session(engine) as session:
        usernames = {m.name: m.telegram_username for m in session.exec(select(StaffMember))}
    assert usernames == {"Tess": None, "Sam": "SamH", "Priya <P> Shah": "SAM_NEW", "Gone": "gone_g"}


# ------------------------------------------------------------------------------------------ /define


async def test_define_sets_the_case_definition_and_keeps_the_old_one_in_the_audit(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    reference = complaint(engine)
    definition = "Black mould in the <b>bedroom</b>, reported 3 times.\nOutcome sought: a lasting repair"

    await staff_says(app, api, f"/define {reference} {definition}")
    await staff_says(app, api, f"/define {reference}")

    done, usage = texts(api, STAFF_CHAT)
    assert done.startswith(f"\u2705 Definition of {reference} updated.\n\n<b>{reference}</b>")
    assert usage.startswith("The definition is missing.\nWrite it like this:\n/define CMP-2026-00042")
    assert case_of(engine, reference).definition == definition
    (event,) = audit(engine, "define")
    assert event.actor_staff_id == staff_id(engine, TESS)
    assert event.detail == {"definition": definition, "previous": "The mould is back (a)"}


# ----------------------------------------------------------------------------------------- /respond


async def test_respond_records_the_decision_reasons_remedy_and_actions(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    reference = complaint(engine)

    await staff_says(
        app,
        api,
        f"/respond {reference} partly upheld\nreasons: The contractor missed two visits.\nWe should have called."
        "\nremedy: \u00a350 for the missed visits\nactions: Mould wash by 20 Nov",
    )

    text = last(api)
    assert text.startswith(f"\u2705 Stage 1 response to {reference} recorded: partly upheld.\n")
    assert "Remedy: \u00a350 for the missed visits. Outstanding actions: Mould wash by 20 Nov." in text
    assert "how to escalate to stage 2 (Code 6.9)" in text
    assert f"<b>{reference}</b> \u00b7 complaint \u00b7 <b>stage 1 responded</b> \u00b7 stage 1" in text
    assert text.endswith("No open deadlines.")
    with Session(engine) as session:
        response = session.exec(select(StageResponse)).one()
    assert (response.stage, response.decision) == (1, StageDecision.PARTLY_UPHELD)
    assert response.reasons == "The contractor missed two visits.\nWe should have called."
    assert (
        response.remedy == "\u00a350 for the missed visits" and response.outstanding_actions == "Mould wash by 20 Nov"
    )
    assert response.responded_by_id == staff_id(engine, TESS) and response.responded_at == NOW
    assert case_of(engine, reference).status is CaseStatus.STAGE1_RESPONDED
    assert due(engine, reference, 1, DeadlineKind.RESPOND).met_at == NOW
    (event,) = audit(engine, "respond_stage1")
    assert event.actor_staff_id == staff_id(engine, TESS) and event.detail["decision"] == "partly_upheld"
    # The resident gets the response itself, with what Code 6.9 says it must state.
    assert "goes to the resident by e-mail" in text
    letter = outbox(engine)[-1]
    assert letter.idempotency_key == f"response:{reference}:stage1"
    assert letter.subject == f"Your complaint {reference}: our stage 1 response"
    for fact in (
        "We partly uphold your complaint",
        "The contractor missed two visits.\nWe should have called.",
        "\u00a350 for the missed visits",
        "Mould wash by 20 Nov",
        "ask for your complaint to go to stage 2. You do not have to give a reason.",
        "0300 111 3000",
    ):
        assert fact in letter.body_text


async def test_respond_with_something_missing_gets_the_usage_and_changes_nothing(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    reference = complaint(engine)

    await staff_says(app, api, f"/respond {reference} upheld")
    await staff_says(app, api, f"/respond {reference} sort of\nreasons: x")
    await staff_says(app, api, f"/respond {reference} upheld\nreasons: done twice")
    await staff_says(app, api, f"/respond {reference} upheld\nreasons: done twice")

    missing, wrong, done, again = texts(api, STAFF_CHAT)
    assert missing == (
        "The reasons for the decision are missing (Code 6.9): add a line starting reasons:\nWrite it like this:\n"
        "/respond CMP-2026-00042 upheld (or: partly upheld, not upheld)\nreasons: why we decided this\n"
        "remedy: what we will put right or pay (optional)\nactions: what is still to be done, and by when (optional)"
    )
    assert wrong.startswith("\u201csort of\u201d is not a decision")
    assert done.startswith("\u2705 Stage 1 response")
    assert again == (
        "Sorry, that was not done: Cannot respond stage1 a complaint that is stage1_responded; only from: stage1_open."
    )
    assert count(engine, StageResponse) == 1


# ------------------------------------------------------------------------------------ /escalate, stage 2


async def test_escalate_then_stage_2_needs_a_different_handler(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    reference = complaint(engine)
    await staff_says(app, api, f"/assign {reference} @samh")
    await staff_says(app, api, f"/respond {reference} not upheld\nreasons: the repair was done on time", user=SAM)

    await staff_says(app, api, f"/escalate {reference}")

    text = last(api)
    assert text.startswith(
        f"\u2705 Stage 2 requested for {reference}: acknowledge, define and log it by Tue 10 Nov 2026.\n"
        f"Next: /assign {reference} @handler \u2014 someone who did not handle stage 1 (Code 6.13)."
    )
    assert "\u2022 stage 2 acknowledge: due Tue 10 Nov 2026 \u2014 5 working days left" in text
    case = case_of(engine, reference)
    assert case.status is CaseStatus.STAGE2_REQUESTED and case.escalation_requested_at == NOW
    assert audit(engine, "request_escalation")[0].actor_staff_id == staff_id(engine, TESS)

    await staff_says(app, api, f"/assign {reference} @samh")
    assert last(api) == (
        "Sorry, that was not done: The stage 2 handler must be a different person from the stage 1 handler (Code 6.13)."
    )
    assert case_of(engine, reference).status is CaseStatus.STAGE2_REQUESTED
    assert [i.idempotency_key for i in outbox(engine)] == [f"ack:{reference}:stage1", f"response:{reference}:stage1"]

    await staff_says(app, api, f"/assign {reference} @priya_s")

    text = last(api)
    assert text.startswith(
        f"\u2705 Priya &lt;P&gt; Shah handles {reference} at stage 2, now logged (Code 6.11).\n"
        "The stage 2 acknowledgement goes to the resident by e-mail."
    )
    assert "Handlers: stage 1 Sam, stage 2 Priya &lt;P&gt; Shah" in text
    assert "\u2022 stage 2 respond: due Tue 1 Dec 2026 \u2014 20 working days left" in text
    case = case_of(engine, reference)
    assert case.status is CaseStatus.STAGE2_OPEN and case.stage2_handler_id == staff_id(engine, PRIYA)
    ack = outbox(engine)[-1]
    assert ack.idempotency_key == f"ack:{reference}:stage2" and ack.channel is OutboxChannel.EMAIL
    assert due(engine, reference, 2, DeadlineKind.ACKNOWLEDGE).met_at == NOW


async def test_escalate_with_a_handler_logs_stage_2_at_once_and_an_open_complaint_cannot_be_escalated(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    reference = complaint(engine)
    await staff_says(app, api, f"/escalate {reference} @priya_s")
    assert last(api) == (
        "Sorry, that was not done: Cannot request escalation a complaint that is stage1_open; only from: closed, "
        "stage1_responded."
    )
    await staff_says(app, api, f"/respond {reference} upheld\nreasons: we were late")

    await staff_says(app, api, f"/escalate {reference} @priya_s")

    assert (
        "Priya &lt;P&gt; Shah handles stage 2, now logged; the acknowledgement goes to the resident by e-mail."
        in last(api)
    )
    case = case_of(engine, reference)
    assert case.status is CaseStatus.STAGE2_OPEN and case.stage2_handler_id == staff_id(engine, PRIYA)


# ------------------------------------------------------------------------------------------ /extend


async def test_extend_within_the_limit_tells_the_resident_and_past_it_needs_a_good_reason(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    message_id = seed_message(engine, RECEIVED, "Mould again", key="chat", telegram_user_id=RESIDENT)
    reference = triage_as(engine, message_id, Label.COMPLAINT)

    await staff_says(app, api, f"/extend {reference} 5 We are waiting for the damp survey report")

    text = last(api)
    assert text.startswith(
        f"\u2705 Stage 1 response of {reference} extended by 5 working days: now due Tue 24 Nov 2026 "
        "(was Tue 17 Nov 2026).\nExtensions at stage 1: 5 working days of the Code's 10.\n"
        "The resident is told by chat, with the reason and the Housing Ombudsman's details (Code 6.5)."
    )
    assert "\u2022 stage 1 respond: due Tue 24 Nov 2026 (was Tue 17 Nov 2026) \u2014 15 working days left" in text
    notice = outbox(engine)[-1]
    assert notice.idempotency_key.startswith(f"extension:{reference}:stage1:")
    assert (notice.channel, notice.recipient) == (OutboxChannel.TELEGRAM, str(RESIDENT))
    assert "waiting for the damp survey report" in notice.body_text and "0300 111 3000" in notice.body_text
    (event,) = audit(engine, "extend")
    assert event.actor_staff_id == staff_id(engine, TESS) and event.detail["new_due_on"] == "2026-11-24"

    await staff_says(app, api, f"/extend {reference} 6 still waiting")
    assert last(api) == (
        "Sorry, that was not done: Extending stage 1 by 11 working days in total goes past the Code's limit of 10; "
        "record a good reason to go further."
    )
    assert len(outbox(engine)) == 2
    assert due(engine, reference, 1, DeadlineKind.RESPOND).due_on == date(2026, 11, 24)

    await staff_says(app, api, f"/extend {reference} 6 still waiting\ngood reason: the surveyor's firm closed")
    assert (
        "Extensions at stage 1: 11 working days of the Code's 10, past the limit with a good reason recorded."
        in last(api)
    )
    assert due(engine, reference, 1, DeadlineKind.RESPOND).due_on == date(2026, 12, 2)
    assert len(outbox(engine)) == 3

    await staff_says(app, api, f"/extend {reference} a few days")
    assert last(api).startswith("How many working days?")


# ----------------------------------------------------------------------------------------- /exclude


async def test_exclude_refuses_an_escalation_with_reasons_and_sends_the_letter(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    reference = complaint(engine)
    other = complaint(engine, "b")
    await staff_says(app, api, f"/respond {reference} not upheld\nreasons: no fault found")
    await staff_says(app, api, f"/escalate {reference}")

    await staff_says(app, api, f"/exclude {reference} The same matter was considered under our policy in 2025.")

    text = last(api)
    assert text.startswith(
        f"\u2705 {reference} is not taken on as a complaint.\nThe resident is sent the reasons and their right to take "
        "this to the Housing Ombudsman by e-mail."
    )
    assert "<b>excluded</b>" in text
    case = case_of(engine, reference)
    assert case.status is CaseStatus.EXCLUDED and case.excluded_by_id == staff_id(engine, TESS)
    assert case.exclusion_reason == "The same matter was considered under our policy in 2025."
    letter = outbox(engine)[-1]
    assert letter.idempotency_key == f"exclusion:{reference}"
    assert "www.housing-ombudsman.org.uk/residents/make-a-complaint/" in letter.body_text
    assert "considered under our policy in 2025" in letter.body_text

    # Logged with one tap, then found to be over 12 months old: still refusable before the stage 1 response.
    await staff_says(app, api, f"/exclude {other} Over 12 months old")
    assert case_of(engine, other).status is CaseStatus.EXCLUDED
    assert last(api).endswith("No open deadlines.")  # its stage 1 response is no longer awaited
    assert [i.idempotency_key for i in outbox(engine)].count(f"exclusion:{other}") == 1

    answered = complaint(engine, "c")
    await staff_says(app, api, f"/respond {answered} upheld\nreasons: we were late")
    await staff_says(app, api, f"/exclude {answered} Too late now")
    await staff_says(app, api, f"/exclude {answered}")
    refused, usage = texts(api, STAFF_CHAT)[-2:]
    assert refused == (
        "Sorry, that was not done: Cannot exclude a complaint that is stage1_responded; only from: received, "
        "stage1_open, stage2_requested."
    )
    assert usage.startswith("The reasons are missing: the resident must be told why (Code 2.4).")
    assert case_of(engine, answered).status is CaseStatus.STAGE1_RESPONDED
    assert [i.idempotency_key for i in outbox(engine)].count(f"exclusion:{answered}") == 0


# ------------------------------------------------------------------------------------------- /close


async def test_close_a_responded_complaint_and_a_service_request_but_not_an_open_complaint(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    reference = complaint(engine)
    still_open = complaint(engine, "b")
    request = triage_as(engine, seed_message(engine, RECEIVED, "Tap dripping", key="c"), Label.SERVICE_REQUEST)
    await staff_says(app, api, f"/respond {reference} upheld\nreasons: we were late\nremedy: apology")

    await staff_says(app, api, f"/close {reference}")
    await staff_says(app, api, f"/close {request}")
    await staff_says(app, api, f"/close {still_open}")
    await staff_says(app, api, f"/respond {request} upheld\nreasons: x")

    closed, closed_request, refused, not_complaint = texts(api, STAFF_CHAT)[-4:]
    assert closed.startswith(
        f"\u2705 {reference} is closed.\n\n<b>{reference}</b> \u00b7 complaint \u00b7 <b>closed</b>"
    )
    assert closed_request.startswith(f"\u2705 {request} is closed.")
    assert refused == (
        "Sorry, that was not done: Cannot close a complaint that is stage1_open; only from: excluded, "
        "stage1_responded, stage2_responded."
    )
    assert not_complaint == f"Sorry, that was not done: {request} is a service request, not a complaint."
    assert case_of(engine, reference).status is CaseStatus.CLOSED and case_of(engine, reference).closed_at == NOW
    assert case_of(engine, request).status is CaseStatus.CLOSED
    assert case_of(engine, still_open).status is CaseStatus.STAGE1_OPEN
    assert [e.actor_staff_id for e in audit(engine, "close")] == [staff_id(engine, TESS)] * 2


# --------------------------------------------------------------------------------------- refusals


async def test_residents_and_inactive_staff_cannot_use_case_commands(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    reference = complaint(engine)

    await staff_says(app, api, f"/assign {reference} @samh", user=RESIDENT, private=True)
    await staff_says(app, api, f"/close {reference}", user=RESIDENT, private=True)
    await staff_says(app, api, f"/extend {reference} 5 because", user=GONE)
    await staff_says(app, api, f"/respond {reference} upheld\nreasons: x", user=RESIDENT)

    assert texts(api, RESIDENT) == [STAFF_ONLY] * 2
    assert texts(api, STAFF_CHAT) == [STAFF_ONLY] * 2
    refusals = audit(engine, "refused")
    assert [(e.detail["what"], e.detail["reason"]) for e in refusals] == [
        ("assign", "not staff"),
        ("close", "not staff"),
        ("extend", "inactive staff"),
        ("respond", "not staff"),
    ]
    case = case_of(engine, reference)
    assert case.status is CaseStatus.STAGE1_OPEN and case.stage1_handler_id is None
    assert count(engine, InboundMessage) == 1  # the commands were not stored as resident messages
    assert audit(engine, "extend") == [] and count(engine, StageResponse) == 0


async def test_a_failure_that_is_not_a_rule_gets_a_short_answer_and_reaches_the_error_handler(
    app: TriageApplication,
    api: BotApiServer,
    engine: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reference = complaint(engine)

    def broken(*args: object, **kwargs: object) -> casefile.Outcome:
        raise OperationalError("UPDATE", {}, Exception("database is locked"))

    monkeypatch.setattr(casefile, "close", broken)
    await staff_says(app, api, f"/close {reference}")

    assert last(api) == staff_views.FAILED
    assert "error while handling update" in caplog.text
    assert case_of(engine, reference).status is CaseStatus.STAGE1_OPEN


# ------------------------------------------------------------------------------------- /help, plain text


async def test_help_lists_staff_commands_for_staff_and_stays_the_resident_one_for_residents(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    await staff_says(app, api, "/help")
    await staff_says(app, api, "/help", user=SAM, private=True)
    await staff_says(app, api, "/help", user=RESIDENT, private=True)
    await staff_says(app, api, "/help", user=RESIDENT)

    assert texts(api, STAFF_CHAT) == [staff_views.STAFF_HELP, STAFF_ONLY]
    assert texts(api, SAM) == [staff_views.STAFF_HELP]
    for command in ("/assign REF @handler", "/respond REF", "/escalate REF", "/extend REF DAYS", "/exclude", "/close"):
        assert command in staff_views.STAFF_HELP
    (welcome,) = texts(api, RESIDENT)
    assert welcome.startswith("Hello, and welcome to Riverside Homes") and "/assign" not in welcome
    assert [e.detail["what"] for e in audit(engine, "refused")] == ["help"]


async def test_the_staff_command_menu_is_set_for_the_staff_chat_only(app: TriageApplication, api: BotApiServer) -> None:
    await staff_commands.advertise(app.bot, STAFF_CHAT)
    await staff_commands.advertise(app.bot, None)

    (call,) = api.calls_to("setMyCommands")
    assert call["scope"] == {"type": "chat", "chat_id": STAFF_CHAT}
    assert [c["command"] for c in call["commands"]] == [
        "queue",
        "case",
        "assign",
        "define",
        "respond",
        "escalate",
        "extend",
        "exclude",
        "close",
        "help",
    ]


async def test_staff_text_is_never_stored_as_a_resident_message(
    app: TriageApplication, api: BotApiServer, engine: sa.Engine
) -> None:
    await staff_says(app, api, "Has anyone looked at the lift at Riverside Court?")
    await staff_says(app, api, "is this thing on", user=SAM, private=True)
    await staff_says(
        app, api, "my boiler has stopped working", user=GONE, private=True
    )  # an ex-employee, now a resident

    assert texts(api, STAFF_CHAT) == []  # the staff chat's own talk is ignored
    assert texts(api, SAM) == [staff_views.PRIVATE_HINT]
    assert texts(api, GONE)[0].startswith("Thanks, we have your message. Your reference is MSG-")
    with Session(engine) as session:
        (stored,) = session.exec(select(InboundMessage)).all()
    assert stored.sender_address == f"telegram:{GONE}"


# ---------------------------------------------------------------------------------------------- CLI


def test_staff_add_takes_a_telegram_username(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"TRIAGE_DATA_DIR": str(tmp_path), "TRIAGE_DATABASE_URL": None, "TRIAGE_DEBUG": None}
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(
        cli,
        [
            "staff",
            "add",
            "--name",
            "Priya",
            "--email",
            "p@x.example",
            "--role",
            "handler",
            "--telegram-username",
            "@Priya_S",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    listed = runner.invoke(cli, ["staff", "list"], env=env)
    assert "@Priya_S" in listed.stdout
    engine = make_engine(DatabaseSettings(f"sqlite:///{tmp_path}/triage.db"))
    try:
        with Session(engine) as session:
            assert session.exec(select(StaffMember)).one().telegram_username == "Priya_S"
    finally:
        engine.dispose()
