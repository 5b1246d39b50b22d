"""What every handler needs, kept in `application.bot_data` and fetched with `deps(context)`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from telegram.ext import ContextTypes

from bot.telegram.posting import CardPoster
from bot.telegram.settings import BotSettings
from classifier.classify import Classifier
from scheduler.casework import Casework

KEY = "triage"
Context = ContextTypes.DEFAULT_TYPE


@dataclass(frozen=True)
class Triage:
    settings: BotSettings
    engine: Engine
    work: Casework
    classifier: Classifier | None
    clock: Callable[[], datetime]
    poster: CardPoster


def deps(context: Context) -> Triage:
    found = context.bot_data.get(KEY)
    if not isinstance(found, Triage):
        raise TypeError("the application was not built by bot.telegram.app.build_application")
    return found


def post_cards_soon(context: Context, update: object) -> None:
    """Post the card for what just arrived now, not at the card job's next run. Skipped while the bot is
    stopping (a task started then would never be awaited): the job posts it after the restart."""
    if context.application.running:
        context.application.create_task(deps(context).poster.run(context.bot), update=update)
