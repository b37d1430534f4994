"""Real processes for fault tests: a private redis-server that a test can stop and start again,
Celery workers in a session of their own (so SIGKILL takes the pool with them), and gunicorn.

Each runs on the test's database (PostgreSQL) with the test's signing key and checkpoint folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'root'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def process_env(redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a process that works on this test's database, broker, key and checkpoints."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "LEDGER_SIGNING_KEY": settings.LEDGER_SIGNING_KEY,
        "LEDGER_CHECKPOINT_DIR": str(settings.LEDGER_CHECKPOINT_DIR),
        **extra,
    }


class RedisServer:
    """redis-server on a free loopback port, no persistence; stop() and start() keep the port."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None

    def queued(self, queue: str = "celery") -> int:
        return int(redis.Redis.from_url(self.url).llen(queue))


@contextmanager
def redis_server(folder: Path) -> Iterator[RedisServer]:
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def start_worker(env: dict[str, str], concurrency: int = 1, beat: bool = False) -> subprocess.Popen[bytes]:
    """A Celery worker (prefork, `concurrency` processes) leading a process group of its own."""
    args = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "WARNING"]
    args += ["--pool", "prefork", "--concurrency", str(concurrency)] if concurrency > 1 else ["--pool", "solo"]
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and its children at once, as the OOM killer or a lost node would."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill_group(proc)


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[str]:
    """The web service (gunicorn, one sync worker) on a free port; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "60"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {proc.stderr.read().decode()[-2000:]}") from None  # type: ignore[union-attr]
            time.sleep(0.1)
    try:
        yield url
    finally:
        stop_group(proc)
