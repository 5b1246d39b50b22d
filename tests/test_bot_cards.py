"""Pure rendering for the Telegram bot: triage cards, callback data, staff and resident texts, settings."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.settings import TriageSettings
from bot.telegram.cards import (
    CALLBACK_PATTERN,
    PROMPT_CALLBACK_PATTERN,
    CardData,
    DecisionLine,
    PromptKind,
    already_decided_text,
    callback_data,
    card_keyboard,
    flags,
    parse_callback,
    parse_prompt_callback,
    prompt_callback_data,
    render_card,
)
from bot.telegram.views import (
    CaseView,
    DeadlineView,
    ResidentCase,
    ResidentStatus,
    case,
    chunk_lines,
    queue,
    resident_status,
    welcome,
)
from models.enums import CaseStatus, Label
from scheduler.letters import LandlordDetails

LONDON = ZoneInfo("Europe/London")
RECEIVED = datetime(2026, 7, 6, 9, 41, tzinfo=UTC)  # 10:41 in London (BST)
LANDLORD = LandlordDetails(
    name="Riverside Homes",
    complaints_email="complaints@riverside.example",
    complaints_phone="0161 000 0000",
    complaints_policy_url="https://riverside.example/complaints",
)


def card(**changes: object) -> CardData:
    base: dict[str, object] = {
        "message_id": 123,
        "reference": "MSG-000123",
        "channel": "chat",
        "sender_name": "Kelly M",
        "sender_address": "telegram:555000111",
        "known_resident": False,
        "received_at": RECEIVED,
        "acknowledge_by": date(2026, 7, 13),
        "text": "The mould is back",
        "label": Label.COMPLAINT,
        "confidence": 0.87,
    }
    return CardData(**(base | changes))  # type: ignore[arg-type]


def shown(text: str) -> str:
    """What Telegram shows for parse_mode HTML: the tags gone, the entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"vulnerability": True}, ["vulnerability"]),
        (
            {"hazard": "damp_mould", "vulnerability": True, "third_party": True, "exclusion_hint": "over_12_months"},
            [
                "<b>\u26a0\ufe0f HAZARD: damp and mould (Awaab's Law)</b>",
                "vulnerability",
                "third party",
                "exclusion hint: issue over 12 months old (a person decides)",
            ],
        ),
        ({"third_party": True, "hazard": "gas"}, ["<b>\u26a0\ufe0f HAZARD: gas (Awaab's Law)</b>", "third party"]),
    ],
)
def test_flags_put_a_hazard_first_and_in_bold(changes: dict[str, object], expected: list[str]) -> None:
    assert flags(card(**changes)) == expected


def test_the_card_shows_what_staff_need_in_order() -> None:
    text = render_card(card(hazard="damp_mould", vulnerability=True, definition="The resident is unhappy"), LONDON)

    assert text.split("\n") == [
        "<b>New chat message MSG-000123</b>",
        "<b>\u26a0\ufe0f HAZARD: damp and mould (Awaab's Law)</b> \u00b7 vulnerability",
        "From: Kelly M (telegram:555000111) \u00b7 provisional",
        "Received: Mon 6 Jul 2026 10:41 \u00b7 acknowledge by <b>Mon 13 Jul 2026</b>",
        "<blockquote>The mould is back</blockquote>",
        "Predicted: <b>complaint</b> (87%)",
        "Draft definition: The resident is unhappy",
    ]


def test_every_piece_of_resident_text_is_escaped() -> None:
    text = render_card(
        card(
            sender_name="<i>Bob</i> & Co",
            sender_address="bob@x.example",
            subject="<script>alert(1)</script>",
            text="It's <b>still</b> broken & I'm <fed up>",
            definition="The resident is unhappy that: <b>x</b>",
            known_resident=True,
            needs_review=True,
        ),
        LONDON,
    )

    assert "From: &lt;i&gt;Bob&lt;/i&gt; &amp; Co (bob@x.example) \u00b7 known resident" in text
    assert "Subject: &lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<blockquote>It's &lt;b&gt;still&lt;/b&gt; broken &amp; I'm &lt;fed up&gt;</blockquote>" in text
    assert "Draft definition: The resident is unhappy that: &lt;b&gt;x&lt;/b&gt;" in text
    assert "Predicted: <b>complaint</b> (87%) \u00b7 unsure" in text
    assert re.findall(r"</?(\w+)", text) == ["b", "b", "b", "b", "blockquote", "blockquote", "b", "b"]


def test_text_is_trimmed_before_it_is_escaped_and_the_biggest_card_fits_telegram() -> None:
    huge = card(
        sender_name="<" * 500,
        sender_address="&" * 500,
        subject="\U0001f62d" * 2000,
        text="<" * 5000,
        definition="&" * 5000,
        hazard="damp_mould",
        vulnerability=True,
        third_party=True,
        exclusion_hint="legal_proceedings",
        channel="email",
    )
    text = render_card(
        huge, LONDON, decision=DecisionLine(Label.SURVEY_FEEDBACK, "SVY-2026-00001", "T" * 200, RECEIVED)
    )

    quoted = re.search(r"<blockquote>(.*)</blockquote>", text)
    assert quoted is not None and quoted.group(1) == "&lt;" * 599 + "\u2026"  # no entity cut in half
    assert len(shown(text).encode("utf-16-le")) // 2 < 4096


@pytest.mark.parametrize("label", list(Label))
@pytest.mark.parametrize("message_id", [1, 123456, 10**17])
def test_callback_data_is_short_and_round_trips(label: Label, message_id: int) -> None:
    data = callback_data(message_id, label)

    assert len(data.encode()) <= 64
    assert parse_callback(data) == (message_id, label)


@pytest.mark.parametrize(
    "data", [None, "", "t:1:x", "t:abc:c", "t::c", "t:1:c:extra", "label:complaint", "t:-1:c", "T:1:C"]
)
def test_callback_data_we_did_not_make_is_ignored(data: str | None) -> None:
    assert parse_callback(data) is None


def test_the_keyboard_has_the_four_labels_then_the_two_prompts() -> None:
    keyboard = card_keyboard(42).to_dict()["inline_keyboard"]

    assert [[(b["text"], b["callback_data"]) for b in row] for row in keyboard] == [
        [("Complaint", "t:42:c"), ("Service request", "t:42:s")],
        [("Survey feedback", "t:42:v"), ("Other", "t:42:o")],
        [("Edit definition", "d:42"), ("Link to case\u2026", "l:42")],
    ]


@pytest.mark.parametrize("kind", list(PromptKind))
@pytest.mark.parametrize("message_id", [1, 123456, 10**17])
def test_prompt_callback_data_is_short_round_trips_and_is_not_a_label(kind: PromptKind, message_id: int) -> None:
    data = prompt_callback_data(message_id, kind)

    assert len(data.encode()) <= 64
    assert parse_prompt_callback(data) == (message_id, kind)
    assert parse_callback(data) is None and re.fullmatch(CALLBACK_PATTERN, data) is None


@pytest.mark.parametrize("data", [None, "", "d:", "l:x", "x:1", "d:1:c", "t:1:c", "D:1", "l:-1", "d:" + "9" * 19])
def test_prompt_callback_data_we_did_not_make_is_ignored(data: str | None) -> None:
    assert parse_prompt_callback(data) is None
    assert data is None or re.fullmatch(PROMPT_CALLBACK_PATTERN, data) is None


def test_a_rewritten_definition_says_who_wrote_it_escaped() -> None:
    text = render_card(card(definition="Mould <again>", definition_by="Tess <T>"), LONDON)

    assert "Definition (edited by Tess &lt;T&gt;): Mould &lt;again&gt;" in text
    assert "Draft definition" not in text


def test_a_linked_card_says_which_case_it_joined_and_who_linked_it() -> None:
    linked = DecisionLine(Label.COMPLAINT, "CMP-2026-00042", "Sam", RECEIVED, linked=True)

    assert render_card(card(), LONDON, decision=linked).endswith("Linked to CMP-2026-00042 by Sam at 10:41</b>")
    assert already_decided_text(linked, LONDON) == "Already decided by Sam: linked to CMP-2026-00042 at 10:41."


def test_a_decided_card_says_who_decided_what_and_when_in_london_time() -> None:
    decided = DecisionLine(Label.COMPLAINT, "CMP-2026-00042", "Tess <T>", RECEIVED.replace(minute=42))
    text = render_card(card(), LONDON, decision=decided)

    assert text.endswith("\n\n<b>\u2705 Confirmed as complaint CMP-2026-00042 by Tess &lt;T&gt; at 10:42</b>")
    other = DecisionLine(Label.OTHER, None, "Sam", RECEIVED)
    assert render_card(card(), LONDON, decision=other).endswith("Confirmed as other by Sam at 10:41</b>")
    assert already_decided_text(decided, LONDON) == "Already decided by Tess <T>: complaint CMP-2026-00042 at 10:42."
    assert already_decided_text(None, LONDON) == "Already decided."


def test_chunk_lines_keeps_lines_whole_and_every_part_under_the_limit() -> None:
    lines = [f"<b>line {i}</b> " + "x" * (i % 50) for i in range(400)]

    parts = chunk_lines(lines, limit=500)

    assert all(len(part) <= 500 for part in parts) and len(parts) > 1
    assert "\n".join(parts).split("\n") == lines
    assert chunk_lines(["y" * 600], limit=500) == ["y" * 499 + "\u2026"]
    assert chunk_lines([]) == []


def test_welcome_gives_the_ombudsman_form_and_phone_and_no_ombudsman_email() -> None:
    text = welcome(LANDLORD)

    assert "online form: www.housing-ombudsman.org.uk/residents/make-a-complaint/" in text
    assert "telephone: 0300 111 3000" in text
    assert "Our complaints policy: https://riverside.example/complaints" in text
    assert "@housing-ombudsman" not in text
    assert len(text) < 4096


def test_resident_status_lines() -> None:
    status = ResidentStatus(
        known=True,
        cases=(
            ResidentCase("CMP-2026-00002", "complaint", CaseStatus.STAGE2_OPEN, date(2026, 8, 3)),
            ResidentCase("SR-2026-00007", "service_request", CaseStatus.CLOSED, None),
        ),
        waiting=(("MSG-000031", RECEIVED),),
    )

    assert resident_status(status, LONDON) == [
        "Your cases:",
        "\u2022 CMP-2026-00002 (complaint): stage 2 complaint: we are reviewing it"
        " \u2014 next step due by Mon 3 Aug 2026",
        "\u2022 SR-2026-00007 (service request): closed",
        "",
        "Messages we are still reading:",
        "\u2022 MSG-000031, received Mon 6 Jul 2026 10:41",
    ]
    assert resident_status(ResidentStatus(known=False), LONDON)[0].startswith("We do not have any cases")


def test_queue_lines_escape_text_and_count_what_is_not_shown() -> None:
    cards = [card(text="Rent < \u00a3500\n\nplease", hazard="gas"), card(message_id=124, label=None, confidence=None)]

    lines = queue(cards, total=45, zone=LONDON)

    assert lines[0] == "<b>Awaiting review: 45</b> (earliest acknowledgement deadline first)"
    assert lines[1] == (
        "<b>MSG-000123</b> \u00b7 chat \u00b7 ack by Mon 13 Jul 2026 \u00b7 complaint 87% \u00b7 <b>HAZARD: gas</b>"
        " \u00b7 received Mon 6 Jul 2026 10:41\n    Rent &lt; \u00a3500 please"
    )
    assert "not classified" in lines[2]
    assert lines[-1] == "\u2026 and 43 more."
    assert queue([], total=0, zone=LONDON) == ["Nothing is awaiting review."]


def test_case_view_marks_overdue_and_extended_deadlines() -> None:
    view = CaseView(
        reference="CMP-2026-00042",
        kind="complaint",
        status=CaseStatus.STAGE1_OPEN,
        stage=1,
        received_at=RECEIVED,
        resident="Kelly <M>",
        stage1_handler="Tess",
        stage2_handler=None,
        hazard=None,
        definition=None,
        deadlines=(
            DeadlineView(1, "acknowledge", date(2026, 7, 13), date(2026, 7, 13), RECEIVED, RECEIVED),
            DeadlineView(
                1, "respond", date(2026, 8, 10), date(2026, 7, 27), datetime(2026, 8, 10, 22, 59, tzinfo=UTC), None
            ),
        ),
    )

    lines = case(view, now=datetime(2026, 8, 11, 9, tzinfo=UTC), zone=LONDON)

    assert lines == [
        "<b>CMP-2026-00042</b> \u00b7 complaint",
        "Status: <b>stage 1 open</b> \u00b7 stage 1",
        "Received: Mon 6 Jul 2026 10:41",
        "Resident: Kelly &lt;M&gt;",
        "Stage 1 handler: Tess",
        "Deadlines:",
        "\u2022 stage 1 acknowledge: due Mon 13 Jul 2026 \u2014 met Mon 6 Jul 2026 10:41",
        "\u2022 stage 1 respond: due Mon 10 Aug 2026 (was Mon 27 Jul 2026) \u2014 <b>OVERDUE</b>",
    ]


def test_the_bot_is_off_without_a_token_and_its_token_stays_out_of_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIAGE_TELEGRAM_TOKEN", raising=False)
    assert TriageSettings().telegram() is None

    monkeypatch.setenv("TRIAGE_TELEGRAM_TOKEN", "123:secret-token")
    monkeypatch.setenv("TRIAGE_STAFF_CHAT_ID", "-100555")
    monkeypatch.setenv("TRIAGE_TELEGRAM_BASE_URL", "http://127.0.0.1:8081/bot")
    settings = TriageSettings().telegram()

    assert settings is not None
    assert (settings.token, settings.staff_chat_id, settings.base_url) == (
        "123:secret-token",
        -100555,
        "http://127.0.0.1:8081/bot",
    )
    assert "secret" not in repr(settings) and "secret" not in repr(TriageSettings())
