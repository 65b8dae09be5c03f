"""Who may import whom, read from the source (no module is imported: the AST is walked).

The apps sit in layers (docs: DESIGN.md, "Layout"):

- the core app, `reviewer/` (reviews, records, screening, …), at the bottom;
- `extraction/` on the core, and `analysis/` on both;
- the project corner, `reviewer/project/` (root URLs, the dashboard, the exports page and
  bundle, the demo), on top: the one place that may import every app.
- `reviewer/settings.py`, `celery.py`, `wsgi.py` and `asgi.py` are project-level too (the
  entry points deployments name); they import no app code.

The rules, each checked on every `.py` under `reviewer/`, `extraction/` and `analysis/`
(migrations left out), for imports at module level (`if TYPE_CHECKING:` blocks included:
a type import is still knowledge of the other app) and inside functions, relative ones
resolved, and `include("…")` / `import_module("…")` / `import_string("…")` with a literal
name, which import a module as surely as an `import` statement does:

1. Outside the corner, `reviewer/` never imports `extraction` or `analysis`.
2. No app reaches up: nothing outside the project-level modules imports them (the core
   app's `reviewer/__init__.py` loads the Celery app, as Celery's Django set-up asks, so
   `celery -A reviewer` and `shared_task` find it; that one line is allowed). Apps use
   `django.conf.settings` and `celery.current_app`/`shared_task` instead.
3. `extraction` never imports `analysis`.
4. No module imports another first-party package's module inside a function (the usual
   way to dodge an import cycle): the dependency goes the right way at module top, or the
   corner does the wiring.

Models of other apps named by label through the app registry (`apps.get_model(
"extraction.Field")`, as the review archive does) are not imports and are not checked.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO_ROOT

APPS = ("reviewer", "extraction", "analysis")
CORNER = "reviewer.project"
PROJECT_LEVEL = (CORNER, "reviewer.settings", "reviewer.celery", "reviewer.wsgi", "reviewer.asgi")
#: (importing module, imported module): the allowed exceptions to rule 2, with the reason
#: in the module docstring.
LOADS_THE_CELERY_APP = {("reviewer", "reviewer.celery")}
#: Calls whose literal first argument names a module that gets imported.
IMPORTING_CALLS = {"include", "import_module", "import_string"}


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    path: str  # file, relative to the repository
    line: int
    target: str  # dotted module name, resolved
    in_function: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (REPO_ROOT / app).rglob("*.py")
        if "migrations" not in path.relative_to(REPO_ROOT).parts
    )


def _is_module(dotted: str) -> bool:
    base = REPO_ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _first_party(dotted: str) -> bool:
    return dotted.split(".")[0] in APPS


def _resolve(name: str) -> str:
    """The longest prefix of `name` that is a module in the tree (`a.b.func` -> `a.b`)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if _is_module(".".join(parts[:end])):
            return ".".join(parts[:end])
    return name


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, path: str) -> None:
        self.module, self.path = module, path
        self.package = module if is_package else module.rpartition(".")[0]
        self.depth = 0  # functions (and lambdas) we are inside
        self.found: list[Import] = []

    def _add(self, node: ast.AST, target: str) -> None:
        line = getattr(node, "lineno", 0)
        found = Import(self.module, self.path, line, target, self.depth > 0)
        if _first_party(target) and found not in self.found:  # `from a import b, c`: once
            self.found.append(found)

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, _resolve(alias.name))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            origin = ".".join([*base, node.module] if node.module else base)
        else:
            origin = node.module or ""
        for alias in node.names:  # `from a import b` imports module a.b when there is one
            candidate = f"{origin}.{alias.name}"
            self._add(node, candidate if _is_module(candidate) else _resolve(origin))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in IMPORTING_CALLS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                self._add(node, _resolve(first.value))
        self.generic_visit(node)


def _imports() -> list[Import]:
    found: list[Import] = []
    for path in _sources():
        collector = _Collector(
            _module_name(path), path.name == "__init__.py", str(path.relative_to(REPO_ROOT))
        )
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found.extend(collector.found)
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _project_level(module: str) -> bool:
    return any(_within(module, top) for top in PROJECT_LEVEL)


def _app(module: str) -> str:
    return module.split(".")[0]


def _report(broken: list[tuple[Import, str]]) -> str:
    return "\n".join(
        f"{i.path}:{i.line}: {'(in a function) ' if i.in_function else ''}"
        f"imports {i.target}: {rule}"
        for i, rule in broken
    )


def rule_breaks(imports: list[Import]) -> list[tuple[Import, str]]:
    broken: list[tuple[Import, str]] = []
    for i in imports:
        if (
            _app(i.importer) == "reviewer"
            and not _within(i.importer, CORNER)
            and _app(i.target) in ("extraction", "analysis")
        ):
            broken.append((i, "rule 1: only reviewer/project/ may import extraction or analysis"))
        if (
            _project_level(i.target)
            and not _project_level(i.importer)
            and (i.importer, i.target) not in LOADS_THE_CELERY_APP
        ):
            broken.append(
                (i, "rule 2: an app never imports the project-level modules (reaches up)")
            )
        if _app(i.importer) == "extraction" and _app(i.target) == "analysis":
            broken.append((i, "rule 3: extraction never imports analysis"))
        if i.in_function and _app(i.importer) != _app(i.target):
            broken.append(
                (
                    i,
                    "rule 4: no function-local import of another app's module "
                    "(import at module top, the dependency going the right way)",
                )
            )
    return broken


def test_the_apps_import_each_other_only_downwards_and_at_module_top() -> None:
    broken = rule_breaks(_imports())
    assert not broken, "Imports that break the layering (tests/test_import_graph.py):\n" + (
        _report(broken)
    )


def test_the_walk_sees_every_kind_of_import() -> None:
    """The checker itself: relative, function-level, TYPE_CHECKING and `include()` imports
    are all recorded and resolved, so the rules above cannot pass by not looking."""
    source = """
from typing import TYPE_CHECKING
from django.urls import include, path
from . import rules
from ..models import Review
import extraction.models
if TYPE_CHECKING:
    from analysis.models import AnalysisRun
urlpatterns = [path("x/", include("extraction.urls"))]
def later():
    from analysis.services.runs import run_start
    return lambda: __import__("os")
"""
    collector = _Collector("reviewer.screening.made_up", False, "reviewer/screening/made_up.py")
    collector.visit(ast.parse(source))
    found = {(i.target, i.line, i.in_function) for i in collector.found}
    assert found == {
        ("reviewer.screening.rules", 4, False),  # `from . import rules`: the module
        ("reviewer.models", 5, False),  # `from ..models import Review`: the package
        ("extraction.models", 6, False),
        ("analysis.models", 8, False),  # under TYPE_CHECKING
        ("extraction.urls", 9, False),  # include("extraction.urls")
        ("analysis.services.runs", 11, True),  # inside a function, name resolved to module
    }
    # and on the tree itself: every source file is read, the corner's URLs are seen
    assert len(_sources()) > 100
    corner_urls = {i.target for i in _imports() if i.importer == CORNER + ".urls"}
    assert {"extraction.urls", "analysis.urls", "reviewer.urls"} <= corner_urls


def test_each_rule_names_the_file_line_and_rule() -> None:
    """Fed the imports today's tree must not have, each rule fires with file:line."""
    made_up = [
        Import("reviewer.views.reviews", "reviewer/views/reviews.py", 7, "analysis.models", True),
        Import("extraction.views.forms", "extraction/views/forms.py", 3, "reviewer.celery", False),
        Import("extraction.selectors", "extraction/selectors.py", 9, "analysis.models", False),
        Import("analysis.views", "analysis/views.py", 5, CORNER + ".dashboard", False),
    ]
    report = _report(rule_breaks(made_up))
    assert "reviewer/views/reviews.py:7: (in a function) imports analysis.models: rule 1" in report
    assert "reviewer/views/reviews.py:7: (in a function) imports analysis.models: rule 4" in report
    assert "extraction/views/forms.py:3: imports reviewer.celery: rule 2" in report
    assert "extraction/selectors.py:9: imports analysis.models: rule 3" in report
    assert f"analysis/views.py:5: imports {CORNER}.dashboard: rule 2" in report
    # the allowed exception, and the corner importing every app, break nothing
    allowed = [
        Import("reviewer", "reviewer/__init__.py", 3, "reviewer.celery", False),
        Import(CORNER + ".exports", "reviewer/project/exports.py", 1, "analysis.models", False),
    ]
    assert rule_breaks(allowed) == []
