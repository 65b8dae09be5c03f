"""Screening latency under concurrent reviewers, through gunicorn (run by hand, not in CI).

    python bench/screening_latency.py                       # 10 reviewers, 30 s
    python bench/screening_latency.py --reviewers 20 --seconds 60
    python bench/screening_latency.py --direct              # the services, no HTTP

Builds a review of 20,000 records on PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bench; the database is created if missing), half of
them already decided by two earlier reviewers (`--screened`), so the queue query has a
mid-review's work to do. Starts `gunicorn reviewer.wsgi --workers 2` with DEBUG=0 and
scratch MEDIA_ROOT and STATIC_ROOT, then N simulated reviewers, each a logged-in HTTP
client, screen as fast as the server lets them for `--seconds`: load the next record for them
(GET screen-next, a redirect to the record), load the record page, post a decision
(POST screen-decide; it redirects to the next record), load that page, and so on.
Two reviewers racing for the same record is part of the load: the third decision on a
record is refused, as in real use, and counted.

Prints p50/p95/p99 latency per request kind and overall, and requests/s. Target: p95
under 50 ms with 10 reviewers on a 2-core machine (the README keeps the measured figures;
no test asserts it).

`--direct` measures the same flow through the services in N processes (next_record, then
decide), without HTTP, templates or gunicorn: what the database work alone costs.
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
    job = ImportJob.objects.create(review=review, source=source, created_by=owner, status="done")
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
    return {"slug": review.slug, "users": [u.username for u in screening]}


def teardown(slug: str) -> None:
    _django()
    from reviewer.models import Review, User

    Review.objects.get(slug=slug).delete()
    # and any review an earlier, interrupted run left behind with the bench's users in it
    bench_users = User.objects.filter(username__startswith="bench-reviewer-")
    Review.objects.filter(memberships__user__in=bench_users).distinct().delete()
    bench_users.delete()


def direct_worker(slug: str, username: str, seconds: float) -> dict[str, list[float]]:
    """One reviewer through the services: next_record, then decide, until time is up."""
    _django()
    from django.core.exceptions import ValidationError

    from reviewer.models import Review, User
    from reviewer.services.screening import decide, next_record

    review = Review.objects.get(slug=slug)
    user = User.objects.get(username=username)
    rng = random.Random(username)
    timings: dict[str, list[float]] = defaultdict(list)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        record = next_record(review=review, user=user, stage="ta")
        timings["next"].append(time.perf_counter() - started)
        if record is None:
            break
        choice = rng.choices([c for c, _ in CHOICES], weights=[w for _, w in CHOICES])[0]
        started = time.perf_counter()
        try:
            decide(record=record, user=user, stage="ta", choice=choice)
        except ValidationError:
            timings["refused"].append(0.0)
        timings["decide"].append(time.perf_counter() - started)
    return dict(timings)


# --- the HTTP clients ---


class Browser:
    """A logged-in reviewer: cookies kept by hand (the app sets Secure cookies when
    DEBUG=0, so it is told it runs behind a TLS proxy, as in production)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.origin = f"https://127.0.0.1:{port}"

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str, float]:
        """(status, Location, body, seconds), redirects not followed."""
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        connection = HTTPConnection("127.0.0.1", self.port, timeout=60)
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        seconds = time.perf_counter() - started
        connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        location = urlsplit(response.headers.get("Location", ""))
        target = location.path + (f"?{location.query}" if location.query else "")
        return response.status, target, text, seconds

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


def http_reviewer(
    port: int,
    username: str,
    urls: dict[str, str],
    deadline: float,
    timings: dict[str, list[float]],
    lock: threading.Lock,
) -> None:
    from django.urls import resolve, reverse

    browser = Browser(port)
    browser.login(username)
    rng = random.Random(username)
    mine: dict[str, list[float]] = defaultdict(list)
    record_path = ""
    while time.monotonic() < deadline:
        if not record_path:
            status, record_path, _, seconds = browser.request("GET", urls["next"])
            mine["next"].append(seconds)
            if status != 302 or "/screen/ta/" not in record_path or record_path == urls["next"]:
                mine["empty-queue"].append(0.0)
                break
        status, _, _, seconds = browser.request("GET", record_path)
        mine["record"].append(seconds)
        if status != 200:
            mine["errors"].append(0.0)
            record_path = ""
            continue
        match = resolve(urlsplit(record_path).path)
        decide = reverse("screen-decide", kwargs=match.kwargs)
        choice = rng.choices([c for c, _ in CHOICES], weights=[w for _, w in CHOICES])[0]
        status, following, _, seconds = browser.request("POST", decide, {"choice": choice})
        mine["decide"].append(seconds)
        if status == 302:  # to the next record, or to the queue page when none is left
            same = urlsplit(following).path in (urlsplit(record_path).path, urls["next"])
            record_path = "" if same else following
        else:  # refused (a third decision on a record two others just decided): start over
            mine["refused"].append(0.0)
            record_path = ""
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


def run_http(
    info: dict[str, object], args: argparse.Namespace, env: dict[str, str]
) -> tuple[dict[str, list[float]], float]:
    _django()
    from django.urls import NoReverseMatch, reverse

    slug = str(info["slug"])
    try:
        next_url = reverse("screen-next", kwargs={"slug": slug, "stage": "ta"})
    except NoReverseMatch:  # the name it had while the screening pages were being built
        next_url = reverse("screen-queue", kwargs={"slug": slug, "stage": "ta"})
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
        timings: dict[str, list[float]] = defaultdict(list)
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds
        threads = [
            threading.Thread(
                target=http_reviewer,
                args=(port, username, {"next": next_url}, deadline, timings, lock),
            )
            for username in info["users"]  # type: ignore[attr-defined]
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return timings, time.perf_counter() - started
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)


def run_direct(
    info: dict[str, object], args: argparse.Namespace, env: dict[str, str]
) -> tuple[dict[str, list[float]], float]:
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--child-direct", str(info["slug"]), username],
            cwd=ROOT,
            env={**env, "BENCH_SECONDS": str(args.seconds)},
            stdout=subprocess.PIPE,
            text=True,
        )
        for username in info["users"]  # type: ignore[attr-defined]
    ]
    timings: dict[str, list[float]] = defaultdict(list)
    for worker in workers:
        out, _ = worker.communicate()
        for kind, values in json.loads(out.strip().splitlines()[-1]).items():
            timings[kind].extend(values)
    return timings, time.perf_counter() - started


def _child(args: list[str], env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, __file__, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}


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


def report(timings: dict[str, list[float]], seconds: float, args: argparse.Namespace) -> None:
    def ms(values: list[float], q: int) -> str:
        if len(values) < 2:
            return "—"
        return f"{statistics.quantiles(values, n=100, method='inclusive')[q - 1] * 1000:.1f}"

    kinds = [k for k in ("next", "record", "decide") if timings.get(k)]
    every = [v for k in kinds for v in timings[k]]
    mode = "services (--direct)" if args.direct else f"HTTP, gunicorn --workers {args.workers}"
    print(f"{args.records:,} records, {args.reviewers} reviewers, {seconds:.1f} s, {mode}")
    print(f"{'request':<8} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'per s':>8}")
    for kind in [*kinds, "all"]:
        values = every if kind == "all" else timings[kind]
        print(
            f"{kind:<8} {len(values):>7} {ms(values, 50):>8} {ms(values, 95):>8} "
            f"{ms(values, 99):>8} {len(values) / seconds:>8.1f}"
        )
    print(
        f"decisions: {len(timings.get('decide', [])) - len(timings.get('refused', []))} "
        f"({(len(timings.get('decide', [])) - len(timings.get('refused', []))) / seconds:.1f}/s); "
        f"refused as a third decision: {len(timings.get('refused', []))}; "
        f"errors: {len(timings.get('errors', []))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reviewers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--screened", type=float, default=0.5, help="share decided already")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--direct", action="store_true", help="the services, without HTTP")
    parser.add_argument("--keep", action="store_true", help="keep the review afterwards")
    parser.add_argument("--child-setup", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-teardown", help=argparse.SUPPRESS)
    parser.add_argument("--child-direct", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_setup:
        records, reviewers, screened = args.child_setup
        print(json.dumps(setup(int(records), int(reviewers), float(screened))))
        return
    if args.child_teardown:
        teardown(args.child_teardown)
        return
    if args.child_direct:
        slug, username = args.child_direct
        seconds = float(os.environ["BENCH_SECONDS"])
        print(json.dumps(direct_worker(slug, username, seconds)))
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
    os.environ.update(env)
    info = _child(
        ["--child-setup", str(args.records), str(args.reviewers), str(args.screened)], env
    )
    try:
        run = run_direct if args.direct else run_http
        timings, seconds = run(info, args, env)
    finally:
        if not args.keep:
            _child(["--child-teardown", str(info["slug"])], env)
        media.cleanup()
    report(timings, seconds, args)


if __name__ == "__main__":
    main()
