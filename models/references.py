"""Human case references such as CMP-2026-00042: easy to read aloud, find in a subject line, and sort."""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.enums import CaseKind

PREFIXES: dict[CaseKind, str] = {
    CaseKind.COMPLAINT: "CMP",
    CaseKind.SERVICE_REQUEST: "SR",
    CaseKind.SURVEY_FEEDBACK: "SVY",
}
_KINDS = {prefix: kind for kind, prefix in PREFIXES.items()}
_PATTERN = re.compile(r"\b(CMP|SR|SVY)-(\d{4})-(\d{5,})\b", re.IGNORECASE)


@dataclass(frozen=True)
class CaseReference:
    kind: CaseKind
    year: int
    number: int

    def __str__(self) -> str:
        return f"{PREFIXES[self.kind]}-{self.year}-{self.number:05d}"


def format_reference(kind: CaseKind, year: int, number: int) -> str:
    return str(CaseReference(kind, year, number))


def parse_reference(text: str) -> CaseReference | None:
    """The reference if `text` is exactly one (any case, surrounding spaces allowed), else None."""
    match = _PATTERN.fullmatch(text.strip())
    return _from_match(match) if match else None


def find_references(text: str) -> list[CaseReference]:
    """Every reference mentioned in free text, e.g. a reply's subject line, in order of appearance."""
    return [_from_match(m) for m in _PATTERN.finditer(text)]


def _from_match(match: re.Match[str]) -> CaseReference:
    return CaseReference(_KINDS[match.group(1).upper()], int(match.group(2)), int(match.group(3)))
