"""The shared corpus of real-world test emails (`../shared/corpora/emails/`), read-only, parsed once per run."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from intake.parsing import ParsedEmail, parse_email
from tests.servers.common import missing_service

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "emails"
NOT_MAIL = frozenset({"README.md", "PROVENANCE.md", "manifest.csv"})


def require_corpus() -> Path:
    """The corpus folder; in CI a missing corpus fails the run, elsewhere the test is skipped."""
    if not CORPUS.is_dir():
        missing_service(f"the email corpus at {CORPUS}")
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
