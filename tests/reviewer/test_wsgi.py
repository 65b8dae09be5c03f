"""reviewer.wsgi refuses to start with DEBUG off until `collectstatic` has run, saying so,
instead of answering every page with a 500."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def production(static_root: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "x7#kq!v2m@p9z$w4r8t1y6u3i0o5a-s_d+f=g*h^j&k(l)z;x:c,v.b/n?m",
        "ALLOWED_HOSTS": "reviews.example.org",
        "STATIC_ROOT": str(static_root),
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )


def test_the_server_will_not_start_before_collectstatic_and_says_what_to_run(tmp_path) -> None:
    started = run(["-c", "import reviewer.wsgi"], production(tmp_path / "static"))

    assert started.returncode != 0
    assert "Static files have not been collected" in started.stderr
    assert "python manage.py collectstatic --noinput" in started.stderr


@pytest.mark.slow
def test_the_server_starts_and_serves_a_page_once_static_files_are_collected(tmp_path) -> None:
    env = production(tmp_path / "static")
    collected = run(["manage.py", "collectstatic", "--noinput", "-v0"], env)
    assert collected.returncode == 0, collected.stderr
    # A database with an account: on a fresh install (no accounts) the login page sends
    # the first visitor to "Create the first account" instead.
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    migrated = run(["manage.py", "migrate", "-v0"], env)
    assert migrated.returncode == 0, migrated.stderr
    made = run(
        ["manage.py", "shell", "-c", "from reviewer.models import User; User.objects.create()"],
        env,
    )
    assert made.returncode == 0, made.stderr

    page = run(
        [
            "-c",
            "from reviewer.wsgi import application\n"
            "from django.test import Client\n"
            "r = Client(SERVER_NAME='reviews.example.org').get('/accounts/login/', secure=True)\n"
            "print(r.status_code, b'/static/css/app.' in r.content)",
        ],
        env,
    )
    assert page.returncode == 0, page.stderr
    assert page.stdout.split() == ["200", "True"]
