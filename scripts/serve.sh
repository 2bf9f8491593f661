#!/usr/bin/env bash
# `make demo` (with --seed) and `make run`: venv, migrate, optional demo data, static files, daphne.
# With no environment set this runs on the embedded default: SQLite file db.sqlite3, in-memory
# channel layer, Celery inline, e-mail printed to the console.
set -euo pipefail
cd "$(dirname "$0")/.."

seed=0
if [ "${1:-}" = "--seed" ]; then seed=1; fi
host="${HOST:-127.0.0.1}"
port="${PORT:-8000}"
# Links printed by the seed and shown in the admin (embed snippet) point at where this serves.
export SITE_URL="${SITE_URL:-http://$host:$port}"

bash scripts/venv.sh requirements.txt
python=.venv/bin/python

"$python" manage.py migrate --noinput
if [ "$seed" = 1 ]; then
    "$python" manage.py seed_demo
fi

# With DEBUG on whitenoise serves static files straight from the apps; with it off they must be collected.
debug="$(DJANGO_SETTINGS_MODULE=chatops.settings "$python" -c 'from django.conf import settings; print(int(settings.DEBUG))')"
if [ "$debug" != 1 ]; then
    "$python" manage.py collectstatic --noinput --verbosity 0
fi

echo
echo "chatops is starting at http://$host:$port/"
echo "  Django admin (operations managers): http://$host:$port/admin/"
if [ "$seed" = 1 ]; then
    echo "  Log in with the demo logins printed above (also in README.md)."
fi
echo "  Stop with Ctrl+C."
echo
# The live chat's clocks (grace periods, re-offering, long-wait alerts). In production Celery beat
# runs them; without REDIS_URL there is no broker, so a small loop does it beside daphne.
redis_url="$(DJANGO_SETTINGS_MODULE=chatops.settings "$python" -c 'from django.conf import settings; print(settings.REDIS_URL)')"
if [ -z "$redis_url" ]; then
    "$python" manage.py live_timers &
    timers=$!
    trap 'kill "$timers" 2>/dev/null || true' EXIT
fi
.venv/bin/daphne -b "$host" -p "$port" chatops.asgi:application
