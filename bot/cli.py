"""The `triage` command. Errors are one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
from typing import Any

import typer
from typer._click.core import Context  # typer 0.29 vendors click; this is its Context base
from typer.core import TyperGroup
from typer.exceptions import TyperException

from bot.commands import cases, classifier, db, deadlines, demo, email, ingest, outbox, staff
from bot.commands import report as report_command
from bot.commands import resident as resident_command
from bot.commands import run as run_command
from bot.commands import status as status_command
from bot.commands import survey as survey_command
from bot.commands.context import err_console
from models.errors import DomainError


class OneLineErrors(TyperGroup):
    """Turns every error below the root command into one readable line and exit status 1 or 2."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except DomainError as exc:
            err_console.print(f"error: {exc.message}", markup=False)
            raise typer.Exit(1) from None
        except Exception as exc:
            if os.environ.get("TRIAGE_DEBUG"):
                raise
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            err_console.print(
                f"error: unexpected {type(exc).__name__}: {first_line} (set TRIAGE_DEBUG=1 for the traceback)",
                markup=False,
            )
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=OneLineErrors,
    help="Complaint and service-request triage for social landlords (Housing Ombudsman Code 2024).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(staff.app, name="staff")
app.add_typer(cases.app, name="cases")
app.add_typer(survey_command.app, name="survey")
app.add_typer(resident_command.app, name="resident")
app.command()(classifier.classify)
app.command()(classifier.train)
app.command()(classifier.evaluate)
app.command(name="parse-email")(email.parse_email_command)
app.command()(deadlines.deadlines)
app.command()(ingest.ingest)
app.command()(demo.demo)
app.command()(outbox.sweep)
app.command()(outbox.deliver)
app.command(name="run")(run_command.run)
app.command(name="status")(status_command.status)
app.command(name="report")(report_command.report)
app.command(name="self-assess")(report_command.self_assess_command)


def main() -> None:
    app(prog_name="triage")


if __name__ == "__main__":
    main()
