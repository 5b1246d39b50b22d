"""`triage parse-email`: what intake would read from one raw email, as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from intake.parsing import parse_email, parsed_to_json
from models.errors import DomainError, NotFoundError


def parse_email_command(
    path: Annotated[Path, typer.Argument(metavar="FILE.eml", help="A raw email file (RFC 5322 bytes).")],
) -> None:
    """Parse one raw email and print it as one JSON object; broken mail gives defects, not errors."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"no such file: {path}") from None
    except OSError as exc:
        raise DomainError(f"cannot read {path}: {exc.strerror or exc}") from None
    typer.echo(json.dumps(parsed_to_json(parse_email(raw)), ensure_ascii=False))
