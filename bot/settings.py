"""Configuration from TRIAGE_* environment variables, turned into the typed settings each package takes.

An optional TOML file (`TRIAGE_CONFIG=/etc/triage/triage.toml`, or `triage run --config PATH`) holds the
same settings by field name (`imap_host = "..."`); environment variables override it.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.telegram.settings import BotSettings
from classifier.settings import ClassifierSettings
from intake.settings import IntakeSettings, MailboxSettings, Security
from models.database import DatabaseSettings
from models.errors import DomainError
from reports.settings import ReportSettings
from scheduler.calendar import ReceiptRule, WorkingCalendar
from scheduler.letters import LandlordDetails
from scheduler.mail_settings import SmtpSettings


class TriageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: the environment overrides the TOML file (none unless `load_settings` gives one).
        toml = TomlConfigSettingsSource(settings_cls)
        return init_settings, env_settings, dotenv_settings, toml, file_secret_settings

    data_dir: Path = Path("triage-data")
    database_url: str | None = None
    nation: str = "ENG"
    closure_days: list[date] = Field(default_factory=list)
    receipt_cutoff: time = time(17, 0)
    timezone: str = "Europe/London"

    # Email intake (IMAP). Intake is off until a host is set.
    imap_host: str | None = None
    imap_port: int | None = None
    imap_security: Security = Security.TLS
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_oauth2_token: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_move_to: str | None = None
    imap_ca_file: Path | None = None
    imap_poll_seconds: float = 60.0
    max_message_bytes: int = 25 * 1024 * 1024

    # Outgoing mail (SMTP) and who it is from.
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_security: Security = Security.TLS
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from_address: str = "complaints@landlord.example"
    smtp_from_name: str = "Complaints team"
    smtp_ca_file: Path | None = None
    message_id_domain: str = "triage.landlord.example"

    # The landlord as residents see it in letters.
    landlord_name: str = "Your landlord"
    landlord_complaints_email: str = "complaints@landlord.example"
    landlord_complaints_phone: str = "0300 000 0000"
    landlord_complaints_policy_url: str | None = None
    landlord_address: str | None = None

    # The Telegram staff chat that gets alerts and triage cards (its numeric chat id).
    staff_chat_id: int | None = None
    # The Telegram bot. It is off until a token is set; the base URLs are for a local Bot API server.
    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_base_file_url: str | None = None

    # The complaints report (`triage report`): homes for CH01 (per 1,000 homes) by stock type, and the
    # tenancy reference prefixes that mark low-cost home ownership residents (all others count as rental).
    homes_low_cost_rental: int | None = Field(default=None, ge=0)
    homes_low_cost_home_ownership: int | None = Field(default=None, ge=0)
    lcho_tenancy_prefixes: list[str] = Field(default_factory=list)

    # The service (`triage run`): log level and format (JSON lines unless on a terminal), and how long
    # a stop may take to finish the work in hand before it is abandoned.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    shutdown_grace_seconds: float = Field(default=20.0, gt=0, le=600)

    def database(self) -> DatabaseSettings:
        url = self.database_url or f"sqlite:///{(self.data_dir / 'triage.db').resolve()}"
        return DatabaseSettings(url=url)

    def classifier(self) -> ClassifierSettings:
        return ClassifierSettings(model_dir=self.data_dir / "model")

    def calendar(self) -> WorkingCalendar:
        """Built on each call (about 50 ms): callers build it once and pass it down."""
        receipt = ReceiptRule(cutoff=self.receipt_cutoff, timezone=self.timezone)
        return WorkingCalendar(self.nation, self.closure_days, receipt)

    def mailbox(self) -> MailboxSettings | None:
        """The IMAP mailbox, or None when intake by email is not configured."""
        if not self.imap_host:
            return None
        return MailboxSettings(
            host=self.imap_host,
            port=self.imap_port,
            security=self.imap_security,
            username=self.imap_username or "",
            password=self.imap_password.get_secret_value() if self.imap_password else None,
            oauth2_token=self.imap_oauth2_token.get_secret_value() if self.imap_oauth2_token else None,
            folder=self.imap_folder,
            move_to=self.imap_move_to,
            ca_file=self.imap_ca_file,
        )

    def intake(self) -> IntakeSettings:
        return IntakeSettings(poll_seconds=self.imap_poll_seconds, max_message_bytes=self.max_message_bytes)

    def smtp(self) -> SmtpSettings | None:
        """Outgoing mail, or None when no SMTP server is configured (the outbox then waits)."""
        if not self.smtp_host:
            return None
        return SmtpSettings(
            host=self.smtp_host,
            port=self.smtp_port,
            security=self.smtp_security,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
            from_address=self.smtp_from_address,
            from_name=self.smtp_from_name,
            message_id_domain=self.message_id_domain,
            ca_file=self.smtp_ca_file,
        )

    def telegram(self) -> BotSettings | None:
        """The Telegram bot's settings, or None when no token is configured (the bot is off)."""
        if self.telegram_token is None or not self.telegram_token.get_secret_value().strip():
            return None
        return BotSettings(
            token=self.telegram_token.get_secret_value(),
            staff_chat_id=self.staff_chat_id,
            base_url=self.telegram_base_url,
            base_file_url=self.telegram_base_file_url,
        )

    def landlord(self) -> LandlordDetails:
        return LandlordDetails(
            name=self.landlord_name,
            complaints_email=self.landlord_complaints_email,
            complaints_phone=self.landlord_complaints_phone,
            complaints_policy_url=self.landlord_complaints_policy_url,
            address=self.landlord_address,
        )

    def report(self) -> ReportSettings:
        return ReportSettings(
            homes_low_cost_rental=self.homes_low_cost_rental,
            homes_low_cost_home_ownership=self.homes_low_cost_home_ownership,
            lcho_tenancy_prefixes=tuple(p for p in self.lcho_tenancy_prefixes if p),
        )

    def secret_values(self) -> dict[str, str]:
        """Every configured secret by the variable that holds it: for redacting logs and spotting placeholders."""
        found = {
            f"TRIAGE_{name.upper()}": value.get_secret_value()
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), SecretStr) and value.get_secret_value()
        }
        if self.database_url:
            try:
                password = make_url(self.database_url).password
            except ArgumentError:
                password = None
            if password:
                found["TRIAGE_DATABASE_URL"] = str(password)
        return found


CONFIG_ENV = "TRIAGE_CONFIG"


class SettingsError(DomainError):
    """The configuration cannot be used; `problems` says why, one line each (never a secret's value)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def config_path(config_file: Path | None = None) -> Path | None:
    """The TOML file to read: the one given, else TRIAGE_CONFIG, else none."""
    if config_file is not None:
        return config_file
    value = os.environ.get(CONFIG_ENV, "").strip()
    return Path(value) if value else None


def load_settings(config_file: Path | None = None) -> TriageSettings:
    """Settings from TRIAGE_* variables over the optional TOML file; SettingsError lists every problem."""
    path = config_path(config_file)
    try:
        return TriageSettings() if path is None else _from_file(path)
    except ValidationError as exc:
        raise SettingsError([_describe(error, path) for error in exc.errors()]) from None


def _from_file(path: Path) -> TriageSettings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError([f"config file {path} not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError([f"config file {path} cannot be read: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([f"config file {path} is not valid TOML: {exc}"]) from None
    unknown = sorted(set(data) - set(TriageSettings.model_fields))
    if unknown:
        raise SettingsError([f"config file {path}: unknown setting {key!r}" for key in unknown])

    class FileSettings(TriageSettings):
        model_config = SettingsConfigDict(toml_file=path)

    return FileSettings()


def _describe(error: Any, path: Path | None) -> str:
    """One line for one validation error: which variable (or file key) and what is wrong, never its value."""
    field = str(error["loc"][0]) if error.get("loc") else ""
    where = f"TRIAGE_{field.upper()}" + (f" (or {field} in {path})" if path is not None else "")
    return f"{where}: {error['msg']}"
