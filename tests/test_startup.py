"""Start-up stays lean: loading the project imports none of the heavy libraries.

scipy, scikit-learn, matplotlib, pandas, numpy and openpyxl took `import reviewer.urls` to
about 2.3 s; every web process, worker, manage.py command and test run paid it. They are
imported where they are used (issue 15). This checks which modules are loaded, not how long
loading takes (the machine is shared; bench/startup.py measures the time), so it cannot
flake, and a failure names the import chain that pulled the library in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO_ROOT
from tests.startup_probe import HEAVY, heavy_root


def _loaded_at_start_up() -> dict[str, list[str]]:
    # The settings this run uses (pytest-django sets the variable from pyproject.toml).
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
    result = subprocess.run(
        [sys.executable, "-m", "tests.startup_probe"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    loaded: dict[str, list[str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_loading_django_urls_models_and_admin_imports_no_heavy_library() -> None:
    loaded = _loaded_at_start_up()
    report = "\n".join(
        f"- {library}, imported by: {' -> '.join(chain)}" for library, chain in loaded.items()
    )
    assert not loaded, (
        "Loading Django, every URL, and each app's models, admin, tasks and views imported "
        f"heavy libraries (import them inside the functions that use them):\n{report}"
    )


def test_the_probe_sees_a_heavy_import_and_its_importer() -> None:
    """The probe is not blind: a heavy library imported on the way is reported, with the
    module that imported it."""
    code = (
        "import sys; from tests import startup_probe as p; "
        "r = p.ImportRecorder(); sys.meta_path.insert(0, r); "
        "import importlib.util; importlib.util.find_spec('pandas'); "
        "import openpyxl.utils; "
        "import json; print(json.dumps(r.chains))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    chains = json.loads(result.stdout)
    assert chains["openpyxl"][-1] == "__main__:1"
    assert "pandas" not in chains  # asked whether it is installed, not imported
    assert heavy_root("scipy.stats._stats_py") == "scipy" and "numpy" in HEAVY
    assert heavy_root("import_export.resources") is None
