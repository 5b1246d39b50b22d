"""The shared corpus of real-world test emails (`../shared/corpora/emails/`), read-only, parsed once per run."""

from __future__ import annotations

import csv
import functools
import os
from pathlib import Path

import pytest

from intake.parsing import ParsedEmail, parse_email

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "emails"
NOT_MAIL = frozenset({"README.md", "PROVENANCE.md", "manifest.csv"})


def require_corpus() -> Path:
    """The corpus folder; in CI a missing corpus fails the run, elsewhere the test is skipped."""
    if not CORPUS.is_dir():
        message = f"the email corpus is missing: {CORPUS}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return CORPUS


@functools.cache
def corpus_files() -> tuple[str, ...]:
    """Every message, as a path relative to the corpus, sorted."""
    return tuple(
        sorted(
            path.relative_to(CORPUS).as_posix()
            for path in CORPUS.rglob("*")
            if path.is_file() and path.relative_to(CORPUS).as_posix() not in NOT_MAIL
        )
    )


@functools.cache
def manifest_kinds() -> dict[str, str]:
    with (CORPUS / "manifest.csv").open(encoding="utf-8", newline="") as stream:
        return {row["file"]: row["kind"] for row in csv.DictReader(stream)}


@functools.cache
def parsed(relative: str) -> ParsedEmail:
    return parse_email((CORPUS / relative).read_bytes())
