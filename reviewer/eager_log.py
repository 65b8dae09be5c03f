"""Quiet logging for tasks run eagerly, in the calling process (no broker configured).

A worker's log says "Task … succeeded in …" for every task, which is what an operator
reads there. Run eagerly, the same lines land in the middle of a command's output (the
demo, `import_search`) or the development server's console, where nobody asked for
them; so, while tasks run eagerly, the task tracer logs at WARNING. Celery also builds a
message producer for an eager task, and kombu, finding no broker host, warns that it
falls back to 'localhost' — for a connection it never opens; that is dropped too.
"""

from __future__ import annotations

import logging

from celery import current_app


class QuietWhenEager(logging.Filter):
    """Drop records below `level` while Celery runs tasks eagerly (checked per record,
    so a process that switches to a broker logs in full again)."""

    def __init__(self, level: str = "WARNING") -> None:
        super().__init__()
        self.level = logging.getLevelNamesMapping()[level]

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level or not current_app.conf.task_always_eager
