"""Load the project as every process does, and say which heavy libraries that imported.

Run as `python -m tests.startup_probe` from the checkout (DJANGO_SETTINGS_MODULE set): it
sets Django up, resolves every URL pattern, imports every project app's models, admin and
Celery tasks, and prints a JSON object `{library: import chain}` for each heavy library with a
module in `sys.modules` (empty when start-up is lean). The chain is the stack of modules
that were importing when the library was first asked for, outermost first, each with its
line, so a failure names the import to move.

Used by tests/test_startup.py; bench/startup.py times the same start-up.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, ModuleType

#: Libraries that cost a web process, worker or manage.py command a second or more between
#: them, and that only some pages, jobs and commands need: each is imported where it is used.
HEAVY = ("matplotlib", "pandas", "scipy", "sklearn", "numpy", "openpyxl")
#: django-import-export and tablib themselves load in a few milliseconds (the extraction
#: sheets' Resource classes are defined with them); their format back-ends and the admin
#: integration pull in the spreadsheet libraries (`import_export.formats.base_formats`
#: imports openpyxl and numpy: 1.1 s), so those stay out.
HEAVY_PARTS = (
    "import_export.admin",
    "import_export.formats",
    "tablib.formats._xlsx",
    "tablib.formats._xls",
    "tablib.formats._ods",
    "tablib.formats._df",
)
REPO_ROOT = Path(__file__).resolve().parent.parent


def heavy_root(name: str) -> str | None:
    """The library (or heavy part) the module `name` belongs to, or None if it is light."""
    top = name.partition(".")[0]
    if top in HEAVY:
        return top
    for part in HEAVY_PARTS:
        if name == part or name.startswith(part + "."):
            return part
    return None


class ImportRecorder(importlib.abc.MetaPathFinder):
    """Records, for each heavy library, who was importing when it was first looked for.

    It finds nothing itself (returns None), so the import goes on as usual. A look-up by
    `importlib.util.find_spec` (tablib asks whether pandas is installed without importing
    it) is not an import and is not recorded.
    """

    def __init__(self) -> None:
        self.chains: dict[str, list[str]] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        root = heavy_root(fullname)
        if root is not None and root not in self.chains:
            chain = _importers(sys._getframe(1))
            if chain is not None:
                self.chains[root] = chain
        return None


def _importers(frame: FrameType | None) -> list[str] | None:
    """The importing modules on the stack, outermost first; None for a find_spec probe."""
    chain: list[str] = []
    while frame is not None:
        module = str(frame.f_globals.get("__name__", "?"))
        if module == "importlib.util":
            return None
        if not module.startswith(("importlib", "_frozen_importlib", "runpy")) and (
            not chain or not chain[-1].startswith(module + ":")
        ):
            chain.append(f"{module}:{frame.f_lineno}")
        frame = frame.f_back
    return chain[::-1]


def load_everything() -> None:
    """What a web process, a worker or a manage.py command loads before its first job."""
    import django
    from django.apps import apps
    from django.conf import settings
    from django.urls import URLPattern, URLResolver, get_resolver

    django.setup()  # every app's models and ready(), and the admin's autodiscovery
    importlib.import_module(settings.ROOT_URLCONF)

    def walk(patterns: Sequence[URLPattern | URLResolver]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            else:
                assert callable(pattern.callback)

    walk(get_resolver().url_patterns)
    for config in apps.get_app_configs():
        if not Path(config.path).is_relative_to(REPO_ROOT):
            continue
        for part in ("models", "admin", "tasks", "urls", "views"):
            name = f"{config.name}.{part}"
            if (Path(config.path) / f"{part}.py").exists() or (
                Path(config.path) / part / "__init__.py"
            ).exists():
                importlib.import_module(name)


def main() -> None:
    sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewer.settings")
    recorder = ImportRecorder()
    sys.meta_path.insert(0, recorder)
    load_everything()
    roots = {heavy_root(name) for name in list(sys.modules)} - {None}
    loaded = {
        root: recorder.chains.get(root, ["(imported before the recorder was installed)"])
        for root in sorted(r for r in roots if r is not None)
    }
    print(json.dumps(loaded))


if __name__ == "__main__":
    main()
