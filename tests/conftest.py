"""Fixtures shared by the whole suite: a throwaway PostgreSQL server, and sessions on both databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel

import models.tables  # noqa: F401  (registers every table)
from classifier.classify import Classifier
from classifier.model import TriageModel
from models.database import DatabaseSettings, make_engine
from tests.servers.common import missing_service
from tests.servers.dovecot import DovecotServer, imap, start_dovecot
from tests.servers.postgres import PostgresServer, start_postgres
from tests.servers.smtp import SmtpServer
from tests.servers.telegram_api import BotApiServer

BACKENDS = ["sqlite", "postgresql"]
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | str]:
    """The PostgreSQL server for the run: TRIAGE_TEST_POSTGRES_URL if given, else a throwaway cluster."""
    external = os.environ.get("TRIAGE_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    server = start_postgres()
    if server is None:
        missing_service("PostgreSQL (Debian package postgresql)")
    assert server is not None
    try:
        yield server
    finally:
        server.stop()


def _admin_url(server: PostgresServer | str) -> str:
    return server if isinstance(server, str) else server.url()


@pytest.fixture
def postgres_database(postgres_server: PostgresServer | str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    admin_url = sa.make_url(_admin_url(postgres_server))
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """An empty database on each backend in turn (SQLite file, PostgreSQL database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/triage.db"
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """An engine with the schema created from the models, on each backend in turn."""
    if request.param == "sqlite":
        eng = make_engine(
            DatabaseSettings("sqlite://"), poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        eng = make_engine(DatabaseSettings(str(request.getfixturevalue("postgres_database"))))
    SQLModel.metadata.create_all(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    server = start_dovecot()
    if server is None:
        missing_service("Dovecot (Debian package dovecot-imapd), run as root")
    assert server is not None
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def folder(dovecot: DovecotServer) -> Iterator[str]:
    """A fresh mailbox folder per test, so tests never see each other's mail."""
    name = f"t{uuid.uuid4().hex[:10]}"
    client = imap(dovecot)
    client.create_folder(name)
    client.logout()
    yield name
    client = imap(dovecot)
    client.delete_folder(name)
    client.logout()


@pytest.fixture
def api() -> Iterator[BotApiServer]:
    """Our loopback Telegram Bot API server, fresh for each test."""
    with BotApiServer(max_poll_seconds=1) as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """An aiosmtpd server on 127.0.0.1 that records what it receives."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return Classifier(TriageModel.load())
