"""`triage survey send REF`: ask a resident how a service request went (Code 1.4, 1.6)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot import wiring
from bot.commands.context import console, database_session, now
from bot.settings import load_settings
from models.errors import NotFoundError
from models.repository.cases import case_by_reference
from scheduler.surveys import DEFAULT_QUESTION, send_survey

app = typer.Typer(help="Satisfaction surveys about service requests.", no_args_is_help=True)


@app.command("send")
def send(
    reference: Annotated[str, typer.Argument(help="The service request, e.g. SR-2026-00042")],
    question: Annotated[
        str | None, typer.Option(help=f"What to ask instead of the usual question: {DEFAULT_QUESTION!r}")
    ] = None,
) -> None:
    """Ask the resident about a service request, by chat if they use Telegram, else by email. Once per request."""
    settings = load_settings()
    work = wiring.casework(settings)
    moment = now()
    with database_session(settings) as session:
        case = case_by_reference(session, reference=reference)
        if case is None:
            raise NotFoundError(f"no case with reference {reference!r}")
        request = send_survey(session, case=case, now=moment, work=work, question=question)
        session.commit()
    by = "chat" if request.channel.value == "chat" else "email"
    if request.asked_at == moment:
        console.print(f"Asked about {case.reference} by {by}; replies within 14 days are read as answers.")
    else:
        console.print(f"Already asked about {case.reference} by {by} on {request.asked_at:%d %b %Y}; not sent again.")
