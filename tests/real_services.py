"""A Redis server and a Celery worker of a test's own, for tests that break them on purpose.

The shared Redis (REDIS_URL) is never stopped: a test that kills its broker starts its own
`redis-server` on a free port and points a worker and this process's Celery app at it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class OwnRedis:
    """A throw-away `redis-server` on 127.0.0.1:`port`, no persistence: a restart empties it,
    as a crashed broker without persistence would come back."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--logfile",
                str(self.folder / f"redis-{self.port}.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """Stop it the hard way (SIGKILL), as a crash or an OOM kill would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server: apt-get install redis-server")
    server = OwnRedis(free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@contextmanager
def app_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app at `url` (tasks queued on commit go there) and make it
    send tasks instead of running them, then put everything back."""
    from reviewer.celery import app

    def reset_pools() -> None:
        # What Celery itself does after a fork (`Celery._after_fork`): the connection and
        # producer pools are made again from the configuration on next use.
        app._pool = None
        app.amqp._producer_pool = None

    before = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = url, False
    reset_pools()
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = before
        reset_pools()


def start_worker(
    redis_url: str, log: Path, *, pool: str = "prefork", extra_env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """A real `celery worker` on `redis_url`, on this test's database, ready to take tasks:
    by default as production runs it (prefork pool, one child: deploy/)."""
    from django.conf import settings
    from django.db import connection

    from reviewer.celery import app

    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **(extra_env or {}),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "reviewer",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            # as deploy/reviewer-worker.service runs it: gossip and mingle (worker-to-worker
            # chatter this app does not use) fail on reconnecting to Redis (kombu #582)
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
            f"--logfile={log}",
            f"--hostname=faults-{os.getpid()}@%h",
        ],
        cwd=REPO_ROOT,
        env=env,
        text=True,
    )
    with app.connection_for_write(redis_url) as conn:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                pytest.fail(f"the Celery worker exited: {log.read_text() if log.exists() else ''}")
            if app.control.ping(timeout=0.5, connection=conn):
                return worker
    worker.terminate()
    pytest.fail("the Celery worker did not answer a ping within 40 s")


def stop_worker(worker: subprocess.Popen[str]) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
