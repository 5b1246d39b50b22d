"""Configuration from TRIAGE_* environment variables, turned into the typed settings each package takes."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from classifier.settings import ClassifierSettings
from models.database import DatabaseSettings


class TriageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore")

    data_dir: Path = Path("triage-data")
    database_url: str | None = None

    def database(self) -> DatabaseSettings:
        url = self.database_url or f"sqlite:///{(self.data_dir / 'triage.db').resolve()}"
        return DatabaseSettings(url=url)

    def classifier(self) -> ClassifierSettings:
        return ClassifierSettings(model_dir=self.data_dir / "model")


def load_settings() -> TriageSettings:
    return TriageSettings()
