"""`triage classify`, `triage train` and `triage evaluate`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from bot.commands.context import console, database_session, err_console, now
from bot.settings import load_settings
from classifier.classify import Classifier, MessageIn, Result
from classifier.corpus import LABELS, load_written, split
from classifier.learning import decision_examples, retrain
from classifier.model import TriageModel
from classifier.settings import ClassifierSettings, load_current
from classifier.training import evaluate as evaluate_model
from models.enums import Channel

BATCH = 256
LONDON = ZoneInfo("Europe/London")


def today_in_london() -> date:
    return now().astimezone(LONDON).date()


def parse_line(raw: bytes) -> MessageIn | str:
    """A message, or the reason this line cannot be classified."""
    try:
        record = json.loads(raw.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        return f"invalid JSON: {exc.msg} at column {exc.colno}"
    if not isinstance(record, dict):
        return "each line must be a JSON object"
    text = record.get("text")
    if not isinstance(text, str):
        return "missing text" if text is None else "text must be a string"
    channel = record.get("channel") or "email"
    if channel not in ("email", "chat"):
        return f"channel must be email or chat, not {channel!r}"
    subject = record.get("subject")
    if subject is not None and not isinstance(subject, str):
        return "subject must be a string or null"
    return MessageIn(id=_id_of(record), channel=channel, subject=subject, text=text)


def _id_of(record: dict[str, Any]) -> str:
    value = record.get("id")
    return "" if value is None else str(value)


def _error_id(raw: bytes) -> str | None:
    try:
        record = json.loads(raw.decode("utf-8", errors="replace"))
    except json.JSONDecodeError:
        return None
    return _id_of(record) if isinstance(record, dict) and record.get("id") is not None else None


def _batches(stream: BinaryIO) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for raw in stream:
        if not raw.strip():
            continue
        batch.append(raw)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def classify_stream(classifier: Classifier, stream: BinaryIO, received: date) -> Iterator[dict[str, Any]]:
    """One output object per non-blank input line, in order; bad lines give an error object."""
    for batch in _batches(stream):
        parsed = [parse_line(raw) for raw in batch]
        good = [p for p in parsed if isinstance(p, MessageIn)]
        results = iter(classifier.classify_many(good, received=received))
        for raw, item in zip(batch, parsed, strict=True):
            if isinstance(item, MessageIn):
                yield next(results).to_json()
            else:
                yield {"id": _error_id(raw), "error": item}


def classify(
    text: Annotated[str | None, typer.Option(help="Classify this one message and print it readably.")] = None,
    channel: Annotated[Channel, typer.Option(help="Channel of --text.")] = Channel.EMAIL,
    subject: Annotated[str | None, typer.Option(help="Subject of --text.")] = None,
    received: Annotated[
        datetime | None, typer.Option(help="Date received, for the over-12-months hint (default: today).")
    ] = None,
) -> None:
    """Classify messages: JSON Lines on stdin to JSON Lines on stdout, or one message with --text."""
    model = load_current(load_settings().classifier())
    classifier = Classifier(model)
    day = received.date() if received else today_in_london()
    if text is not None:
        show_result(classifier.classify(MessageIn("text", channel.value, subject, text), received=day))
        return
    try:
        stream = sys.stdin.buffer
        out = sys.stdout
        for result in classify_stream(classifier, stream, day):
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    except OSError as exc:
        err_console.print(f"error: cannot read standard input: {exc}", markup=False)
        raise typer.Exit(1) from None


def show_result(result: Result) -> None:
    review = " (needs review)" if result.needs_review else ""
    console.print(f"[bold]{result.label}[/bold] {result.confidence:.2f}{review}  model {result.model_version}")
    console.print("scores: " + ", ".join(f"{k} {v:.2f}" for k, v in result.scores.items()))
    if result.hazard:
        console.print(f"[bold red]HAZARD: {result.hazard}[/bold red] (Awaab's Law: a person must see this today)")
    flags = [name for name, on in (("vulnerability", result.vulnerability), ("third party", result.third_party)) if on]
    if result.exclusion_hint:
        flags.append(f"exclusion hint: {result.exclusion_hint}")
    console.print("flags: " + (", ".join(flags) or "none"))
    console.print("categories: " + ", ".join(result.categories))
    if result.definition:
        console.print(f"draft definition: {result.definition.summary}", markup=False)


def train(
    with_decisions: Annotated[bool, typer.Option(help="Add staff triage decisions from the database.")] = False,
    out: Annotated[Path | None, typer.Option(help="Where to save (default: the data directory's model/).")] = None,
    force: Annotated[bool, typer.Option(help="Save even if worse than the current model.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed and data give the same model.")] = 0,
) -> None:
    """Train on the written corpus (and decisions); promote only if at least as good on the test split."""
    settings = load_settings()
    decisions = []
    if with_decisions:
        with database_session(settings) as session:
            decisions = decision_examples(session)
    target = out or settings.data_dir / "model"
    current = _current_or_none(ClassifierSettings(model_dir=target))
    with console.status("Training (cross-validated thresholds, then the final fit)…"):
        outcome = retrain(decisions=decisions, out_dir=target, current=current, now=now(), seed=seed, force=force)
    console.print(
        f"candidate {outcome.candidate_version}: macro-F1 {outcome.candidate['macro_f1']:.3f}, complaint recall "
        f"{outcome.candidate['complaint_recall']:.3f} ({len(decisions)} staff decisions included)"
    )
    if outcome.current:
        console.print(
            f"current {outcome.current_version}: macro-F1 {outcome.current['macro_f1']:.3f}, complaint recall "
            f"{outcome.current['complaint_recall']:.3f}"
        )
    verdict = f"promoted to {target}" if outcome.promoted else "not promoted"
    console.print(f"{verdict}: {outcome.reason}")


def _current_or_none(settings: ClassifierSettings) -> TriageModel | None:
    try:
        return load_current(settings)
    except FileNotFoundError:
        return None


def evaluate(
    model_dir: Annotated[Path | None, typer.Option(help="Model to evaluate (default: the current one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Per-label precision, recall and F1 and the confusion matrix on the held-out test split."""
    settings = ClassifierSettings(model_dir=model_dir) if model_dir else load_settings().classifier()
    model = load_current(settings)
    _, test_split = split(load_written())
    report = evaluate_model(Classifier(model), test_split)
    if as_json:
        console.print_json(json.dumps(report))
        return
    console.print(f"Model {model.version} on the held-out test split ({report['n']} messages)")
    for part in ("overall", "email", "chat"):
        section = report[part]
        table = Table(
            "label",
            "precision",
            "recall",
            "F1",
            "support",
            title=f"{part}: macro-F1 {section['macro_f1']:.3f}, complaint recall {section['complaint_recall']:.3f}",
        )
        for label, m in section["per_label"].items():
            table.add_row(label, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"]))
        console.print(table)
        confusion = Table("true \\ predicted", *LABELS, title=f"{part}: confusion matrix")
        for label, row in zip(LABELS, section["confusion"]["matrix"], strict=True):
            confusion.add_row(label, *(str(v) for v in row))
        console.print(confusion)
    hazard = report["hazard"]
    console.print(
        f"hazard: recall {hazard['recall_any']:.3f} (exact type {hazard['recall_exact_type']:.3f}) over "
        f"{hazard['n']} hazard messages; false alarms on {hazard['false_alarm_rate']:.1%} of the others"
    )
    for name in ("vulnerability", "third_party"):
        m = report[name]
        console.print(f"{name}: precision {m['precision']:.3f}, recall {m['recall']:.3f}, F1 {m['f1']:.3f}")
