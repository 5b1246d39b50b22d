"""Draft complaint definitions (Code 5.6): what the resident is unhappy about, and the outcome they seek.

Extractive on purpose: the points and the outcome are the resident's own words (dates and reference
numbers kept), so staff confirm rather than rewrite, and nothing is put in the resident's mouth.
Where no outcome is stated the draft says so and carries a polite clarifying question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from classifier.prefilter import Prefiltered

CLARIFYING_QUESTION = "Could you tell us what you would like us to do to put things right?"
# The draft's fixed wording, written for staff; letters re-word it for the resident (scheduler/letters.py).
UNHAPPY_THAT = "The resident is unhappy that:"
UNHAPPY_VAGUELY = "The resident is unhappy with the service but the message does not say about what."
OUTCOME_SOUGHT = " Outcome sought:"
MAX_POINT_CHARS = 220

_GREETING = re.compile(
    r"^\s*(dear\b.*|hi\b.{0,30}|hello\b.{0,30}|hiya\b.{0,30}|good (morning|afternoon|evening)\b.{0,30}|"
    r"to whom it may concern\b.*|re:.*)$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(thanks|thank you|many thanks|thanks again|cheers|regards|kind regards|best regards|best wishes|"
    r"warm regards|yours (sincerely|faithfully|truly)|sincerely|best|ta|thx|sent from .*)\b[\s,.!]*$",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?:[^.!?\n]|(?<=\d)\.(?=\d))+(?:[.!?]+|$)", re.MULTILINE)

# Where the resident says what they want. Ordered: the strongest, most explicit cues first.
_OUTCOME_CUES = Prefiltered(
    re.compile(
        r"\b(i|we|she|he|they|my (client|constituent|mum|mother|dad|father)|the family|mr \w+|mrs \w+|ms \w+|miss \w+)"
        r"\s*(would|'d|should|do|does|now|really|just|also|still)?\s*"
        r"(like|want|wants|expect|expects|ask|asks|am asking|are asking|is asking|request|requests|seek|seeks|"
        r"need|needs|demand|demands)\b"
        r"|\b(please|pls|plz)\s+(can|could|would)?\s*(you|u|someone|somebody|i)?\b"
        r"|\b(can|could|would|will)\s+(you|u|someone|somebody)\s+(please|pls|plz)?\s*"
        r"(fix|sort|send|arrange|come|get|make|pay|refund|reimburse|replace|repair|remove|move|look|explain|review|"
        r"escalate|investigate|treat|call|ring|tell|confirm|put)"
        r"|\b(compensation|refund|reimburse|apology|apologise|escalate|stage 2|stage two|put (this|it|things) right)\b"
        r"|\bwant (it|this|them|someone|somebody|the)\b",
        re.IGNORECASE,
    )
)
# Words and phrases that carry dissatisfaction; a sentence's weight is how many it holds.
_DISSATISFIED_WORDS = frozenset(
    """still again yet never nobody noone nothing not no didn't didnt don't dont hasn't hasnt haven't havent
    wasn't wasnt weren't werent won't wont can't cant isn't isnt missed failed fails ignored ignoring waiting
    waited weeks months times rude unacceptable disgusting appalling ridiculous useless promised promises
    cancelled complain complained complaining complaint unhappy disappointed disappointing frustrated
    frustrating frustration angry furious worse worst poor shoddy mess wrong overcharged overcharging charged
    chased chasing excuses lied lies fobbed""".split()
)
_DISSATISFIED_PHRASES = ("let down", "fed up", "sick of", "no one", "not happy", "no show", "no-show", "had enough")
_WORD = re.compile(r"[a-z']+")
_DIGIT = re.compile(r"\d")


def _dissatisfaction(sentence: str) -> int:
    lowered = sentence.lower().replace("\u2019", "'")
    words = _WORD.findall(lowered)
    return sum(w in _DISSATISFIED_WORDS for w in words) + sum(p in lowered for p in _DISSATISFIED_PHRASES)


_SPECIFICS = re.compile(
    r"\b(\d{1,2}(st|nd|rd|th)?\s+(of\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*|"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\s+\d{4}|\d{1,2}/\d{1,2}(/\d{2,4})?|"
    r"(ref|reference|job|order|case)\b[^a-z]{0,6}[\w/-]*\d+|[A-Z]{2,4}-\d{4}-\d+|£\s?\d+)",
    re.IGNORECASE,
)


# Reference numbers the resident quotes (job, order, case, claim, tenancy): kept in the draft as written.
_REFERENCE = re.compile(
    r"\b(?:[A-Z]{2,4}-\d{4}-\d{3,}"
    r"|(?:job|ref|reference|order|case|claim|account|tenancy|repair|works? order)\.?\s*"
    r"(?:no\.?|number|ref\.?)?\s*[:#]?\s*[A-Z]{0,4}[/-]?\d[\w/-]{2,})",
    re.IGNORECASE,
)


def find_references(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for match in _REFERENCE.finditer(text):
        seen.setdefault(match.group(0).strip(), None)
    return tuple(seen)


@dataclass(frozen=True)
class Definition:
    points: tuple[str, ...]
    outcome: str | None
    references: tuple[str, ...] = ()

    @property
    def needs_clarification(self) -> bool:
        return self.outcome is None

    @property
    def summary(self) -> str:
        if self.points:
            listed = "; ".join(f"({i}) {p}" for i, p in enumerate(self.points, 1))
            text = f"{UNHAPPY_THAT} {listed}."
        else:
            text = UNHAPPY_VAGUELY
        missing = [r for r in self.references if not any(r in p for p in self.points)]
        if missing:
            text += f" References given: {', '.join(missing)}."
        if self.outcome:
            return f"{text}{OUTCOME_SOUGHT} {self.outcome}"
        return f"{text}{OUTCOME_SOUGHT} not stated. Ask: {CLARIFYING_QUESTION}"

    def to_json(self) -> dict[str, object]:
        return {"summary": self.summary, "outcome": self.outcome, "needs_clarification": self.needs_clarification}


def _body_lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not _GREETING.match(line)]
    # Drop the sign-off and everything after it (name, address, phone).
    for i, line in enumerate(lines):
        if _SIGN_OFF.match(line) and i > 0:
            return lines[:i]
    return lines


def _sentences(lines: list[str]) -> list[str]:
    found: list[str] = []
    for line in lines:
        found.extend(s.strip() for s in _SENTENCE.findall(line) if len(s.strip()) > 2)
    return found


def _clip(sentence: str) -> str:
    sentence = sentence.strip().rstrip(".")
    if len(sentence) <= MAX_POINT_CHARS:
        return sentence
    cut = sentence[:MAX_POINT_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


_CLAUSE_BREAKS = (", ", "; ", " - ", " \u2013 ", " and ", " so ", " but ")


def _from_clause(sentence: str, cue_at: int) -> str:
    """The sentence from the start of the clause holding the cue: "…never came, I want X" -> "I want X"."""
    before = sentence[:cue_at]
    cut = max((before.rfind(b) + len(b) for b in _CLAUSE_BREAKS if b in before), default=0)
    return sentence[cut:]


def find_outcome(text: str) -> str | None:
    """The outcome in the resident's words: an exact quote from `text` (from the cue to the sentence's end)."""
    if _OUTCOME_CUES.search(text) is None:
        return None
    for sentence in _sentences(_body_lines(text)):
        match = _OUTCOME_CUES.search(sentence)
        if match is None:
            continue
        quote = _from_clause(sentence, match.start()).strip().rstrip(" .!?,")
        if len(quote.split()) < 3:
            continue
        return quote if quote in text else None
    return None


def draft_definition(subject: str | None, new_text: str, max_points: int = 3) -> Definition:
    outcome = find_outcome(new_text)
    candidates = [s for s in _sentences(_body_lines(new_text)) if s.strip().rstrip(" .!?,") != outcome]
    scored = []
    for position, sentence in enumerate(candidates):
        hits = _dissatisfaction(sentence)
        if hits == 0 or len(sentence.split()) < 3:
            continue
        specific = _DIGIT.search(sentence) is not None and _SPECIFICS.search(sentence) is not None
        weight = hits + 1.5 * specific - 0.02 * position
        scored.append((weight, position, sentence))
    best = sorted(scored, reverse=True)[:max_points]
    points = tuple(_clip(s) for _, _, s in sorted(best, key=lambda item: item[1]))
    if not points:
        fallback = [s for s in candidates if len(s.split()) >= 3][:1] or ([subject] if subject else [])
        points = tuple(_clip(s) for s in fallback)
    references = find_references(new_text) if _DIGIT.search(new_text) else ()
    return Definition(points=points, outcome=outcome, references=references)
