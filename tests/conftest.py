"""Fixtures shared by the whole suite, and the rule that CI skips nothing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

# Playwright's sync API runs an event loop in the test thread; Django's ORM in
# the test itself is still synchronous code, so allow it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def shared_data_dir() -> Path:
    """The real exports and labelled sets in ../shared/data (SHARED_DATA_DIR overrides)."""
    return Path(os.environ.get("SHARED_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(
            f"real export files not found at {path}: put the shared/ folder beside this "
            "checkout or set SHARED_DATA_DIR"
        )
    return path


@pytest.fixture(autouse=True)
def _fast_and_isolated(request: pytest.FixtureRequest, settings, tmp_path: Path) -> None:
    """Fast password hashing, uploads in a temporary folder, Celery tasks run eagerly.

    Tests marked `celery_worker` send tasks to a real worker instead.
    """
    from django.core.cache import cache

    from reviewer.celery import app
    from reviewer.services import background

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # job progress lives in the cache, and job ids repeat between tests
    request.addfinalizer(cache.clear)
    settings.MEDIA_ROOT = tmp_path / "media"
    eager = request.node.get_closest_marker("celery_worker") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    request.addfinalizer(lambda: setattr(app.conf, "task_always_eager", previous))
    # no background retrain of this test may run on into the next one
    request.addfinalizer(lambda: background.wait_idle(timeout=120))


# --- the fast part: tests without the database ------------------------------------

#: Fixtures through which a test reaches the test database (pytest-django's, and every
#: fixture built on them: `item.fixturenames` is the closure).
_DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the database `database`, so `-m "not database and not
    slow"` runs the rest (parsers, statistics, engines) in well under a minute."""
    for item in items:
        uses = _DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if uses or item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.database)


# --- CI must not skip -------------------------------------------------------------

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        _skipped.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus: int) -> None:  # type: ignore[no-untyped-def]
    if IN_CI and _skipped:
        terminalreporter.section("skipped tests fail the run in CI")
        for line in _skipped:
            terminalreporter.write_line(line)


# --- real services ----------------------------------------------------------------


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


@pytest.fixture
def celery_worker(transactional_db, settings, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A real Celery worker process on Redis, using this test's PostgreSQL database."""
    from django.db import connection

    redis_url = os.environ.get("REDIS_URL", "")
    if connection.vendor != "postgresql" or not redis_url or not _reachable(redis_url, 6379):
        pytest.skip(
            "needs PostgreSQL and Redis: install postgresql and redis-server, then set "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres and "
            "REDIS_URL=redis://127.0.0.1:6379/15"
        )
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    from reviewer.celery import app

    app.control.purge()
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "reviewer",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            f"--logfile={log}",
            "--hostname=test-worker@%h",
        ],
        cwd=REPO_ROOT,
        env=env,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if app.control.ping(timeout=0.5):
                break
            if worker.poll() is not None:
                pytest.fail(f"the Celery worker exited: {log.read_text() if log.exists() else ''}")
        else:
            pytest.fail("the Celery worker did not answer a ping within 30 s")
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=20)


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest, django_db_setup: None) -> Iterator[object]:
    """pytest-django's live server, but stopped before the test database is dropped.

    Depending on `django_db_setup` orders the teardown; without it the server's
    thread could still hold a connection when PostgreSQL is asked to drop the database.
    """
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer(request.config.getvalue("liveserver") or "localhost")
    yield server
    server.stop()


@pytest.fixture
def browser_page(live_server) -> Iterator[object]:
    """A page in a real headless Chromium, with the app served by `live_server`."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("needs Chromium for browser tests: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            # While Playwright's event loop runs in this thread, Django keeps the test's
            # database connections per asyncio context: close the ones the test opened,
            # or PostgreSQL refuses to drop the test database at the end of the session.
            from django.db import connections

            connections.close_all()
            context.close()
            browser.close()


# --- the shared permission cases (tests/permissions.py) ----------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    build = getattr(metafunc.function, "permission_cases", None)
    if build is None:
        return
    from tests.factories import case_id

    argnames, params = build(metafunc.cls)
    if not params:
        raise pytest.UsageError(
            f"{metafunc.cls.__name__}.{metafunc.function.__name__} has no cases: set it to "
            "None in the class, saying why"
        )
    metafunc.parametrize(argnames, params, ids=case_id)


@pytest.fixture
def team():  # type: ignore[no-untyped-def]
    """A review with an owner, a senior, a reviewer, and an outsider who is no member."""
    from tests.factories import make_team

    return make_team()
