"""The cost of the next record's panel alone, once the record is known (run by hand).

    python bench/screening_render.py                      # the demo review, as alice
    python bench/screening_render.py --user bob --renders 500
    python bench/screening_render.py --root /work/main    # another checkout, same data

Reads the review `python manage.py demo` builds (DATABASE_URL; highlight terms, nine
exclusion reasons, shared labels, rankings), as a reviewer of it, `DEBUG=0` (the cached
template loader, as in production). For the first `--records` records waiting for that
reviewer at title/abstract, it times what the answer to a decision (htmx) costs after the
decision is stored and the next record found:

1. panel: `views.screening._record_response(..., decided=True)` (the record's rows,
   its neighbours, the context, the template), with its SQL queries counted;
2. render: the template alone (`decided.html` with that context, context processors
   and any read the template makes lazily included), rendered again and again.

Nothing is written. `--root` runs another checkout's code on the same data, so two
versions compare side by side in one sitting (alternate them: the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _ms(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def measure(
    root: Path, username: str, slug: str, records: int, renders: int, profile: bool
) -> dict[str, object]:
    sys.path.insert(0, str(root))
    os.chdir(root)
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ["DJANGO_SETTINGS_MODULE"] = "reviewer.settings"
    import django

    django.setup()
    from django.contrib.messages.storage import default_storage
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django_htmx.middleware import HtmxDetails

    from reviewer.models import Decision, Membership
    from reviewer.views import screening as views

    membership = Membership.objects.select_related("review", "user").filter(user__username=username)
    membership = membership.filter(review__slug=slug) if slug else membership.order_by("pk")
    member = membership.first()
    assert member is not None, f"{username} is a member of no review {slug}"
    review, user = member.review, member.user

    def request_for(path: str) -> Any:  # as the middleware leaves it
        request: Any = RequestFactory(headers={"hx-request": "true", "hx-target": "screen"}).get(
            path, secure=True
        )
        request.user = user
        request.session = SessionStore()
        request._messages = default_storage(request)
        request.htmx = HtmxDetails(request)
        return request

    queue_path = f"/reviews/{review.slug}/screen/ta/"
    queue = views._queue(request_for(queue_path), review.slug, "ta")
    annotated = queue.records.filter(waiting=True)  # type: ignore[misc]  # an annotation
    waiting = annotated.values_list("pk", flat=True)[:records]
    chosen = list(review.records.select_related("source").filter(pk__in=list(waiting)))
    assert chosen, "nothing waiting for this reviewer at title/abstract"
    previous = Decision(
        review=review, reviewer=user, stage="ta", choice="exclude", record=chosen[-1]
    )
    last = {"decision": previous, "undoable": True}

    captured: list[tuple[str, dict[str, object]]] = []
    original = views.__dict__["render"]  # the view module's own name for it

    def capturing(request, template, context):  # type: ignore[no-untyped-def]
        captured.append((template, context))
        return original(request, template, context)

    panel: list[float] = []
    panel_cpu: list[float] = []
    queries: list[int] = []
    sizes: list[int] = []
    views.__dict__["render"] = capturing
    profiler = None
    try:
        for round_ in range(3):
            if round_ == 1 and profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            for record in chosen:
                path = f"{queue_path}{record.pk}/"
                request = request_for(path)
                queue = views._queue(request, review.slug, "ta")
                with CaptureQueriesContext(connection) as counted:
                    started, cpu = time.perf_counter(), time.thread_time()
                    response = views._record_response(
                        request, queue, record, last=last, decided=True
                    )
                    seconds = time.perf_counter() - started
                    cpu = time.thread_time() - cpu
                if round_:  # the first round warms the templates and connections
                    panel.append(seconds)
                    panel_cpu.append(cpu)
                    queries.append(len(counted.captured_queries))
                    sizes.append(len(response.content))
    finally:
        views.__dict__["render"] = original
    if profiler is not None:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)

    template, context = captured[-1]
    request = request_for(queue_path)
    for _ in range(20):
        render_to_string(template, context, request)
    rendered: list[float] = []
    rendered_cpu: list[float] = []
    for _ in range(renders):
        started, cpu = time.perf_counter(), time.thread_time()
        render_to_string(template, context, request)
        rendered.append(time.perf_counter() - started)
        rendered_cpu.append(time.thread_time() - cpu)
    return {
        "root": str(root),
        "template": template,
        "panel_p50": _ms(panel, 50),
        "panel_p95": _ms(panel, 95),
        "panel_cpu_p50": _ms(panel_cpu, 50),
        "panel_queries": max(queries),
        "render_p50": _ms(rendered, 50),
        "render_p95": _ms(rendered, 95),
        "render_cpu_p50": _ms(rendered_cpu, 50),
        "bytes": int(statistics.median(sizes)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--user", default="alice")
    parser.add_argument("--review", default="", help="slug (default: the user's first review)")
    parser.add_argument("--records", type=int, default=40)
    parser.add_argument("--renders", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="profile the panels (stderr)")
    args = parser.parse_args()
    result = measure(
        args.root.resolve(), args.user, args.review, args.records, args.renders, args.profile
    )
    print(
        f"{result['root']}: panel p50 {result['panel_p50']:.2f} / p95 {result['panel_p95']:.2f} ms"
        f" (CPU p50 {result['panel_cpu_p50']:.2f}; {result['panel_queries']} queries); "
        f"render of {result['template']} p50 {result['render_p50']:.2f} / p95 "
        f"{result['render_p95']:.2f} ms (CPU p50 {result['render_cpu_p50']:.2f}), "
        f"{result['bytes']:,} bytes; load {os.getloadavg()[0]:.1f}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
