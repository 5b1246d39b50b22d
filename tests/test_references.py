from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from models.enums import CaseKind
from models.references import CaseReference, find_references, format_reference, parse_reference


@given(st.sampled_from(list(CaseKind)), st.integers(2000, 2099), st.integers(1, 9_999_999))
def test_format_then_parse_round_trips(kind: CaseKind, year: int, number: int) -> None:
    text = format_reference(kind, year, number)
    assert parse_reference(text) == CaseReference(kind, year, number)
    assert parse_reference(text.lower()) == CaseReference(kind, year, number)
    assert find_references(f"Re: RE: Your complaint ({text}) - our response") == [CaseReference(kind, year, number)]


def test_references_are_found_in_subject_lines_and_not_invented() -> None:
    assert format_reference(CaseKind.COMPLAINT, 2026, 42) == "CMP-2026-00042"
    assert [str(r) for r in find_references("Fwd: SR-2026-00007 and cmp-2025-01234")] == [
        "SR-2026-00007",
        "CMP-2025-01234",
    ]
    assert find_references("job no. 4471823, ref WO/22/1183, XCMP-2026-00001") == []
    assert parse_reference("CMP-26-00042") is None
