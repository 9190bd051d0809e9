"""The drills' private services: a PostgreSQL cluster, a Redis server, an SMTP server and the site served by
gunicorn, each on a free port of 127.0.0.1, started and stopped by the test itself — never the machine's shared
PostgreSQL and Redis on 5432/6379, which other tests use.

Waits poll (``wait_until``) with generous deadlines: a busy two-core machine must not fail a drill.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# Environment of the host process that must not leak into the served site (it would point it at the shared
# services or change its settings).
_SCRUBBED = ("TEST_", "DATABASE_URL", "REDIS_URL", "MAIL_", "MARKETPLACE_", "SEARCH_INDEX_DIR", "MEDIA_",
             "API_RATE_LIMIT", "LOGIN_LIMIT", "SEARCH_SUGGEST", "STRIPE_", "FLASK_", "SECRET_KEY")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float = 60.0, interval: float = 0.1, what: str = "condition"):
    """Poll ``check()`` until it returns a truthy value (returned); AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception as exc:  # the thing polled may not answer yet
            last_error, value = exc, None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}" +
                         (f" (last error: {last_error!r})" if last_error else ""))


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


# --- PostgreSQL ------------------------------------------------------------------------------------

def postgres_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """A throw-away cluster: trust auth, fsync off, socket and data in a temporary folder.

    initdb refuses to run as root: as root the cluster belongs to the ``postgres`` user (``runuser``)."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="drill-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8",
                  "--locale=C.UTF-8")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'\n"
                       "fsync = off\nfull_page_writes = off\nsynchronous_commit = off\nmax_connections = 50\n")

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, timeout=timeout)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "120", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def sqlalchemy_url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


# --- Redis -----------------------------------------------------------------------------------------

class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.client().ping(), timeout=30, what="redis-server to answer")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None
        wait_until(lambda: not port_open(self.port), timeout=30, what="redis-server to close its port")

    def client(self):
        return redis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5)


# --- SMTP ------------------------------------------------------------------------------------------

class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def handle(self):
        self.wfile.write(b"220 drill ESMTP\r\n")
        envelope = {"from": None, "to": []}
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-drill\r\n250 8BITMIME\r\n" if verb == "EHLO" else b"250 drill\r\n")
            elif verb == "MAIL":
                envelope = {"from": line.decode().strip()[10:], "to": []}
                self.wfile.write(b"250 OK\r\n")
            elif verb == "RCPT":
                envelope["to"].append(line.decode().strip()[8:].strip("<>"))
                self.wfile.write(b"250 OK\r\n")
            elif verb == "DATA":
                self.wfile.write(b"354 go ahead\r\n")
                body = []
                while True:
                    data = self.rfile.readline()
                    if not data or data == b".\r\n":
                        break
                    body.append(data[1:] if data.startswith(b"..") else data)
                self.server.received.append({"to": envelope["to"], "data": b"".join(body)})
                self.wfile.write(b"250 queued\r\n")
            elif verb in ("RSET", "NOOP"):
                self.wfile.write(b"250 OK\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 not implemented\r\n")


class _SMTPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class LocalSMTP:
    """An SMTP server in a thread of the test; ``received`` keeps every message across restarts."""

    def __init__(self):
        self.port = free_port()
        self.received: list[dict] = []
        self.server: _SMTPServer | None = None

    def start(self) -> None:
        self.server = _SMTPServer(("127.0.0.1", self.port), _SMTPHandler)
        self.server.received = self.received
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


# --- the site --------------------------------------------------------------------------------------

class ServedSite:
    """The site as ``make serve`` runs it (gunicorn, one worker process with threads, no control socket),
    pointed at the private services through the environment, like production."""

    def __init__(self, data_dir: Path, env: dict[str, str], workers: int = 1, threads: int = 8):
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "gunicorn.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED) and k != "CI"}
        self.env.update(MARKETPLACE_ENV="development", MARKETPLACE_DATA_DIR=str(data_dir), FLASK_APP="wsgi:app",
                        PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}", PYTHONUNBUFFERED="1")
        self.env.update(env)
        self.workers, self.threads = workers, threads
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self._logfile = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "--workers", str(self.workers), "--threads", str(self.threads),
             "--bind", f"127.0.0.1:{self.port}", "--no-control-socket", "--access-logfile", "-", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self._logfile, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(lambda: self.get("/healthz", timeout=5).status_code == 200, timeout=90,
                       what="the served site's /healthz")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- gunicorn log ---\n{self.log_tail()}") from None

    def stop(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
            self.proc = None
            self._logfile.close()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except FileNotFoundError:
            return []
        return [int(p) for p in text.split()]

    def get(self, path: str, timeout: float = 30, **kw) -> requests.Response:
        return requests.get(self.base + path, timeout=timeout, allow_redirects=False, **kw)

    def flask(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """A ``flask`` command run with the site's environment (as an operator would)."""
        return subprocess.run([str(VENV_BIN / "flask"), *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)


class Browser:
    """A visitor: one cookie jar, CSRF token read from the pages, redirects not followed."""

    def __init__(self, site: ServedSite):
        self.site = site
        self.http = requests.Session()
        self._csrf: str | None = None

    def get(self, path: str, timeout: float = 30) -> requests.Response:
        return self.http.get(self.site.base + path, timeout=timeout, allow_redirects=False)

    def post(self, path: str, data: dict | None = None, files=None, timeout: float = 30) -> requests.Response:
        data = {"csrf_token": self.csrf(), **(data or {})}
        return self.http.post(self.site.base + path, data=data, files=files, timeout=timeout, allow_redirects=False)

    def csrf(self) -> str:
        if self._csrf is None:
            self._csrf = form_value(self.get("/account/login").text, "csrf_token")
        return self._csrf

    def login(self, email: str, password: str) -> None:
        response = self.post("/account/login", {"email": email, "password": password})
        assert response.status_code == 303, (response.status_code, response.text[:500])


def form_value(html: str, name: str) -> str:
    match = (re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
             or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html))
    assert match, f"no {name} field in the page"
    return match.group(1)
