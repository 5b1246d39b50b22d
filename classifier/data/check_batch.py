"""Validate hand-written corpus batch files (JSONL) against the labelling schema.

Usage: python classifier/data/check_batch.py FILE.jsonl [...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

LABELS = {"complaint", "service_request", "survey_feedback", "other"}
CATEGORIES = {
    "repairs", "damp_mould", "heating_hot_water", "asb", "staff_conduct", "communication",
    "rent_charges", "estate_services", "safety", "other",
}
HAZARDS = {None, "damp_mould", "gas", "electrical", "fire", "water_leak", "no_heating", "structural", "security"}
EXCLUSIONS = {None, "over_12_months", "legal_proceedings", "previously_considered"}
KEYS = {
    "id", "batch", "channel", "subject", "text", "label", "kind", "categories", "outcome",
    "third_party", "vulnerability", "hazard", "exclusion_hint",
}


def problems(record: dict[str, object]) -> list[str]:
    out: list[str] = []
    if set(record) != KEYS:
        out.append(f"keys differ: missing {KEYS - set(record)}, extra {set(record) - KEYS}")
        return out
    if record["channel"] not in {"email", "chat"}:
        out.append("channel must be email or chat")
    if record["channel"] == "chat" and record["subject"] is not None:
        out.append("chat messages have subject null")
    if record["channel"] == "email" and not isinstance(record["subject"], str):
        out.append("email messages need a subject string (may be empty)")
    if not isinstance(record["text"], str) or len(record["text"].strip()) < 2:
        out.append("text must be a non-empty string")
    if record["label"] not in LABELS:
        out.append(f"bad label {record['label']!r}")
    cats = record["categories"]
    if not isinstance(cats, list) or not cats or not set(cats) <= CATEGORIES:
        out.append(f"categories must be a non-empty list from {sorted(CATEGORIES)}")
    outcome = record["outcome"]
    if outcome is not None:
        if record["label"] != "complaint":
            out.append("outcome is only for complaints")
        elif not isinstance(outcome, str) or outcome not in str(record["text"]):
            out.append("outcome must be an exact substring of text")
    for flag in ("third_party", "vulnerability"):
        if not isinstance(record[flag], bool):
            out.append(f"{flag} must be true/false")
    if record["hazard"] not in HAZARDS:
        out.append(f"bad hazard {record['hazard']!r}")
    if record["exclusion_hint"] not in EXCLUSIONS:
        out.append(f"bad exclusion_hint {record['exclusion_hint']!r}")
    if not isinstance(record["kind"], str) or not record["kind"]:
        out.append("kind must be a non-empty string")
    return out


def main(paths: list[str]) -> int:
    bad = 0
    seen: set[str] = set()
    for name in paths:
        for number, line in enumerate(Path(name).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{name}:{number}: invalid JSON: {exc}")
                bad += 1
                continue
            found = problems(record)
            if record.get("id") in seen:
                found.append(f"duplicate id {record.get('id')}")
            seen.add(str(record.get("id")))
            for problem in found:
                print(f"{name}:{number}: {problem}")
            bad += bool(found)
    print(f"{len(seen)} records, {bad} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
