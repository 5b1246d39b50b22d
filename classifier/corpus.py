"""The hand-written training corpus: loading, the fixed train/test split, and its fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")
WRITTEN_DIR = DATA_DIR / "written"
LABELS = ("complaint", "service_request", "survey_feedback", "other")


@dataclass(frozen=True)
class Example:
    id: str
    batch: str
    channel: str
    subject: str | None
    text: str
    label: str
    kind: str
    categories: tuple[str, ...]
    outcome: str | None
    third_party: bool
    vulnerability: bool
    hazard: str | None
    exclusion_hint: str | None
    # False for staff decisions: they carry a label but no flag annotations, so only the label head learns
    # from them.
    annotated: bool = True

    @classmethod
    def from_json(cls, record: dict[str, object]) -> Example:
        return cls(
            id=str(record["id"]),
            batch=str(record["batch"]),
            channel=str(record["channel"]),
            subject=record["subject"] if isinstance(record["subject"], str) else None,
            text=str(record["text"]),
            label=str(record["label"]),
            kind=str(record["kind"]),
            categories=tuple(record["categories"]),  # type: ignore[arg-type]
            outcome=record["outcome"] if isinstance(record["outcome"], str) else None,
            third_party=bool(record["third_party"]),
            vulnerability=bool(record["vulnerability"]),
            hazard=record["hazard"] if isinstance(record["hazard"], str) else None,
            exclusion_hint=record["exclusion_hint"] if isinstance(record["exclusion_hint"], str) else None,
        )


def load_written(directory: Path = WRITTEN_DIR) -> list[Example]:
    examples: list[Example] = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                examples.append(Example.from_json(json.loads(line)))
    return examples


def is_test_batch(batch: str) -> bool:
    """The fixed split: every writer's fourth batch is held out. Splitting by batch keeps a writer's
    near-duplicates of one situation on one side."""
    return batch.endswith("b4")


def split(examples: Iterable[Example]) -> tuple[list[Example], list[Example]]:
    train: list[Example] = []
    test: list[Example] = []
    for example in examples:
        (test if is_test_batch(example.batch) else train).append(example)
    return train, test


def fingerprint(examples: Iterable[Example]) -> str:
    """A hash of the training data, so a model's metadata says exactly what it was trained on."""
    digest = hashlib.sha256()
    for example in sorted(examples, key=lambda e: e.id):
        digest.update(json.dumps([example.id, example.channel, example.subject, example.text, example.label]).encode())
    return digest.hexdigest()
