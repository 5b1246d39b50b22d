"""Email parsing: table-driven cases, every message of the shared corpus, the CLI, and fuzzing.

Whatever the bytes, `parse_email` returns a ParsedEmail: broken mail gives defects, never an exception.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.cli import app
from classifier.textprep import split_reply
from intake.parsing import ParsedEmail, parse_email, parsed_to_json
from tests.email_corpus import corpus_files, require_corpus
from tests.email_corpus import parsed as parsed_corpus_file

CASES = json.loads((Path(__file__).parent / "fixtures" / "parsing_cases.json").read_text(encoding="utf-8"))
JSON_KEYS = {
    "message_id",
    "from",
    "to",
    "subject",
    "date",
    "new_text",
    "quoted_text",
    "attachments",
    "auto_generated",
    "defects",
}
runner = CliRunner()


def metadata(p: ParsedEmail) -> list[dict[str, Any]]:
    return [{"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in p.attachments]


# Expected values compared for equality, by fixture key.
EQUAL: dict[str, Callable[[ParsedEmail], Any]] = {
    "subject": lambda p: p.subject,
    "from": lambda p: p.from_address,
    "from_name": lambda p: p.from_name,
    "to": lambda p: list(p.to),
    "cc": lambda p: list(p.cc),
    "new_text": lambda p: p.new_text,
    "message_id": lambda p: p.message_id,
    "in_reply_to": lambda p: p.in_reply_to,
    "references": lambda p: list(p.references),
    "date": lambda p: p.date.isoformat() if p.date else None,
    "auto_generated": lambda p: p.auto_generated,
    "attached_messages": lambda p: p.attached_messages,
    "quoted_message_ids": lambda p: list(p.quoted_message_ids),
    "attachments": metadata,
    "attachment_names": lambda p: [a.filename for a in p.attachments],
    "attachment_types": lambda p: [a.content_type for a in p.attachments],
    "attachment_sha256": lambda p: p.attachments[0].sha256,
    "attachment_content_none": lambda p: all(a.content is None for a in p.attachments),
}
# Expected strings that must (or must not) be found in a field.
CONTAINS: dict[str, tuple[Callable[[ParsedEmail], Any], bool]] = {
    "quoted_contains": (lambda p: p.quoted_text, True),
    "defects_include": (lambda p: p.defects, True),
    "new_excludes": (lambda p: p.new_text, False),
    "body_excludes": (lambda p: p.body_text, False),
}


def check_invariants(p: ParsedEmail) -> None:
    """What every caller may rely on, however broken the input."""
    assert isinstance(p, ParsedEmail)
    json.dumps(parsed_to_json(p), ensure_ascii=False).encode("utf-8")  # no lone surrogates anywhere
    assert p.date is None or p.date.utcoffset() == timedelta(0)
    assert (p.new_text, p.quoted_text) == split_reply(p.body_text)
    assert "\x00" not in p.body_text
    for a in p.attachments:
        assert len(a.sha256) == 64 and a.size >= 0
        assert a.content is None or len(a.content) == a.size


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_parsing_table(case: dict[str, Any]) -> None:
    raw = case["raw"].encode(case.get("encoding", "utf-8"))
    limit = {"max_attachment_bytes": case["max_attachment_bytes"]} if "max_attachment_bytes" in case else {}
    parsed = parse_email(raw, **limit)
    check_invariants(parsed)
    for key, expected in case["expect"].items():
        if key in EQUAL:
            assert EQUAL[key](parsed) == expected, key
        else:
            assert key in CONTAINS, f"unknown expectation {key!r} in the fixture"
            field, wanted = CONTAINS[key]
            for item in expected:
                assert (item in field(parsed)) is wanted, f"{key}: {item!r}"


def test_every_corpus_email_parses() -> None:
    require_corpus()
    failures = []
    for relative in corpus_files():
        try:
            check_invariants(parsed_corpus_file(relative))
        except Exception as exc:
            failures.append(f"{relative}: {type(exc).__name__}: {exc}")
    assert len(corpus_files()) > 250
    assert not failures, "\n".join(failures)


def test_parse_email_command_on_every_corpus_file() -> None:
    corpus = require_corpus()
    failures = []
    for relative in corpus_files():
        result = runner.invoke(app, ["parse-email", str(corpus / relative)], env={"TRIAGE_DEBUG": None})
        if result.exit_code != 0:
            failures.append(f"{relative}: exit {result.exit_code}: {result.stderr.strip()}")
            continue
        printed = json.loads(result.stdout)
        if set(printed) != JSON_KEYS or result.stdout.count("\n") != 1:
            failures.append(f"{relative}: keys {sorted(printed)}")
    assert not failures, "\n".join(failures)


def test_parse_email_command_in_a_real_process() -> None:
    corpus = require_corpus()
    path = corpus / "flanker" / "from-encoding.eml"  # raw 8-bit header bytes in a non-UTF-8 charset
    done = subprocess.run(
        [sys.executable, "-m", "bot", "parse-email", str(path)], capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    printed = json.loads(done.stdout)
    assert set(printed) == JSON_KEYS
    assert printed["from"] == "ingo@blank.pages.de"


def test_parse_email_command_on_garbage_and_on_a_missing_file(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.eml"
    garbage.write_bytes(bytes(range(256)) * 7 + b"\r\n\r\n\xff\xfe--")
    result = runner.invoke(app, ["parse-email", str(garbage)])
    assert result.exit_code == 0 and set(json.loads(result.stdout)) == JSON_KEYS

    result = runner.invoke(app, ["parse-email", str(tmp_path / "missing.eml")], env={"TRIAGE_DEBUG": None})
    assert result.exit_code == 1
    assert result.stderr == f"error: no such file: {tmp_path / 'missing.eml'}\n"


def test_parsed_to_json_shape() -> None:
    case = next(c for c in CASES if c["name"] == "attachment with an RFC 2231 file name")
    printed = parsed_to_json(parse_email(case["raw"].encode()))
    assert set(printed) == JSON_KEYS
    assert printed["attachments"] == case["expect"]["attachments"]
    assert printed["to"] == [] and printed["date"] is None and printed["defects"] == []


def test_absurd_nesting_is_a_defect_not_an_exception() -> None:
    raw = b"Content-Type: message/rfc822\n\n" * 2000 + b"Subject: deep\n\nhello\n"
    parsed = parse_email(raw)
    check_invariants(parsed)
    assert parsed.defects


# A few header names and values that steer the parser into its less-trodden paths.
HEADER_NAMES = [
    "From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Return-Path",
    "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted", "Precedence", "List-Id",
]  # fmt: skip
TRICKY_VALUES = [
    'multipart/mixed; boundary="b"',
    "multipart/report; report-type=delivery-status; boundary=b",
    "message/rfc822",
    "text/html; charset=x-bogus",
    "text/plain; charset=utf-7",
    "base64",
    "quoted-printable",
    "attachment; filename*=utf-8''%ff%fe.txt",
    "=?utf-8?B?////?=",
    "=?bogus?Q?=FF=00?=",
    "<>",
    '"a" <@@>, ,;:',
    "Mon, 99 Foo 99999 25:61:61 +9999",
]
BODIES = [
    "--b\nContent-Type: text/plain\n\nhello\n--b\nContent-Type: message/rfc822\n\nSubject: inner\n\nx\n--b--\n",
    "--b\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\nPGI+aGk8L2I+\n--b",
    "<html><table><tr><td>&#xd800;&#0;</td></table>",
]


@st.composite
def email_like(draw: st.DrawFn) -> bytes:
    headers = draw(
        st.lists(st.tuples(st.sampled_from(HEADER_NAMES), st.one_of(st.text(), st.sampled_from(TRICKY_VALUES))))
    )
    body = draw(st.one_of(st.text(), st.sampled_from(BODIES)))
    text = "".join(f"{name}: {value}\n" for name, value in headers) + "\n" + body
    return text.encode(draw(st.sampled_from(["utf-8", "latin-1", "utf-16"])), "replace")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000))
def test_any_bytes_parse(raw: bytes) -> None:
    check_invariants(parse_email(raw))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_parses(text: str) -> None:
    check_invariants(parse_email(text.encode("utf-8")))


@settings(max_examples=300, deadline=None)
@given(email_like())
def test_email_like_input_parses(raw: bytes) -> None:
    check_invariants(parse_email(raw, max_attachment_bytes=64))
