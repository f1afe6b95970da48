"""Debian's PostgreSQL for the tests: initdb + pg_ctl into a temporary directory on a free loopback
port, run as the `postgres` user when the tests run as root. One server per test session
(the `pg_server` fixture in conftest.py); tests that need their own database create and drop it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """A throw-away cluster with a `hazard` database; `stop`/`start` again on the same port and data."""

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_major_version)
        if not found:
            pytest.fail("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): "
                        "apt-get install postgresql (.ci/run does this in CI)")
        self.bin = Path(found[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="hazard-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root but there is no `postgres` user to run PostgreSQL as")
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.url = self.url_for("hazard")

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user.pw_name, "--", *command]
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout}\n{done.stderr}"

    def init(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        self.start()
        self.create_database("hazard")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    @contextmanager
    def down(self):
        self.stop()
        try:
            yield
        finally:
            self.start()

    def create_database(self, name: str) -> str:
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        # --force: connections an app under test left in its pool do not keep the database alive.
        self.run("dropdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "--force", "--if-exists", name)

    @contextmanager
    def fresh_database(self, prefix: str = "t"):
        """A new, empty database for one test; its URL, dropped afterwards."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        url = self.create_database(name)
        try:
            yield url
        finally:
            if self.running():
                self.drop_database(name)

    def destroy(self) -> None:
        if self.running():
            try:
                self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "60", "stop")
            finally:
                shutil.rmtree(self.root, ignore_errors=True)
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def _major_version(path: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin/pg_ctl: "9.6" < "15" numerically, not as text.
    version = Path(path).parent.parent.name
    return tuple(int(p) for p in version.split(".") if p.isdigit())
