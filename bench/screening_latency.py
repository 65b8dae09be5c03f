"""Screening speed, three ways side by side in one run (run by hand, not in CI).

    python bench/screening_latency.py                  # all three figures, one run
    python bench/screening_latency.py --direct         # only the server time
    python bench/screening_latency.py --direct --sql       # and each SQL statement's time
    python bench/screening_latency.py --direct --profile   # and a cProfile of the request

Without `--broker` it runs as the quick start does (no Celery worker: `CELERY_BROKER_URL`
empty), so the ranking retrains every few decisions run in the web process, in its
background thread (`reviewer.services.background`); the request thread's CPU is reported
apart from them. With `--broker` it runs as deployed: it starts a Celery worker
(deploy/reviewer-worker.service's command) on CELERY_BROKER_URL or REDIS_URL, and the
retrains run there. Set REDIS_URL for the cache as deployed (counters, cursors, sessions).
The in-process run first waits for the reviewer's learnt ranking (its first retrain
vectorises every record), so it times the queue as it is for the rest of a review: walking
that ranking; it says how many of its requests did.

Builds a review of 20,000 records on PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bench; the database is created if missing), half of
them already decided by two earlier reviewers (`--screened`), so the queue has a
mid-review's work to do. Then measures a screening decision as a reviewer with
JavaScript makes it: one htmx POST of the decision, whose answer is the next record's
panel (and, out of band, the counters that changed).

1. Server time (`--direct`): that POST through the whole Django stack (middleware, view,
   services, template) in this process with Django's test client, one reviewer deciding
   back to back, `DEBUG=0`: decide + next record, p50/p95, and the SQL queries it makes.
   Target: p95 at most 10 ms, the same at any review size.
2. Capacity: `gunicorn reviewer.wsgi --workers 2` (`DEBUG=0`, scratch MEDIA_ROOT and
   STATIC_ROOT), `--clients` HTTP clients replaying the htmx requests back to back:
   decisions per second at saturation. Goal: 100 or more on 2 cores.
3. Felt latency: the same server, `--reviewers` (10) simulated reviewers each deciding
   once every `--interval` (2 s): from the key press (the POST leaving) to the next
   title in hand (the answer read), p50/p95. Target: p95 under 100 ms. htmx's swap of the
   panel in the browser comes on top (a millisecond or two).

Two reviewers racing for the same record is part of the load: the third decision on a
record is refused, as in real use, and counted. The load generator shares the machine's
cores with the server, as it does on a developer's machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/bench"
PASSWORD = "bench-pass-1"
#: The mix of decisions a simulated reviewer makes at title/abstract.
CHOICES = (("exclude", 60), ("include", 30), ("maybe", 10))


# --- setup and teardown (in a child process with Django) ---


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewer.settings")
    django.setup()


def setup(records: int, reviewers: int, screened: float) -> dict[str, object]:
    """A review with `records` records, `screened` of them decided by two earlier
    reviewers, and `reviewers` members to screen the rest."""
    _django()
    from django.core.management import call_command

    from reviewer.demo.records import demo_papers
    from reviewer.models import Decision, ImportFile, ImportJob, Record, Role, User
    from reviewer.services import imports
    from reviewer.services.reviews import review_create

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # into the scratch folder
    owner, _ = User.objects.get_or_create(username="bench")
    review = review_create(title=f"Screening bench {time.time():.0f}", created_by=owner)
    source, _ = imports.source_for_command(review=review, name="PubMed", created_by=owner)
    job = ImportJob.objects.create(
        review=review, source=source, created_by=owner, status="succeeded"
    )
    import_file = ImportFile.objects.create(job=job, original_name="bench.nbib", sha256="0")
    papers = demo_papers(count=420)
    Record.objects.bulk_create(
        (
            Record(
                review=review,
                source=source,
                import_file=import_file,
                position=n,
                title=f"{papers[n % len(papers)].title} ({n})",
                abstract=papers[n % len(papers)].abstract,
                authors=[f"{s}, {g}" for s, g in papers[n % len(papers)].authors],
                year=papers[n % len(papers)].year,
                journal=papers[n % len(papers)].journal[0],
            )
            for n in range(1, records + 1)
        ),
        batch_size=2000,
    )
    users = []
    for n in range(1, reviewers + 3):
        user, _ = User.objects.get_or_create(username=f"bench-reviewer-{n}")
        user.set_password(PASSWORD)
        user.save()
        review.memberships.create(user=user, role=Role.REVIEWER, added_by=owner)
        users.append(user)
    earlier, screening = users[:2], users[2:]
    done = list(review.records.order_by("pk").values_list("pk", flat=True))[
        : int(records * screened)
    ]
    rng = random.Random(7)
    Decision.objects.bulk_create(
        (
            Decision(review=review, record_id=pk, reviewer=user, stage="ta", choice=choice)
            for pk in done
            for choice in [rng.choice(("include", "exclude"))]
            for user in earlier
        ),
        batch_size=2000,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        # what autovacuum does on a running server: the dead rows of earlier runs (each
        # retrain replaces 20,000 scores) cleared, and statistics for the new rows; a server
        # running without autovacuum, as some test machines do, is said in the report
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
    return {
        "slug": review.slug,
        "users": [u.username for u in screening],
        "autovacuum": autovacuum,
    }


def teardown(slug: str) -> None:
    _django()
    from reviewer.models import Review, User

    Review.objects.get(slug=slug).delete()
    # and any review an earlier, interrupted run left behind with the bench's users in it
    bench_users = User.objects.filter(username__startswith="bench-reviewer-")
    Review.objects.filter(memberships__user__in=bench_users).distinct().delete()
    bench_users.delete()


def _panel_path(push_url: str) -> str:
    """The record path an htmx answer pushed ("" when it is the queue: nothing waiting)."""
    path = urlsplit(push_url).path
    return path if re.search(r"/screen/ta/\d+/$", path) else ""


def direct_worker(
    slug: str, username: str, decisions: int, profile: bool, sql: bool
) -> dict[str, object]:
    """The htmx decision POST in this process through Django's test client, back to back:
    decide + the next record's panel, timed; a few more with their SQL queries counted."""
    _django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from reviewer.models import User

    user = User.objects.get(username=username)
    client = Client(headers={"host": "127.0.0.1"})
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    rng = random.Random(username)
    queue = f"/reviews/{slug}/screen/ta/"
    first = client.get(queue, secure=True)
    path = first.get("Location", "")
    assert first.status_code == 302 and _panel_path(path), f"queue: {first.status_code} {path}"
    path = _panel_path(path)

    cpu_times: list[float] = []

    def decide() -> tuple[float, int, bool]:
        nonlocal path
        choice = rng.choices([c for c, _ in CHOICES], weights=[w for _, w in CHOICES])[0]
        started, cpu = time.perf_counter(), time.thread_time()
        response = client.post(
            f"{path}decide/",
            {"choice": choice, "note": ""},
            secure=True,
            headers={"hx-request": "true", "hx-target": "screen"},
        )
        seconds = time.perf_counter() - started
        cpu_times.append(time.thread_time() - cpu)
        assert response.status_code == 200, response.status_code
        following = _panel_path(response.get("HX-Push-Url", ""))
        path = following
        # the panel shows the record's rank when the queue walks the learnt ranking
        return seconds, len(response.content), b"screen-relevance" in response.content

    for _ in range(20):  # warm up: connections, templates, caches
        decide()
    # and until the ranking learnt from this reviewer's decisions is in use, as it is for
    # the rest of a review: its first retrain reads and vectorises all the records (seconds
    # at 20,000), and until then the queue is in import order (a cheaper walk)
    learnt = _wait_for_learnt_ranking(slug, username, decide)
    queries = []
    for _ in range(5):
        with CaptureQueriesContext(connection) as captured:
            decide()
        queries.append(len(captured.captured_queries))
    example = [q["sql"] for q in captured.captured_queries]
    timings: list[float] = []
    sizes: list[int] = []
    walked = 0
    cpu_times.clear()
    profiler = None
    statements: dict[str, list[float]] = defaultdict(list)
    if profile or sql:
        connection.execute_wrappers.append(_statement_timer(statements))
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    for _ in range(decisions):
        if not path:
            break
        seconds, size, ranked = decide()
        timings.append(seconds)
        sizes.append(size)
        walked += ranked
    waited = time.perf_counter()
    from reviewer.services import background

    background.wait_idle(timeout=300)  # not timed: the process must not exit mid-retrain
    retrain_wait = [time.perf_counter() - waited]
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        saved = ROOT / "bench" / "out" / "screening_latency.prof"
        saved.parent.mkdir(exist_ok=True)
        profiler.dump_stats(saved)
        print(f"the whole profile: {saved.relative_to(ROOT)} (python -m pstats)", file=sys.stderr)
        print(out.getvalue(), file=sys.stderr)
        print("\n".join(example), file=sys.stderr)
    if statements:
        _print_statements(statements, len(timings))
    return {
        "decide": timings,
        "cpu": cpu_times,
        "queries": queries,
        "bytes": sizes,
        "retrain_wait": retrain_wait,
        "relevance_order": walked,
        "learnt_after": learnt,
    }


def _statement_timer(statements: dict[str, list[float]]) -> Callable[..., object]:
    """A `connection.execute_wrappers` entry that times each SQL statement of the request
    thread (wall time: the round trip, the database's planning and execution, and waiting
    for the GIL when a retrain runs in this process), by its shape (numbers left out)."""

    def timed(execute: Callable[..., object], sql: str, *args: object) -> object:
        started = time.perf_counter()
        try:
            return execute(sql, *args)
        finally:
            shape = re.sub(r"\s+", " ", re.sub(r"\d+", "N", sql))
            statements[shape].append(time.perf_counter() - started)

    return timed


def _print_statements(statements: dict[str, list[float]], decisions: int) -> None:
    """Where the request thread's SQL time went: per statement shape, how many per
    decision, p50 and total ms per decision, the costliest first."""
    print(
        "\nSQL per decision (wall ms): per decision, p50, total/decision, statement",
        file=sys.stderr,
    )
    ordered = sorted(statements.items(), key=lambda item: -sum(item[1]))
    for shape, times in ordered:
        print(
            f"{len(times) / decisions:5.2f} {statistics.median(times) * 1000:6.2f} "
            f"{sum(times) * 1000 / decisions:6.2f}  {shape[:160]}",
            file=sys.stderr,
        )
    total = sum(sum(times) for times in statements.values()) * 1000 / decisions
    print(f"all SQL: {total:.1f} ms per decision", file=sys.stderr)


def _wait_for_learnt_ranking(
    slug: str, username: str, decide: Callable[[], tuple[float, int, bool]]
) -> float:
    """Decide now and then until the reviewer's newest finished ranking learnt from their
    decisions (retrained in this process's background thread, or by the worker with
    `--broker`); the seconds it took."""
    from reviewer.models import RankingJob, RankingMethod, RankingStatus

    started = time.perf_counter()
    while time.perf_counter() - started < 300:
        newest = (
            RankingJob.objects.filter(review__slug=slug, reviewer__username=username)
            .filter(status=RankingStatus.SUCCEEDED)
            .order_by("-pk")
            .first()
        )
        if newest is not None and newest.trained and newest.method == RankingMethod.LEARNT:
            return time.perf_counter() - started
        time.sleep(0.5)
        decide()
    raise SystemExit("no learnt ranking within 300 s: is a worker running (--broker)?")


# --- the HTTP clients ---


class Browser:
    """A logged-in reviewer: cookies kept by hand (the app sets Secure cookies when
    DEBUG=0, so it is told it runs behind a TLS proxy, as in production)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.origin = f"https://127.0.0.1:{port}"

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str, float]:
        """(status, headers, body, seconds), redirects not followed."""
        sent = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            **(headers or {}),
        }
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Origin"] = self.origin
            sent["Referer"] = self.origin + path
            sent["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        connection = HTTPConnection("127.0.0.1", self.port, timeout=60)
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        seconds = time.perf_counter() - started
        connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, dict(response.headers.items()), text, seconds

    def login(self, username: str) -> None:
        status, _, page, _ = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert status == 200 and token, f"login page: {status}"
        status, _, _, _ = self.request(
            "POST",
            "/accounts/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
        )
        assert status == 302 and "sessionid" in self.cookies, f"login refused: {status}"


def htmx_reviewer(
    browser: Browser,
    username: str,
    queue: str,
    deadline: float,
    interval: float,
    timings: dict[str, list[float]],
    lock: threading.Lock,
) -> None:
    """A reviewer with JavaScript: opens the queue (a page load), then decides by key,
    each decision one htmx POST whose answer is the next record's panel. `interval` 0:
    back to back; else one decision every `interval` seconds, at a random phase."""
    rng = random.Random(username)
    mine: dict[str, list[float]] = defaultdict(list)
    path = ""
    tick = time.monotonic() + (rng.uniform(0, interval) if interval else 0)
    while time.monotonic() < deadline:
        if not path:
            status, headers, _, seconds = browser.request("GET", queue)
            path = _panel_path(urlsplit(headers.get("Location", "")).path)
            if status != 302 or not path:
                mine["empty-queue"].append(0.0)
                break
            status, _, _, seconds = browser.request("GET", path)  # the page, once
            mine["page"].append(seconds)
        if interval:
            time.sleep(max(0.0, tick - time.monotonic()))
            tick += interval
            if time.monotonic() >= deadline:
                break
        choice = rng.choices([c for c, _ in CHOICES], weights=[w for _, w in CHOICES])[0]
        status, headers, body, seconds = browser.request(
            "POST",
            f"{path}decide/",
            {"choice": choice, "note": ""},
            {
                "HX-Request": "true",
                "HX-Target": "screen",
                "HX-Current-URL": browser.origin + path,
            },
        )
        if status != 200 or ('id="record-title"' not in body and "Nothing waiting" not in body):
            mine["errors"].append(0.0)
            path = ""
            continue
        mine["decide"].append(seconds)
        following = _panel_path(headers.get("HX-Push-Url", ""))
        if following == path:  # refused (two others decided it meanwhile): start over
            mine["refused"].append(0.0)
            following = ""
        path = following
    with lock:
        for kind, values in mine.items():
            timings[kind].extend(values)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited; run it by hand to see why")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not listen on {port} within {timeout:.0f} s")


def _clients(
    port: int, users: list[str], queue: str, seconds: float, interval: float
) -> tuple[dict[str, list[float]], float]:
    timings: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    browsers = []
    for user in users:  # logged in before the clock starts (a password hash costs a second)
        browser = Browser(port)
        browser.login(user)
        browsers.append(browser)
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=htmx_reviewer, args=(browser, user, queue, deadline, interval, timings, lock)
        )
        for browser, user in zip(browsers, users, strict=True)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, time.perf_counter() - started


def run_http(
    info: dict[str, object], args: argparse.Namespace, env: dict[str, str]
) -> dict[str, tuple[dict[str, list[float]], float]]:
    """Felt latency (`--reviewers`, one decision every `--interval`), then capacity
    (`--clients` back to back), against one gunicorn."""
    queue = f"/reviews/{info['slug']}/screen/ta/"
    users: list[str] = list(info["users"])  # type: ignore[call-overload]
    port = args.port or _free_port()
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "reviewer.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group, stopped as one below
    )
    try:
        _wait_for(port, gunicorn)
        felt = _clients(port, users[: args.reviewers], queue, args.seconds, args.interval)
        capacity = _clients(port, users[: args.clients], queue, args.capacity_seconds, 0)
        return {"felt": felt, "capacity": capacity}
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)


def run_direct(
    info: dict[str, object], args: argparse.Namespace, env: dict[str, str]
) -> dict[str, object]:
    users: list[str] = list(info["users"])  # type: ignore[call-overload]
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child-direct",
            str(info["slug"]),
            users[-1],  # a reviewer the HTTP clients leave alone
            str(args.decisions),
            *(["--profile"] if args.profile else []),
            *(["--sql"] if args.sql else []),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    if result.returncode:
        raise SystemExit("the in-process run failed")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _child(args: list[str], env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, __file__, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@contextmanager
def _worker(env: dict[str, str]) -> Iterator[None]:
    """A Celery worker as deploy/reviewer-worker.service runs it (`--concurrency=2`), on the
    broker in CELERY_BROKER_URL or REDIS_URL, for the length of the run."""
    if not (env.get("CELERY_BROKER_URL") or env.get("REDIS_URL")):
        raise SystemExit("--broker needs CELERY_BROKER_URL or REDIS_URL")
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "reviewer",
            "worker",
            "--loglevel=WARNING",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # its banner; warnings and errors go to stderr
        start_new_session=True,
    )
    try:
        yield
    finally:
        # SIGTERM to the worker alone: a warm shutdown, which lets a running retrain finish
        # (its pool processes killed too would lose it, and the review's teardown would race
        # its writes)
        worker.terminate()
        try:
            worker.wait(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)


def _ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` if it does not exist."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def _ms(values: list[float], q: int) -> str:
    if len(values) < 2:
        return "—"
    return f"{statistics.quantiles(values, n=100, method='inclusive')[q - 1] * 1000:.1f}"


def report(
    direct: dict[str, object] | None,
    http: dict[str, tuple[dict[str, list[float]], float]] | None,
    args: argparse.Namespace,
    autovacuum: str,
) -> None:
    print(
        f"{args.records:,} records ({args.screened:.0%} decided by two earlier reviewers), "
        "PostgreSQL, one htmx POST per decision; retrains "
        + ("in a Celery worker" if args.broker else "in the web process (no worker)")
        + ("" if autovacuum == "on" else "; autovacuum off: the retrains' dead rows pile up")
    )
    print(f"{'measure':<56} {'p50 ms':>8} {'p95 ms':>8} {'figure':>14}")
    if direct is not None:
        times: list[float] = direct["decide"]  # type: ignore[assignment]
        queries: list[int] = direct["queries"]  # type: ignore[assignment]
        label = f"server time, in-process, decide + next ({len(times)} decisions)"
        print(
            f"{label:<56} {_ms(times, 50):>8} {_ms(times, 95):>8} {f'{max(queries)} queries':>14}"
        )
        cpu: list[float] = direct["cpu"]  # type: ignore[assignment]
        label = "  of which the request thread's CPU (Django, ORM, template)"
        print(f"{label:<56} {_ms(cpu, 50):>8} {_ms(cpu, 95):>8}")
        print(f"  load average while measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        walked = direct.get("relevance_order", 0)
        learnt = direct.get("learnt_after", 0.0)
        print(
            f"  {walked} of {len(times)} in relevance order (the learnt ranking walked; "
            f"in use {learnt:.1f} s after the warm-up)"
        )
        retrains: list[float] = direct.get("retrain_wait", [])  # type: ignore[assignment]
        if retrains:
            print(f"  waited for the background retrains at the end: {retrains[0]:.1f} s")
    if http is not None:
        felt, _ = http["felt"]
        capacity, capacity_seconds = http["capacity"]
        decided = len(capacity.get("decide", [])) - len(capacity.get("refused", []))
        label = f"capacity, gunicorn --workers {args.workers}, {args.clients} clients back to back"
        print(
            f"{label:<56} {_ms(capacity['decide'], 50):>8} {_ms(capacity['decide'], 95):>8} "
            f"{f'{decided / capacity_seconds:.0f} decisions/s':>14}"
        )
        label = f"felt, {args.reviewers} reviewers deciding every {args.interval:g} s"
        print(
            f"{label:<56} {_ms(felt['decide'], 50):>8} {_ms(felt['decide'], 95):>8} "
            f"{str(len(felt['decide'])) + ' decisions':>14}"
        )
        for name, (timings, _) in http.items():
            print(
                f"  {name}: refused as a third decision {len(timings.get('refused', []))}, "
                f"errors {len(timings.get('errors', []))}, first page load p95 "
                f"{_ms(timings.get('page', []), 95)} ms"
            )
        if args.workers > 1 and not os.environ.get("REDIS_URL"):
            print(
                f"  no REDIS_URL: the {args.workers} gunicorn workers each keep their own cache "
                "(counters, hand-outs), so two reviewers can be handed the same record: a "
                "deployment check warns of this (reviewer.W001); set REDIS_URL as deployed"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reviewers", type=int, default=10, help="felt latency: reviewers")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between decisions")
    parser.add_argument("--seconds", type=float, default=30, help="felt latency: duration")
    parser.add_argument("--clients", type=int, default=8, help="capacity: clients")
    parser.add_argument("--capacity-seconds", type=float, default=20)
    parser.add_argument("--decisions", type=int, default=400, help="in-process decisions")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--screened", type=float, default=0.5, help="share decided already")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--direct", action="store_true", help="only the in-process server time")
    parser.add_argument("--profile", action="store_true", help="profile the in-process run")
    parser.add_argument(
        "--sql",
        action="store_true",
        help="time each SQL statement of the in-process run (without the profiler's overhead)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the review afterwards")
    parser.add_argument(
        "--broker",
        action="store_true",
        help="retrains in a Celery worker this bench starts (as deployed), on the broker in "
        "CELERY_BROKER_URL or REDIS_URL (default: no broker, as the quick start: retrains "
        "run in the web process)",
    )
    parser.add_argument("--child-setup", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-teardown", help=argparse.SUPPRESS)
    parser.add_argument("--child-direct", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_setup:
        records, reviewers, screened = args.child_setup
        print(json.dumps(setup(int(records), int(reviewers), float(screened))))
        return
    if args.child_teardown:
        teardown(args.child_teardown)
        return
    if args.child_direct:
        slug, username, decisions = args.child_direct
        print(json.dumps(direct_worker(slug, username, int(decisions), args.profile, args.sql)))
        return

    database = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE)
    if not database.startswith("postgres"):
        raise SystemExit("DATABASE_URL must be a PostgreSQL database for this bench")
    _ensure_database(database)
    media = tempfile.TemporaryDirectory(prefix="screening-bench-")
    env = {
        **os.environ,
        "DEBUG": "0",  # as production runs: no SQL query log, no debug toolbar of any kind
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-" + "x" * 50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MEDIA_ROOT": str(Path(media.name) / "media"),
        "STATIC_ROOT": str(Path(media.name) / "static"),  # DEBUG=0 serves collected files
        "DJANGO_SETTINGS_MODULE": "reviewer.settings",
    }
    if not args.broker:  # the quick start: no worker, the retrains run in the web process
        env["CELERY_BROKER_URL"] = ""
    os.environ.update(env)
    reviewers = max(args.reviewers, args.clients) + 1  # and one for the in-process run
    info = _child(["--child-setup", str(args.records), str(reviewers), str(args.screened)], env)
    try:
        with _worker(env) if args.broker else _nothing():
            direct = run_direct(info, args, env)
            http = None if args.direct else run_http(info, args, env)
    finally:
        if not args.keep:
            _child(["--child-teardown", str(info["slug"])], env)
        media.cleanup()
    report(direct, http, args, str(info.get("autovacuum", "on")))


if __name__ == "__main__":
    main()
