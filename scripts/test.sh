#!/usr/bin/env bash
# `make test`: venv with the dev requirements, Chromium, service check, ruff, the layers contract, then pytest.
# Arguments are passed to pytest, which runs on TEST_WORKERS pytest-xdist workers (default 3).
# REQUIRE_SERVICES=1 (as CI sets it) turns every missing service into a failure instead of skipped
# tests; REQUIRE_BROWSER follows it unless set.
set -euo pipefail
cd "$(dirname "$0")/.."

export REQUIRE_SERVICES="${REQUIRE_SERVICES:-0}"
export REQUIRE_BROWSER="${REQUIRE_BROWSER:-$REQUIRE_SERVICES}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
# The tests decide for themselves when Celery runs inline.
unset CELERY_TASK_ALWAYS_EAGER

bash scripts/venv.sh requirements-dev.txt

# Browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing Debian's chromium for the browser tests..."
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
            || echo "WARNING: apt-get could not install chromium." >&2
    else
        echo "NOTE: $chromium is missing and we are not root; install it with: sudo apt-get install -y chromium" >&2
    fi
fi

service_env="$(.venv/bin/python scripts/check_services.py)"
eval "$service_env"

echo "ruff check ."
.venv/bin/ruff check .

echo "lint-imports (the apps import one way: docs/architecture.md)"
.venv/bin/lint-imports --no-cache

# The tests spend most of their time waiting on PostgreSQL, processes and clocks, so more workers than
# cores pay (tests/parallel.py keeps them apart). TEST_WORKERS=0 runs them all in this one process;
# arguments given here come after these, so `-n 0` or `-n 4` among them wins too.
exec .venv/bin/pytest -n "${TEST_WORKERS:-3}" --dist loadfile --no-loadscope-reorder "$@"
