"""Text preparation shared by training, inference and email intake.

`split_reply` separates what the resident wrote now from quoted history and signatures, so the
classifier judges the new words (the full text is still kept for the record). `model_text` is the
one normalisation both training and inference use.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A line that starts quoted history: everything from it on is the earlier conversation.
_QUOTE_HEADERS = [
    re.compile(r"^\s*On\b.{0,200}\bwrote:\s*$", re.IGNORECASE),  # Gmail, Apple Mail
    re.compile(r"^\s*On\s.{0,120}$", re.IGNORECASE),  # "On 3 Oct 2026, at 14:02, Repairs" (wrapped; checked with next)
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Forwarded message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above the header block
    re.compile(r"^\s*From:\s.+$", re.IGNORECASE),  # Outlook header block ("From: ... Sent: ...")
    re.compile(r"^\s*Le .{0,120} a écrit\s*:\s*$", re.IGNORECASE),
]
_SIGNATURE_LINES = re.compile(
    r"^\s*(sent from my \w+.*|get outlook for \w+.*|sent from (yahoo )?mail for \w+.*|sent from samsung.*)\s*$",
    re.IGNORECASE,
)
_SIG_DASHES = re.compile(r"^--\s?$")


# First characters of every line that can start quoted history or a signature (others skip the checks).
_HEADER_STARTS = frozenset("OoFf-_LlSsGg>")


def _is_quote_header(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _QUOTE_HEADERS[0].match(line):
        return True
    if _QUOTE_HEADERS[1].match(line):
        # "On <date>, <name> wrote:" wrapped over two lines.
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        return bool(re.search(r"wrote:\s*$", line + " " + nxt, re.IGNORECASE)) and not line.rstrip().endswith(".")
    if _QUOTE_HEADERS[5].match(line):
        window = "\n".join(lines[i : i + 5])
        return bool(re.search(r"^\s*(Sent|Date):", window, re.IGNORECASE | re.MULTILINE))
    return any(p.match(line) for p in _QUOTE_HEADERS[2:5] + _QUOTE_HEADERS[6:])


def split_reply(text: str) -> tuple[str, str]:
    """(new text, quoted text): the new text stops at the first quote header or quoted block.

    Lines starting with ">" are quoted wherever they are; a signature ("-- ", "Sent from my iPhone")
    ends the new text too. Text with nothing but quotes keeps the quotes as its new text, so a
    forwarded complaint is never reduced to nothing.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    new: list[str] = []
    quoted: list[str] = []
    cut = len(lines)
    for i, line in enumerate(lines):
        head = line.lstrip()[:1]
        if head not in _HEADER_STARTS:
            new.append(line)
            continue
        if _is_quote_header(lines, i) or _SIG_DASHES.match(line):
            cut = i
            break
        if _SIGNATURE_LINES.match(line):
            cut = i
            break
        if line.lstrip().startswith(">"):
            quoted.append(line)
            continue
        new.append(line)
    quoted.extend(lines[cut:])
    new_text = "\n".join(new).strip()
    quoted_text = "\n".join(quoted).strip()
    if not new_text and quoted_text:
        unquoted = "\n".join(re.sub(r"^\s*>+ ?", "", q) for q in quoted)
        return unquoted.strip(), quoted_text
    return new_text, quoted_text


# Links and addresses become placeholder words. Numbers are left as they are (rare ones fall below
# the vectoriser's minimum document frequency); money and case references add a marker word, which is
# what the model can learn from, at a fraction of the cost of rewriting every number.
_LINKS = re.compile(r"(?P<urltoken>https?://\S+|www\.\S+)|(?P<emailtoken>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)")
_CASE_REFERENCE = re.compile(r"\b(?:cmp|sr|svy)-\d{4}-\d{3,}\b")
_MONEY = re.compile(r"£\s?\d|\b\d+(?:\.\d\d)?\s?(?:pounds|quid)\b")


def _placeholder(match: re.Match[str]) -> str:
    return f" {match.lastgroup} "


def normalise(text: str) -> str:
    """Lower-case, NFKC, placeholders for links, and marker words for money and case references."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    text = text.lower()
    if "@" in text or "http" in text or "www." in text:
        text = _LINKS.sub(_placeholder, text)
    markers = ""
    if ("£" in text or "pound" in text or "quid" in text) and _MONEY.search(text):
        markers += " moneytoken"
    if "-" in text and _CASE_REFERENCE.search(text):
        markers += " casereftoken"
    return " ".join(text.split()) + markers


@dataclass(frozen=True)
class Prepared:
    """A message split once and normalised once, for the model and for the rules."""

    new_text: str
    quoted_text: str
    model_input: str


def prepare(channel: str, subject: str | None, text: str) -> Prepared:
    new_text, quoted_text = split_reply(text)
    subject_part = normalise(subject) if subject else ""
    return Prepared(new_text, quoted_text, f"chan{channel} subj {subject_part} body {normalise(new_text)}")


def model_text(channel: str, subject: str | None, text: str) -> str:
    """The single string the model sees: channel marker, subject, and the new text only."""
    return prepare(channel, subject, text).model_input
