"""The demo's tables, drawn with rich: what staff would see in the chat, as a terminal table."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.table import Table

from bot.telegram.cards import CardData
from models.cases import Case, Deadline
from models.enums import DeadlineKind

if TYPE_CHECKING:
    from bot.demo.run import DemoOutcome

DEFINITION_SHOWN = 90


def _trim(text: str | None, limit: int) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "\u2026"


def flags(card: CardData) -> str:
    shown = []
    if card.hazard:
        shown.append(f"[bold red]HAZARD {card.hazard.replace('_', ' ')}[/]")
    if card.vulnerability:
        shown.append("vulnerability")
    if card.third_party:
        shown.append("third party")
    if card.exclusion_hint:
        shown.append(f"exclusion? {card.exclusion_hint.replace('_', ' ')}")
    return ", ".join(shown)


def queue_table(cards: list[CardData], zone: ZoneInfo) -> Table:
    table = Table(title=f"Awaiting review: {len(cards)}, earliest acknowledgement deadline first", expand=True)
    table.add_column("Ref", no_wrap=True)
    table.add_column("Via")
    table.add_column("Ack by", no_wrap=True)
    table.add_column("Label (confidence)")
    table.add_column("Flags")
    table.add_column("Draft definition / new text", ratio=3)
    for card in cards:
        label = f"{card.label.value.replace('_', ' ')} ({card.confidence:.0%})" if card.label else "-"
        if card.needs_review:
            label += " [yellow]check[/]"
        table.add_row(
            card.reference,
            card.channel,
            f"{card.acknowledge_by:%a %d %b}",
            label,
            flags(card),
            _trim(card.definition or card.text, DEFINITION_SHOWN),
            end_section=False,
        )
    return table


def cases_table(rows: list[tuple[Case, dict[tuple[int, DeadlineKind], Deadline], str | None]]) -> Table:
    table = Table(title="Cases, with their Code deadlines in working days", expand=True)
    table.add_column("Case", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Handler")
    table.add_column("Acknowledge by", no_wrap=True)
    table.add_column("Respond by", no_wrap=True)
    for case, deadlines, handler in rows:
        ack = deadlines.get((1, DeadlineKind.ACKNOWLEDGE))
        respond = deadlines.get((1, DeadlineKind.RESPOND))
        table.add_row(
            case.reference,
            case.status.value.replace("_", " "),
            handler or "",
            f"{ack.due_on:%a %d %b %Y}" if ack else "",
            f"{respond.due_on:%a %d %b %Y}" if respond else "",
        )
    return table


def summary(outcome: DemoOutcome, reviewed: int) -> str:
    lines = [
        f"Messages: {outcome.emails} by email, {outcome.chats} by chat; {outcome.auto_generated} automatic "
        f"ones set aside; {reviewed} awaited review and {outcome.triaged} were confirmed.",
        f"The classifier agreed with the samples' answer key on {outcome.agreed} of "
        f"{outcome.agreed + len(outcome.disagreements)}.",
    ]
    lines += [f"  differs: {d}" for d in outcome.disagreements]
    kinds = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in outcome.cases.items() if n)
    lines.append(f"Cases: {kinds}.")
    lines.append(f"Letters: {len(outcome.letters)} sent at intake, {len(outcome.reminders)} reminders later.")
    lines.append(
        f"Everything is in {outcome.directory}/ (triage.db, outbox/{', report.html' if outcome.report else ''})."
    )
    return "\n".join(lines)
