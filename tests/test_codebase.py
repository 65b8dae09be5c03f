"""The checks CI runs besides the tests: formatting, lint, and no missing migration."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from django.core.management import call_command

from tests.conftest import REPO_ROOT


def _ruff() -> list[str]:
    ruff = shutil.which("ruff", path=str(REPO_ROOT / ".venv" / "bin")) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed: pip install -r requirements-dev.txt")
    return [ruff]


def test_code_is_formatted() -> None:
    result = subprocess.run(
        [*_ruff(), "format", "--check", "."], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_lint_passes() -> None:
    result = subprocess.run([*_ruff(), "check", "."], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_no_missing_migrations() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_production_settings_pass_deploy_checks() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "x7#kq!v2m@p9z$w4r8t1y6u3i0o5a-s_d+f=g*h^j&k(l)z;x:c,v.b/n?m",
        "ALLOWED_HOSTS": "reviews.example.org",
        "DATABASE_URL": "postgres://app@db.example.org:5432/reviews",
        "REDIS_URL": "redis://cache.example.org:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_types_check_strictly() -> None:
    mypy = shutil.which("mypy", path=str(REPO_ROOT / ".venv" / "bin")) or shutil.which("mypy")
    if mypy is None:
        pytest.skip("mypy is not installed: pip install -r requirements-dev.txt")
    result = subprocess.run(
        [mypy, "reviewer", "extraction", "analysis"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
