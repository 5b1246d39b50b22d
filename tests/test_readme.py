"""The README is the landlord's manual: every setting the service reads has a row in its configuration table."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import TriageSettings

README = Path(__file__).resolve().parents[1] / "README.md"


def configuration_table() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Configuration") :]
    return section[: section.index("\n## ", 1)]


def test_every_setting_has_a_row_in_the_configuration_table() -> None:
    rows = [line for line in configuration_table().splitlines() if line.startswith("| `TRIAGE_")]
    documented = {name for row in rows for name in re.findall(r"`(TRIAGE_[A-Z0-9_]+)`", row.split("|")[1])}
    expected = {f"TRIAGE_{name.upper()}" for name in TriageSettings.model_fields}
    assert expected - documented == set()
