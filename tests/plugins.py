"""Skip or fail the tests that need real services, by their markers.

`services`: needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL). `browser`: needs Debian's
Chromium. Without them the tests are skipped with the reason, so a plain `pytest` runs on the
embedded default; with REQUIRE_SERVICES=1 (CI) they fail instead. REQUIRE_BROWSER follows
REQUIRE_SERVICES unless set.
"""

from __future__ import annotations

import os

import pytest

CHROMIUM_PATH = "/usr/bin/chromium"


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def services_required() -> bool:
    return _flag("REQUIRE_SERVICES")


def browser_required() -> bool:
    return _flag("REQUIRE_BROWSER", default="1" if services_required() else "0")


def missing_services() -> str | None:
    """Say which service is not configured, or None when PostgreSQL and Redis both are."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return f"needs PostgreSQL (set DATABASE_URL=postgres://…); the database is {engine.rsplit('.', 1)[-1]}"
    if not settings.REDIS_URL:
        return "needs Redis (set REDIS_URL=redis://…); the channel layer is in-memory"
    return None


def missing_browser() -> str | None:
    """Say why the browser tests cannot run, or None when they can."""
    if not os.access(CHROMIUM_PATH, os.X_OK):
        return f"needs Chromium at {CHROMIUM_PATH} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the playwright package (pip install -r requirements-dev.txt)"
    return None


def skip_or_fail(reason: str, *, required: bool, switch: str) -> None:
    """Skip the current test, or fail it when the environment insists on the missing piece."""
    if required:
        pytest.fail(f"{reason} — required because {switch}=1", pytrace=False)
    pytest.skip(reason)


def _availability(marker: str, reason: str | None, *, required: bool, switch: str) -> str:
    if not reason:
        return f"{marker}: available"
    consequence = f"tests marked `{marker}` fail ({switch}=1)" if required else f"tests marked `{marker}` are skipped"
    return f"{marker}: NOT available, {consequence}: {reason}"


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings

    database = settings.DATABASES["default"]
    where = f"{database['ENGINE'].rsplit('.', 1)[-1]} {database.get('HOST') or ''}".strip()
    return [
        _availability("services", missing_services(), required=services_required(), switch="REQUIRE_SERVICES")
        + f" (database: {where}; channel layer: {settings.CHANNEL_LAYERS['default']['BACKEND']})",
        _availability("browser", missing_browser(), required=browser_required(), switch="REQUIRE_BROWSER"),
    ]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture, so a skipped test never creates a database or starts a process.
    if item.get_closest_marker("services"):
        reason = missing_services()
        if reason:
            skip_or_fail(reason, required=services_required(), switch="REQUIRE_SERVICES")
    if item.get_closest_marker("browser"):
        reason = missing_browser()
        if reason:
            skip_or_fail(reason, required=browser_required(), switch="REQUIRE_BROWSER")


@pytest.fixture(autouse=True)
def _frozen_time(request: pytest.FixtureRequest):
    """Stop the clock at the moment a `frozen_time(moment)` marker names, for the whole test.

    A test that passes a fixed `now` to one call and lets the next read the real clock passes on the
    day it was written and fails later; with the marker every `timezone.now()` is that moment.
    """
    marker = request.node.get_closest_marker("frozen_time")
    if marker is None:
        yield None
        return
    import time_machine

    with time_machine.travel(marker.args[0], tick=False) as traveller:
        yield traveller
