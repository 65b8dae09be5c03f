"""Production, really started: the README's "Running it for real" recipe, followed by a team.

A fresh PostgreSQL database is migrated and the static files collected as the README says;
then `gunicorn` (DEBUG=0) serves the app, a Celery worker and Celery beat run beside it
(their command lines as in deploy/), all on a `redis-server` of the test's own; and three
people in three headless Chromium contexts run a small review: the first account, a review,
two reviewers invited by the links copied from the Members page, two real exports imported
(the import and the de-duplication run on the worker), the possible duplicates checked, both
reviewers screen (one conflict), the senior adjudicates it, and the PRISMA diagram is
downloaded as SVG and PNG with the review's counts in it. Then every process is stopped with
SIGTERM, as systemd stops it, and must exit cleanly.

Needs PostgreSQL (DATABASE_URL), `redis-server` and Chromium; in CI (CI=true) it runs, as a
skipped test fails the run there.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.browser.conftest import problems_of
from tests.browser.test_screening_flow import settle_after
from tests.conftest import CHROMIUM, REPO_ROOT
from tests.real_services import OwnRedis, app_broker, free_port
from tests.reviewer.prisma.test_diagram import box_texts

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "imports"
PASSWORD = "margins and recurrence 2024"
#: Waits are generous: the machine may be small and busy (every wait ends as soon as the
#: page is ready; only a broken run waits this long).
WAIT_MS = 90_000
START_SECONDS = 180


# --- the processes ---------------------------------------------------------------


@dataclass
class Production:
    """The installation: its database, Redis, web server, worker and beat."""

    folder: Path
    database_url: str
    redis: OwnRedis
    port: int = field(default_factory=free_port)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("EMAIL_", "CELERY_", "DJANGO_ALLOW"))
        }
        env.update(
            {
                # deploy/reviewer.env.example, with this machine's values
                "DEBUG": "0",
                "SECRET_KEY": self.secret_key,
                "ALLOWED_HOSTS": "localhost,127.0.0.1",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis.url,
                "MEDIA_ROOT": str(self.folder / "media"),
                "STATIC_ROOT": str(self.folder / "static"),
                # plain HTTP on localhost: TLS is the proxy's job in front of gunicorn
                "SECURE_SSL_REDIRECT": "0",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def manage(self, *args: str, **overrides: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env={**self.env, **overrides},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    def start(self, name: str, *command: str) -> None:
        with self.log(name).open("wb") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", *command],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def logs(self) -> str:
        parts = []
        for name in self.processes:
            text = self.log(name).read_text(errors="replace") if self.log(name).exists() else ""
            parts.append(f"--- {name} (last lines) ---\n" + "\n".join(text.splitlines()[-40:]))
        return "\n".join(parts)

    def wait_until(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    pytest.fail(f"{name} exited with {process.returncode}\n{self.logs()}")
            if ready():
                return
            time.sleep(0.5)
        pytest.fail(f"{what} not ready within {START_SECONDS} s\n{self.logs()}")

    def web_answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=5) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def worker_answers(self) -> bool:
        from reviewer.celery import app

        with app_broker(self.redis.url):
            return bool(app.control.ping(timeout=1))

    def stop(self) -> dict[str, int | None]:
        """SIGTERM to each, as systemd stops a unit: gunicorn finishes its requests, the
        worker its task (a warm shutdown). Anything still running after a minute is killed."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
                codes[name] = None
        return codes

    def kill(self) -> None:
        """Whatever is left after a failure: the whole process group, children included."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip(
            "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
        )
    return url


@pytest.fixture
def databases() -> Iterator[Callable[[], str]]:
    """Makes new, empty PostgreSQL databases on DATABASE_URL's server; drops them after."""

    server = postgres_url()
    made: list[str] = []

    def new() -> str:
        name = f"reviewer_smoke_{os.getpid()}_{secrets.token_hex(4)}"
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return urlsplit(server)._replace(path=f"/{name}").geturl()

    try:
        yield new
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            for name in made:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def production(tmp_path: Path, databases: Callable[[], str]) -> Iterator[Production]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server: apt-get install redis-server")
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Chromium: apt-get install chromium")
    redis = OwnRedis(free_port(), tmp_path)
    redis.start()
    site = Production(folder=tmp_path, database_url=databases(), redis=redis)
    try:
        # The README's recipe, in its order.
        site.manage("migrate", "--noinput")
        site.manage("collectstatic", "--noinput")
        # as configured behind the TLS proxy, with not even a warning
        site.manage("check", "--deploy", "--fail-level", "WARNING", SECURE_SSL_REDIRECT="1")
        site.start(
            "worker",
            *("celery", "-A", "reviewer", "worker", "--loglevel=INFO", "--concurrency=2"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            f"--hostname=smoke-{os.getpid()}@%h",
        )
        site.start(
            "beat",
            *("celery", "-A", "reviewer", "beat", "--loglevel=INFO"),
            f"--schedule={tmp_path / 'celerybeat-schedule'}",
        )
        site.start(
            "web",
            *("gunicorn", "reviewer.wsgi", "--bind", f"127.0.0.1:{site.port}"),
            *("--workers", "2", "--timeout", "120"),
        )
        site.wait_until("gunicorn", site.web_answers)
        site.wait_until("the Celery worker", site.worker_answers)
        yield site
    finally:
        site.kill()
        redis.kill()


# --- the browser -----------------------------------------------------------------


@dataclass
class Person:
    """One person's own browser (cookies and all), with what went wrong on its pages."""

    context: BrowserContext
    page: Page
    problems: list[str]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        expect.set_options(timeout=WAIT_MS)
        try:
            yield chromium
        finally:
            expect.set_options(timeout=None)  # back to Playwright's default for other tests
            chromium.close()


def person(browser: Browser, downloads: bool = False) -> Person:
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, accept_downloads=downloads
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    return Person(context, page, problems_of(page, frozenset()))


def fill_account(page: Page, name: str, username: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)


def add_search(page: Page, name: str, export: Path, records: int) -> None:
    page.get_by_role("link", name=re.compile("^Searches", re.I)).first.click()
    page.get_by_role("link", name=re.compile("add a search", re.I)).first.click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Search date").fill("2024-06-30")
    page.get_by_label("Search query").fill("dinosaur*")
    page.get_by_role("button", name="Add search").click()
    page.get_by_label("Export files").set_input_files(str(export))
    page.get_by_role("button", name=re.compile("upload", re.I)).click()
    status = page.locator("#import-status")
    expect(status).to_contain_text(f"{records} records")
    page.get_by_role("button", name=re.compile(rf"Import {records} records", re.I)).click()
    expect(page.locator("#import-status")).to_contain_text(f"{records} records imported")


def screen_everything(page: Page, base: str, include: tuple[str, ...]) -> list[str]:
    """Screen every record waiting at title/abstract: include a title containing one of
    `include`, exclude the rest. Returns the titles seen."""
    page.goto(f"{base}/screen/ta/")
    seen: list[str] = []
    done = page.get_by_role("heading", name="Nothing waiting for you")
    while not done.is_visible():
        title = page.locator("#record-title").inner_text()
        assert title not in seen, f"{title} came back after a decision"
        seen.append(title)
        settle_after(page, "i" if any(word in title for word in include) else "x")
    return seen


def test_a_team_runs_a_review_on_the_production_setup(
    production: Production, browser: Browser, databases: Callable[[], str]
) -> None:
    site = production
    owner = person(browser, downloads=True)
    page = owner.page
    people = [owner]
    try:
        # The owner's first visit: the first account, then a review.
        page.goto(f"{site.url}/")
        expect(page.get_by_role("heading", name="Create the first account")).to_be_visible()
        css = page.locator("link[rel=stylesheet]").first.get_attribute("href") or ""
        assert re.search(r"\.[0-9a-f]{12}\.css$", css), f"{css}: not from collectstatic"
        fill_account(page, "Carol Senior", "carol")
        page.get_by_label("Email address").fill("carol@example.org")
        page.get_by_role("button", name="Create the first account").click()
        expect(page.get_by_text("Your account is ready.")).to_be_visible()
        page.get_by_role("link", name="New review").first.click()
        page.get_by_label("Title").fill("Dinosaur skin and feathers")
        page.get_by_role("button", name=re.compile("create", re.I)).click()
        expect(page.get_by_text("Review created.")).to_be_visible()
        base = page.url.rstrip("/")
        assert re.fullmatch(rf"{site.url}/reviews/[\w-]+", base), base

        # Two reviewers invited from the Members page, links copied from it.
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="members and roles").click()
        links = {}
        for email in ("alice@example.org", "bob@example.org"):
            page.get_by_label("Email address").fill(email)
            page.get_by_label("Role", exact=True).select_option("reviewer")
            page.get_by_role("button", name="Invite").click()
            expect(page.get_by_text(f"Invitation for {email} as Reviewer made")).to_be_visible()
            links[email] = page.get_by_label(f"Invitation link for {email}").input_value()
            assert links[email].startswith(f"{site.url}/invitations/")

        # Each accepts in a browser of their own, and lands in the review.
        reviewers = {}
        for email, name, username in (
            ("alice@example.org", "Alice Chen", "alice"),
            ("bob@example.org", "Bob Okafor", "bob"),
        ):
            reviewer = person(browser)
            people.append(reviewer)
            reviewers[username] = reviewer
            reviewer.page.goto(links[email])
            expect(reviewer.page.get_by_text(f"invites {email} to this review")).to_be_visible()
            fill_account(reviewer.page, name, username)
            reviewer.page.get_by_role("button", name="Create my account and join").click()
            expect(
                reviewer.page.get_by_text(f"Welcome, {name}. You are a Reviewer")
            ).to_be_visible()
            expect(reviewer.page.locator(".review-header h1")).to_have_text(
                "Dinosaur skin and feathers"
            )
        page.reload()
        expect(page.locator("#invitation-list")).not_to_contain_text("Waiting to be accepted")

        # Two real exports of the same ten records: Embase, then the same through EndNote.
        # Reading, importing and de-duplicating each run on the worker.
        add_search(page, "Embase", FIXTURES / "embase_baseline.ris", 10)
        add_search(page, "Embase via EndNote", FIXTURES / "endnote_baseline.ris", 10)
        page.goto(f"{base}/duplicates/")
        stats = page.locator(".stats")
        # the status box follows the run on the worker; the figures are read when it is done
        expect(page.locator("#dedup-status .badge")).to_have_text("Finished")
        page.reload()
        expect(stats).to_contain_text("20 records identified")
        expect(stats).to_contain_text("10 duplicates removed")
        expect(stats).to_contain_text("10 records after removing duplicates")
        expect(stats).to_contain_text("0 possible pairs to check")
        # The owner runs it again over the whole review, on the worker: nothing changes.
        page.get_by_role("button", name="Find duplicates again").click()
        expect(page.get_by_text("De-duplication started.")).to_be_visible()
        expect(page.locator("#dedup-status")).to_contain_text("over all records")
        expect(page.locator("#dedup-status .badge")).to_have_text("Finished")
        page.reload()
        expect(stats).to_contain_text("10 duplicates removed")
        page.get_by_role("link", name=re.compile("Haplocanthosaurus")).click()
        expect(page.locator("main")).to_contain_text("Embase via EndNote")

        # Both reviewers screen every record; they disagree on one.
        alice = screen_everything(
            reviewers["alice"].page, base, ("dinosaur scales", "Haplocanthosaurus", "abelisaurid")
        )
        bob = screen_everything(
            reviewers["bob"].page, base, ("dinosaur scales", "Haplocanthosaurus")
        )
        assert len(alice) == len(bob) == 10 and set(alice) == set(bob)

        # The senior adjudicates the conflict: the abelisaurid goes on to full text.
        page.goto(f"{base}/conflicts/")
        expect(
            page.get_by_role("heading", name=re.compile("Waiting for a senior"))
        ).to_contain_text("1")
        page.get_by_role("link", name=re.compile("Adjudicate")).first.click()
        expect(page.locator("#record-title")).to_contain_text("abelisaurid")
        page.keyboard.press("i")
        expect(page.locator("body")).to_contain_text("No more records wait for a senior")

        # The PRISMA diagram, downloaded: 20 records identified, 10 duplicates removed, 10
        # screened, 7 excluded, 3 sought for retrieval (the full texts are still to come).
        page.goto(f"{base}/prisma/")
        with page.expect_download() as svg_download:
            page.get_by_role("link", name="SVG", exact=True).click()
        svg = Path(svg_download.value.path()).read_text()
        boxes = box_texts(svg)
        assert (
            "Databases (n = 20) Embase (n = 10) Embase via EndNote (n = 10)"
            in (boxes["identified"])
        )
        assert "Duplicate records removed (n = 10)" in boxes["removed"]
        assert boxes["screened"] == "Records screened (n = 10)"
        assert re.fullmatch(r"Records excluded\W* \(n = 7\)", boxes["records_excluded"])
        assert boxes["sought"] == "Reports sought for retrieval (n = 3)"
        assert "provisional" in svg.lower()
        with page.expect_download() as png_download:
            page.get_by_role("link", name="PNG 300 dpi").click()
        png = Path(png_download.value.path()).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
        assert width > 1000 and height > 1000, (width, height)

        # Backing up, as the README says: the owner downloads the review's archive ...
        page.goto(f"{base}/archive/")
        with page.expect_download() as archive_download:
            page.get_by_role("button", name="Download the archive (ZIP)").click()
        with zipfile.ZipFile(archive_download.value.path()) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        rows = {table["model"]: table["rows"] for table in manifest["tables"]}
        assert (rows["reviewer.Decision"], rows["reviewer.Adjudication"]) == (20, 1)
        assert manifest["people"]["rows"] == 3
        assert len(manifest["files"]) == 2  # the two exports, as uploaded
    finally:
        for someone in people:
            someone.context.close()
    problems = [problem for someone in people for problem in someone.problems]
    assert problems == [], "\n".join(problems)

    # Every job ran on the worker, not in the web server.
    worker_log = site.log("worker").read_text(errors="replace")
    for task in ("reviewer.read_import", "reviewer.run_import", "reviewer.run_dedup"):
        assert re.search(rf"Task {re.escape(task)}\[[\w-]+\] succeeded", worker_log), task

    # ... and pg_dump takes the whole database while the site runs; it restores.
    dump = site.folder / "reviewer.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", site.database_url],
        check=True,
        timeout=600,
    )
    copy = databases()
    subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={copy}", str(dump)], check=True, timeout=600
    )
    with psycopg.connect(copy) as connection:
        decisions = connection.execute("SELECT count(*) FROM reviewer_decision").fetchone()
        titles = connection.execute("SELECT title FROM reviewer_review").fetchall()
    assert decisions == (20,) and titles == [("Dinosaur skin and feathers",)]

    codes = site.stop()
    assert codes == {"worker": 0, "beat": 0, "web": 0}, f"{codes}\n{site.logs()}"
