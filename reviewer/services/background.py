"""One background thread per web process for the eager jobs of the quick start.

Without a broker (the quick start) Celery runs a task where it is queued. A retrain of
the relevance ranking takes 1–2 s at 20,000 records; run in the request's thread, even
after the response was sent (`after_response`), it held the server's thread: the next
decision of the same reviewer waited for it (the bench measured p95 1.8 s). Here such
work goes to one daemon thread of the process instead, so no request ever waits for it:

- `submit(key, work)`: run `work` in the thread, soon. Work with the same `key` (the same
  reviewer's retrain) that is still waiting is coalesced: one pending run per key, which
  reads the newest labels when it starts anyway.
- The thread closes its database connection after each piece of work, so it never keeps
  one open (or inside a transaction) while idle.
- Outside a request (a management command, the shell, the demo, a test calling a
  service) work runs at once, as before: nobody waits for a page there, and the caller
  may go on writing the same rows (an archive being restored), which a concurrent retrain
  would deadlock with.
- Work queued while this thread's caller is still inside a transaction (a test's wrapping
  transaction: on-commit callbacks run inside it) runs in the caller's thread after the
  response instead (`after_response`): another connection could not see its rows yet.
- While it works, the interpreter switches threads more often (`SWITCH_INTERVAL`), so a
  request waits less for the interpreter lock the retrain holds.
- `wait_idle` lets the tests and the bench wait until the queue is empty.

A failure is logged; the job services record their own failures on their rows.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.db import connection, connections

from reviewer.services.after_response import in_request, run_after_response

logger = logging.getLogger(__name__)

#: The interpreter's thread switch interval while the thread works (Python's default is
#: 5 ms). A request thread shares the interpreter lock with the retrain; each time it comes
#: back from the database it waits for the lock up to this long, a request has a dozen
#: such waits: at 5 ms a decision took up to ~100 ms longer during a retrain.
SWITCH_INTERVAL = 0.0005

_lock = threading.Condition()
_pending: OrderedDict[Hashable, Callable[[], object]] = OrderedDict()
_busy = False
_thread: threading.Thread | None = None


def submit(key: Hashable, work: Callable[[], object]) -> None:
    """Run `work` in the background thread (see the module docstring)."""
    global _thread
    if not in_request():  # a command, the shell, the demo, a service called by a test
        work()
        return
    if connection.in_atomic_block:  # its rows are not visible to another connection yet
        run_after_response(work)
        return
    with _lock:
        _pending[key] = work  # a run of the same key still waiting is replaced, not added
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_loop, name="reviewer-background", daemon=True)
            _thread.start()
        _lock.notify_all()


def _loop() -> None:
    global _busy
    while True:
        with _lock:
            while not _pending:
                _lock.wait()
            _, work = _pending.popitem(last=False)
            _busy = True
        switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        try:
            work()
        except Exception:
            logger.exception("Background work failed")
        finally:
            sys.setswitchinterval(switch)
            connections.close_all()  # never idle with a connection (or a transaction) open
            with _lock:
                _busy = False
                _lock.notify_all()


def wait_idle(timeout: float = 60) -> bool:
    """Wait until nothing is pending or running (True), or `timeout` seconds (False)."""
    with _lock:
        return _lock.wait_for(lambda: not _pending and not _busy, timeout)
