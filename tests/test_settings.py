"""Settings come from the environment: each case runs Django in a fresh process with a controlled environment."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

SETTINGS_SOURCE = (BASE_DIR / "chatops" / "settings.py").read_text()
# Every variable chatops/settings.py reads (env.bool("DEBUG", …), env.db_url("DATABASE_URL", …) …).
SETTINGS_VARIABLES = tuple(sorted(set(re.findall(r'\benv(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', SETTINGS_SOURCE))))

READ_SETTINGS = """
import json
from django.conf import settings
from chatops.celery import app

print(json.dumps({
    "DEBUG": settings.DEBUG,
    "DATABASE_ENGINE": settings.DATABASES["default"]["ENGINE"],
    "DATABASE_NAME": str(settings.DATABASES["default"]["NAME"]),
    "DATABASE_HOST": settings.DATABASES["default"].get("HOST", ""),
    "CHANNEL_LAYERS": settings.CHANNEL_LAYERS,
    "CACHES": settings.CACHES,
    "CELERY_BROKER_URL": app.conf.broker_url,
    "CELERY_TASK_ALWAYS_EAGER": app.conf.task_always_eager,
    "EMAIL_BACKEND": settings.EMAIL_BACKEND,
    "EMAIL_HOST": settings.EMAIL_HOST,
    "EMAIL_PORT": settings.EMAIL_PORT,
    "EMAIL_USE_TLS": settings.EMAIL_USE_TLS,
}))
"""


def run_python(code_or_args: list[str], *, env: dict[str, str], cwd: Path = BASE_DIR) -> subprocess.CompletedProcess:
    """Run the project's Python with only the given settings variables set."""
    clean = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    clean.update(DJANGO_SETTINGS_MODULE="chatops.settings", PYTHONPATH=str(BASE_DIR), **env)
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def read_settings(**env: str) -> dict:
    result = run_python(["-c", READ_SETTINGS], env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """Return a SQLite URL in a temporary folder, so commands that connect never touch the developer's database."""
    return f"sqlite:///{tmp_path / 'db.sqlite3'}"


def test_no_environment_runs_on_the_embedded_default():
    # given no variable at all
    # when
    values = read_settings()

    # then
    assert values["DEBUG"] is True
    assert values["DATABASE_ENGINE"] == "django.db.backends.sqlite3"
    assert values["DATABASE_NAME"] == str(BASE_DIR / "db.sqlite3")
    assert values["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert values["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True
    assert values["CELERY_BROKER_URL"] == "memory://"
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_redis_and_postgres_urls_switch_to_the_real_services():
    # given
    env = {
        "DATABASE_URL": "postgres://chat:secret@db.internal:5433/chatops",
        "REDIS_URL": "redis://cache.internal:6380/2",
    }

    # when
    values = read_settings(**env)

    # then
    assert values["DATABASE_ENGINE"] == "django.db.backends.postgresql"
    assert values["DATABASE_NAME"] == "chatops"
    assert values["DATABASE_HOST"] == "db.internal"
    layer = values["CHANNEL_LAYERS"]["default"]
    # pub/sub: one PUBLISH per group send and no capacity past which events are dropped (docs/performance.md)
    assert layer["BACKEND"] == "chatops.channel_layer.GroupPubSubChannelLayer"
    assert [host["address"] for host in layer["CONFIG"]["hosts"]] == ["redis://cache.internal:6380/2"]
    # pub/sub ignores database numbers: the prefix keeps database 2's events from database 0's processes
    assert layer["CONFIG"]["prefix"] == "db2.asgi"
    cache = values["CACHES"]["default"]
    assert (cache["BACKEND"], cache["LOCATION"]) == (
        "django.core.cache.backends.redis.RedisCache",
        "redis://cache.internal:6380/2",
    )
    assert values["CELERY_BROKER_URL"] == "redis://cache.internal:6380/2"
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False


def test_redis_database_0_keeps_the_channel_layers_own_prefix():
    # given Redis without a database number (database 0), as most deployments have it
    values = read_settings(REDIS_URL="redis://cache.internal:6380")

    # then the layer's channels are named as channels_redis names them
    assert values["CHANNEL_LAYERS"]["default"]["CONFIG"]["prefix"] == "asgi"


def test_email_url_selects_smtp_with_its_host_and_port():
    # given
    env = {"EMAIL_URL": "smtp+tls://mailer:pw@smtp.example.com:587"}

    # when
    values = read_settings(**env)

    # then
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["EMAIL_HOST"] == "smtp.example.com"
    assert values["EMAIL_PORT"] == 587
    assert values["EMAIL_USE_TLS"] is True


def test_production_without_secret_key_refuses_to_start_with_a_clear_message():
    # given
    env = {"DEBUG": "0"}

    # when
    result = run_python(["-c", READ_SETTINGS], env=env)

    # then
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_settings_pass_the_deployment_checklist(sqlite_url):
    # given
    env = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(45)[:60],
        "ALLOWED_HOSTS": "chat.example.com",
        "DATABASE_URL": sqlite_url,
    }

    # when
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=env)

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_every_model_change_has_its_migration(sqlite_url):
    # given
    env = {"DATABASE_URL": sqlite_url}

    # when
    result = run_python(["manage.py", "makemigrations", "--check", "--dry-run"], env=env)

    # then
    assert result.returncode == 0, f"missing migrations:\n{result.stdout}{result.stderr}"
    assert "No changes detected" in result.stdout


def test_the_readme_documents_every_variable_the_settings_read():
    # given
    readme = (BASE_DIR / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", readme, flags=re.MULTILINE))

    # when
    undocumented = sorted(set(SETTINGS_VARIABLES) - documented)

    # then
    assert "DATABASE_URL" in SETTINGS_VARIABLES
    assert undocumented == []
