"""A throwaway PostgreSQL cluster on 127.0.0.1 for the tests, run as a non-root user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.servers.common import free_port, wait_for_port

SUPERUSER = "triage"


def find_pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    run_as: str | None

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.datadir.mkdir(parents=True)
        if self.run_as:
            user = pwd.getpwnam(self.run_as)
            for path in (self.root, self.datadir):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(
            "initdb", "-D", str(self.datadir), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"
        )
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} -F "
            "-c max_connections=200 -c shared_buffers=64MB -c synchronous_commit=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-o", options, "-l", str(self.root / "log"), "-w", "-t", "60", "start"
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer | None:
    """Start a cluster, or None when PostgreSQL is not installed here."""
    bindir = find_pg_bin()
    if bindir is None:
        return None
    run_as = None
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root; Debian's package creates the postgres user.
        run_as = "postgres"
        try:
            pwd.getpwnam(run_as)
        except KeyError:
            return None
    root = Path(tempfile.mkdtemp(prefix="triage-pg-"))
    os.chmod(root, 0o755)
    server = PostgresServer(bindir=bindir, root=root, port=free_port(), run_as=run_as)
    server.start()
    return server
