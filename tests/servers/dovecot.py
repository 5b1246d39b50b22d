"""A throwaway Dovecot IMAP server on 127.0.0.1 with one passwd-file user, for the intake tests.

Runs as root (as in CI) with logins as `dovenull`, internal work as `dovecot` and mail stored under a
dedicated uid (Debian's `mail`). Plain IMAP on one port for loopback tests, and implicit TLS with a
self-signed certificate on another, so the TLS path is exercised too.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from imapclient import IMAPClient

from tests.servers.common import free_port, wait_for_port

USER = "resident-mail"
PASSWORD = "loopback-only-password"


@dataclass
class DovecotServer:
    root: Path
    port: int
    tls_port: int
    process: subprocess.Popen[bytes] | None = None
    log: BinaryIO | None = None

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def certificate(self) -> Path:
        return self.root / "cert.pem"

    def start(self) -> None:
        self.log = (self.root / "stderr.log").open("ab")
        self.process = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=self.log
        )
        wait_for_port(self.port)
        wait_for_port(self.tls_port)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _listening(self.port):
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_dovecot() -> DovecotServer | None:
    """Start a server, or None when Dovecot (or running it as root) is not available here."""
    if shutil.which("dovecot") is None or shutil.which("openssl") is None or os.geteuid() != 0:
        return None
    for name in ("dovenull", "dovecot", "mail"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            return None
    mail = pwd.getpwnam("mail")
    root = Path(tempfile.mkdtemp(prefix="triage-dovecot-"))
    os.chmod(root, 0o755)
    home = root / "home"
    home.mkdir()
    os.chown(home, mail.pw_uid, mail.pw_gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    server = DovecotServer(root=root, port=free_port(), tls_port=free_port())
    server.config.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = {mail.pw_uid}
last_valid_uid = {mail.pw_uid}
first_valid_gid = {mail.pw_gid}
disable_plaintext_auth = no
auth_mechanisms = plain login
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
mail_location = maildir:~/Maildir
mail_fsync = never
imap_idle_notify_interval = 2 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={home}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {server.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {server.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
""")
    os.chmod(server.config, 0o644)
    server.start()
    return server


def imap(server: DovecotServer) -> IMAPClient:
    """A logged-in client on the plain loopback port, for tests to put mail in and look at flags."""
    client = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=30)
    client.login(USER, PASSWORD)
    return client


def append(server: DovecotServer, folder: str, messages: list[bytes]) -> None:
    client = imap(server)
    try:
        for raw in messages:
            client.append(folder, raw)
    finally:
        client.logout()


def flags_of(server: DovecotServer, folder: str) -> list[set[bytes]]:
    client = imap(server)
    try:
        client.select_folder(folder)
        data = client.fetch(client.search(["ALL"]), ["FLAGS"])
    finally:
        client.logout()
    return [set(item[b"FLAGS"]) for item in data.values()]
