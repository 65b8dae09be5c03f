"""The project corner: the parts of the product that span the apps, and nothing else.

`reviewer/` is two things: the core app (reviews, members, sources, records, imports,
de-duplication, screening, PRISMA) and the project package. The apps sit in layers —
`extraction` on the core, `analysis` on both — and none of them may reach up. What needs
every app at once lives here, and only here may `extraction` and `analysis` be imported
from within `reviewer/`:

- `urls.py`, the root URLs: the core's `reviewer.urls`, then per review the dashboard, the
  exports page and each app's own `urls.py` (`extraction.urls`, `analysis.urls`);
- `dashboard.py`, a review's home page: screening figures from the core, extraction
  progress, risk-of-bias agreement and the newest analysis runs;
- `exports.py`, the exports page and the one-ZIP bundle of every export (screening files,
  PRISMA, final extraction data, risk of bias, analysis results);
- `management/commands/demo.py`, `manage.py demo`: each app's demo module in turn.

The corner is a small app of its own (`apps.ProjectConfig`, no models) so Django finds
the `demo` command here; a thin command in the core app calling into the corner would be
the core reaching up. `reviewer/settings.py`, `celery.py`, `wsgi.py` and `asgi.py` are
project-level too but stay at the top of `reviewer/`: deployments name them
(`gunicorn reviewer.wsgi`, `celery -A reviewer`), and they import no app code.

The review archive (`reviewer.archive`) spans the apps as well but stays in the core: it
names other apps' models by label through the app registry, not by import (see its
`layout` module). `tests/test_import_graph.py` holds these rules.
"""
