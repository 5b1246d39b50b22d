"""Message identity for de-duplication: redeliveries match, different messages never do."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from intake.store import content_hash

MESSAGE = b"From: a@resident.example\r\nSubject: Leak\r\nMessage-ID: <1@x>\r\n\r\nWater through the ceiling\r\n"


def test_a_redelivery_with_transport_headers_added_is_the_same_message() -> None:
    redelivered = (
        b"Received: from mx2 by mx3; Tue, 24 Nov 2026 10:00:00 +0000\r\n"
        b"Delivered-To: complaints@landlord.example\r\nX-Spam-Score: 0.1\r\n"
        b"Received: from mx1\r\n  by mx2 (folded continuation)\r\n"
    ) + MESSAGE
    assert content_hash(redelivered) == content_hash(MESSAGE)
    assert content_hash(MESSAGE.replace(b"\r\n", b"\n")) == content_hash(MESSAGE)


def test_any_change_the_sender_made_is_a_different_message() -> None:
    assert content_hash(MESSAGE.replace(b"a@resident", b"b@resident")) != content_hash(MESSAGE)
    assert content_hash(MESSAGE.replace(b"ceiling", b"floor")) != content_hash(MESSAGE)
    assert content_hash(b"// not an email") != content_hash(b"Lorem ipsum")


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_different_header_less_bytes_never_collide(a: bytes, b: bytes) -> None:
    if a.replace(b"\r\n", b"\n") != b.replace(b"\r\n", b"\n") and b"\n\n" not in a + b and b"\r" not in a + b:
        assert content_hash(a) != content_hash(b)
