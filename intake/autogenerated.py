"""Is an email written by a machine? Bounces, abuse reports, receipts, auto-replies, out-of-office, list mail.

Rules are tiny named objects with one `check` method and no I/O, tried in the order of `RULES` (a data
table, as in GNU Mailman's rule chains); the first that fires gives the reason, such as
"bounce: multipart/report delivery-status". The word before the colon is the kind.

A missed complaint costs more than a stored auto-reply, so headers decide wherever they can. Subject
and body rules look only for wording a resident would not type (or need two pieces of evidence), only
at the start of the subject (never "Re:" or "Fwd:"), and only at the new text, never quoted history.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr
from typing import Protocol

from classifier.textprep import split_reply

# Body rules read this much of the new text: notices say what they are near the top.
TEXT_LIMIT = 20_000


@dataclass(frozen=True)
class Evidence:
    """What the rules look at, worked out once per message."""

    message: Message
    subject: str
    text: str
    # Content types of the message and its parts, not looking inside attached messages.
    structure: tuple[str, ...]
    report_type: str

    def header(self, name: str) -> str | None:
        return first_header(self.message, name)


def first_header(message: Message, name: str) -> str | None:
    """The first raw value of a header, unfolded, raw 8-bit bytes read as UTF-8; None when absent."""
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return " ".join(_readable(str(value)).split())
    return None


class Rule(Protocol):
    @property
    def name(self) -> str:
        """A few words a person can read in a list of rules."""
        ...

    def check(self, mail: Evidence) -> str | None:
        """The reason this message is machine-written, or None."""
        ...


@dataclass(frozen=True)
class Report:
    """A multipart/report of one report-type, or its report part outside attached messages (RFC 6522)."""

    name: str
    kind: str
    report_type: str
    part_type: str

    def check(self, mail: Evidence) -> str | None:
        if mail.report_type == self.report_type:
            return f"{self.kind}: multipart/report {self.report_type}"
        if self.part_type in mail.structure:
            return f"{self.kind}: {self.part_type} part"
        return None


@dataclass(frozen=True)
class HeaderPresent:
    """A header only machines set; values in `unless` mean a person sent it after all."""

    name: str
    kind: str
    header: str
    unless: frozenset[str] = frozenset()
    show_value: bool = False

    def check(self, mail: Evidence) -> str | None:
        value = mail.header(self.header)
        if not value or value.lower().split()[0].strip(";") in self.unless:  # "no (a person wrote this)"
            return None
        return f"{self.kind}: {self.header} {_shown(value)}" if self.show_value else f"{self.kind}: {self.header}"


@dataclass(frozen=True)
class HeaderMatches:
    """A header whose value matches a pattern; the reason shows the value."""

    name: str
    kind: str
    header: str
    pattern: re.Pattern[str]

    def check(self, mail: Evidence) -> str | None:
        value = mail.header(self.header)
        if value is None or not self.pattern.search(value):
            return None
        return f"{self.kind}: {self.header} {_shown(value)}"


@dataclass(frozen=True)
class SenderIs:
    """From a mail system's own mailbox (MAILER-DAEMON, postmaster) or display name (Mail Delivery System)."""

    name: str
    kind: str
    local_part: re.Pattern[str]
    display_name: re.Pattern[str]

    def check(self, mail: Evidence) -> str | None:
        display, address = parseaddr(mail.header("From") or "")
        local = address.rpartition("@")[0] or address
        match = self.local_part.fullmatch(local.strip().strip('"')) or self.display_name.fullmatch(display.strip())
        return f"{self.kind}: From {match.group(0)}" if match else None


@dataclass(frozen=True)
class NullReturnPath:
    """`Return-Path: <>`: the null sender that delivery notices and RFC 3834 responders use."""

    name: str
    kind: str

    def check(self, mail: Evidence) -> str | None:
        value = mail.header("Return-Path")
        return f"{self.kind}: empty Return-Path" if value is not None and value.replace(" ", "") == "<>" else None


@dataclass(frozen=True)
class ListUnsubscribe:
    """List-Unsubscribe counts only with another sign of bulk sending, as a resident's mail never has both."""

    name: str
    kind: str
    companions: tuple[str, ...]

    def check(self, mail: Evidence) -> str | None:
        if mail.header("List-Unsubscribe") is None:
            return None
        found = next((h for h in self.companions if mail.header(h) is not None), None)
        return f"{self.kind}: List-Unsubscribe with {found}" if found else None


@dataclass(frozen=True)
class SubjectMatches:
    """The subject starts the way a machine writes it."""

    name: str
    kind: str
    pattern: re.Pattern[str]

    def check(self, mail: Evidence) -> str | None:
        return f"{self.kind}: subject" if self.pattern.search(mail.subject) else None


@dataclass(frozen=True)
class TextMatches:
    """The new text says what a mail system says."""

    name: str
    kind: str
    pattern: re.Pattern[str]

    def check(self, mail: Evidence) -> str | None:
        return f"{self.kind}: body" if self.pattern.search(mail.text) else None


@dataclass(frozen=True)
class Both:
    """Two weak signs together, neither enough alone."""

    name: str
    kind: str
    first: Rule
    second: Rule
    reason: str

    def check(self, mail: Evidence) -> str | None:
        if self.first.check(mail) and self.second.check(mail):
            return f"{self.kind}: {self.reason}"
        return None


def _shown(value: str) -> str:
    """A header value fit for a one-line reason: lower case, and short whatever the sender wrote."""
    return value.lower() if len(value) <= 60 else value.lower()[:57] + "..."


def _readable(value: str) -> str:
    """Raw 8-bit header bytes (kept by the parser as surrogate escapes) as UTF-8, with replacement."""
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.VERBOSE | re.MULTILINE)


# Subjects that only auto-responders write ("Automatic reply: ...", "Out of Office: ...").
_OOO_SUBJECT = _words(r"""
    ^\s*(?:
        automatic\ reply | auto[\s-]*repl(?:y|ied) | auto[\s-]*respon(?:se|der|s)
        | out\ of\ (?:the\ )?office(?:\ auto[\s-]*reply)?
        | (?:vacation|holiday|absence)\ (?:auto[\s-]*)?(?:reply|response|notice)
        | abwesenheitsnotiz | r[ée]ponse\ automatique | automatisch\ antwoord | risposta\ automatica
    )\s*(?::|$)
""")
# Subjects a person might also write ("I am away next week"): they need an auto-reply body as well.
_OOO_SUBJECT_WEAK = _words(r"""
    ^\s*(?:i\s*(?:am|'m)\s+(?:currently\s+)?(?:away|on\ (?:holiday|vacation|leave)|out\ of\ (?:the\ )?office)
        | away\ (?:until|from)\b | on\ (?:holiday|vacation|leave)\ until\b)
""")
# Auto-reply wording about the inbox itself: a resident who is away writes about the repair, not their email.
_OOO_TEXT = _words(r"""
    this\ is\ an\ auto(?:mated|matic|matically\ generated)\ (?:reply|response|message)
    | \bauto[\s-]*repl(?:y|ied)\b
    | (?:limited|no|intermittent|occasional)\ access\ to\ (?:my\ )?e-?mails?
    | (?:respond|reply)\ to\ (?:your|all)\ (?:e-?mails?|messages?)\ (?:when|as\ soon\ as|on|upon)\ (?:i|my)
""")
# Subjects that only delivery systems write.
_BOUNCE_SUBJECT = _words(r"""
    ^\s*(?:
        undeliverable\s*: | undelivered\ mail\ returned\ to\ sender | delivery\ status\ notification
        | mail\ delivery\ failed\s*: | returned\ mail\s*: | failure\ notice\s*$ | delivery\ notification:
        | delivery\ report\ \((?:failure|delay)\) | permanent\ delivery\ failure\s*$
        | non[\s-]?delivery\ (?:report|notification) | delayed\ mail\ \(still\ being\ retried\)
        | warning:\ message\ .{1,200}\ delayed | postmaster\ notify\s*:
    )
""")
# Subjects a person might also write about post or parcels: they need a mail system's detail in the body too.
_BOUNCE_SUBJECT_WEAK = _words(r"""
    ^\s*(?:undeliverable | undelivered | delivery\ (?:failure|failed|problem|error) | failure\ delivery
        | returned\ mail | mail\ (?:delivery\ (?:problem|failure|error)|could\ not\ be\ delivered)
        | message\ delayed | there\ was\ an\ error\ sending\ your\ mail)
""")
# Wording only mail systems use, enough alone.
_BOUNCE_TEXT = _words(r"""
    this\ is\ the\ mail\ system\ at\ host | this\ is\ the\ qmail-send\ program
    | created\ automatically\ by\ mail\ delivery\ software
    | delivery\ to\ the\ following\ recipients?\ (?:failed|has\ been\ delayed|was\ delayed)
    | delivery\ has\ failed\ to\ these\ recipients
    | your\ message\ did\ not\ reach\ some\ or\ all\ of\ the\ intended\ recipients
    | the\ following\ message\ to\ <[^>\n]+>\ was\ undeliverable
    | the\ following\ addresses\ had\ (?:permanent\ )?(?:fatal\ )?errors
    | -{3,}\s*transcript\ of\ session\ follows
    | this\ is\ an\ automatically\ generated\ delivery\ status\ notification
    | "notificationType"\s*:\s*"(?:Bounce|Complaint)"
    | ^[ \t]*(?:final-recipient|diagnostic-code)[ \t]*:[ \t]*\S
""")
# Delivery wording a person might use about a parcel: needs a mail system's technical detail as well.
_DELIVERY_WORDS = _words(r"""
    \b(?:could\s+not|couldn't|cannot|can't|was\s+not|wasn't|has\s+not\s+been|failed\s+to)\s+(?:be\s+)?deliver(?:ed)?\b
    | \bundeliverable\b | \bdelivery\s+(?:has\s+)?failed\b | \bpermanent\s+(?:error|failure)\b
    | \b(?:user|recipient|mailbox)\s+(?:is\s+)?(?:unknown|unavailable|full|not\s+found|does\s+not\s+exist)\b
    | \bno\s+such\s+(?:user|mailbox|recipient)\b | \binvalid\s+(?:user|recipient|mailbox|e-?mail)\s+address\b
    | \bmailbox\s+(?:is\s+)?full\b | \buser\s+unknown\b
""")
_SMTP_DETAIL = _words(r"""
    (?:\b[245]\d\d[ \t-]+|\#|\bstatus:?[ \t]*|\bsmtp;[ \t]*)[45]\.[0-7]\.\d{1,3}\b
    | \b[45][0-5]\d[ \t-]+(?:requested\s+action|mailbox|user|recipient|relay|rejected)\b | \b[45][0-5]\d[ \t-]+<
    | \b(?:rcpt\s+to|mail\s+from)\s*:\s*<?[^\s@<>]+@
    | \bsmtp\s+(?:error|server|reply|response)\b | \bremote\s+(?:host|server|mta)\s+said\b
    | \bdeliver(?:ed)?\s+to\s*:?\s*<[^\s@<>]+@[^\s<>]+>
""")
_PRECEDENCE_LIST = re.compile(r"^\s*(?:bulk|junk|list)\s*$", re.IGNORECASE)
_PRECEDENCE_AUTO = re.compile(r"^\s*auto[_-]?reply\s*$", re.IGNORECASE)
_SUPPRESS = re.compile(r"\b(?:all|oof|autoreply)\b", re.IGNORECASE)
_NO = frozenset({"no", "false", "0"})

RULES: tuple[Rule, ...] = (
    Report("feedback report", "abuse-report", "feedback-report", "message/feedback-report"),
    Report("delivery status report", "bounce", "delivery-status", "message/delivery-status"),
    Report("read receipt", "receipt", "disposition-notification", "message/disposition-notification"),
    HeaderPresent("failed recipients", "bounce", "X-Failed-Recipients"),
    SenderIs(
        "mail system sender",
        "bounce",
        re.compile(r"mailer[-_]?daemon|post[-_]?master", re.IGNORECASE),
        re.compile(r"mail\s+delivery\s+(?:subsystem|system)|mailer[-_\s]?daemon", re.IGNORECASE),
    ),
    HeaderPresent("auto-submitted", "auto-reply", "Auto-Submitted", unless=_NO, show_value=True),
    HeaderPresent("x-autoreply", "auto-reply", "X-Autoreply", unless=_NO),
    HeaderPresent("x-autorespond", "auto-reply", "X-Autorespond", unless=_NO),
    HeaderPresent("x-autogenerated", "auto-reply", "X-Autogenerated", unless=_NO),
    HeaderMatches("outlook suppression", "auto-reply", "X-Auto-Response-Suppress", _SUPPRESS),
    SubjectMatches("out-of-office subject", "out-of-office", _OOO_SUBJECT),
    SubjectMatches("bounce subject", "bounce", _BOUNCE_SUBJECT),
    TextMatches("bounce text", "bounce", _BOUNCE_TEXT),
    Both(
        "delivery failure with smtp detail",
        "bounce",
        TextMatches("delivery wording", "bounce", _DELIVERY_WORDS),
        TextMatches("smtp detail", "bounce", _SMTP_DETAIL),
        "body with SMTP detail",
    ),
    Both(
        "bounce-like subject with smtp detail",
        "bounce",
        SubjectMatches("bounce-like subject", "bounce", _BOUNCE_SUBJECT_WEAK),
        TextMatches("smtp detail", "bounce", _SMTP_DETAIL),
        "subject and SMTP detail",
    ),
    Both(
        "away subject with auto-reply wording",
        "out-of-office",
        SubjectMatches("away subject", "out-of-office", _OOO_SUBJECT_WEAK),
        TextMatches("auto-reply wording", "out-of-office", _OOO_TEXT),
        "subject and body",
    ),
    NullReturnPath("null sender", "auto-generated"),
    HeaderPresent("x-loop", "auto-generated", "X-Loop"),
    HeaderMatches("precedence auto_reply", "auto-reply", "Precedence", _PRECEDENCE_AUTO),
    HeaderMatches("precedence bulk", "list", "Precedence", _PRECEDENCE_LIST),
    HeaderPresent("list-id", "list", "List-Id"),
    ListUnsubscribe(
        "list-unsubscribe",
        "list",
        ("List-Unsubscribe-Post", "Feedback-ID", "List-Post", "List-Help", "List-Subscribe", "List-Archive"),
    ),
)


def auto_generated_reason(
    message: Message,
    *,
    subject: str | None = None,
    text: str | None = None,
    rules: Sequence[Rule] = RULES,
) -> str | None:
    """Why this message looks machine-written ("bounce: From mailer-daemon"), or None for a person's mail.

    `subject` (decoded) and `text` (the new text, quoted history removed) are worked out here when
    not given; `parse_email` passes its own, better-decoded ones. A deployment whose own forwarder
    adds, say, X-Loop can pass `rules` without that rule.
    """
    evidence = Evidence(
        message=message,
        subject=_subject(message) if subject is None else " ".join(subject.split()),
        text=(_new_text(message) if text is None else text)[:TEXT_LIMIT],
        structure=tuple(_structure(message)),
        report_type=_report_type(message),
    )
    for rule in rules:
        reason = rule.check(evidence)
        if reason:
            return reason
    return None


def _structure(part: Message, depth: int = 0) -> Iterator[str]:
    """Content types of a part and its children, stopping at attached messages and at silly depths."""
    content_type = part.get_content_type()
    yield content_type
    if depth > 20 or content_type in ("message/rfc822", "message/global") or not part.is_multipart():
        return
    payload = part.get_payload()
    if isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                yield from _structure(child, depth + 1)


def _report_type(message: Message) -> str:
    if message.get_content_type() != "multipart/report":
        return ""
    value = message.get_param("report-type", "")
    return value.strip().lower() if isinstance(value, str) else ""


def _subject(message: Message) -> str:
    raw = first_header(message, "Subject") or ""
    try:
        return " ".join(str(make_header(decode_header(raw))).split())
    except (LookupError, UnicodeError, ValueError):
        return raw


def _new_text(message: Message) -> str:
    """The new words of the first plain-text part outside attached messages (for callers with no text)."""
    for part in _text_parts(message):
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            charset = part.get_content_charset() or "utf-8"
            try:
                text = payload.decode(charset, "replace")
            except LookupError:
                text = payload.decode("utf-8", "replace")
            return split_reply(text)[0]
    return ""


def _text_parts(part: Message, depth: int = 0) -> Iterator[Message]:
    content_type = part.get_content_type()
    if content_type == "text/plain" and part.get_content_disposition() != "attachment":
        yield part
    if depth > 20 or content_type.startswith("message/") or not part.is_multipart():
        return
    payload = part.get_payload()
    if isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                yield from _text_parts(child, depth + 1)
