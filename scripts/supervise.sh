#!/usr/bin/env bash
# Run a command and start it again whenever it stops, as a process manager would: `make worker` and
# `make beat` run Celery through this, so a worker that crashes (or is killed) comes back by itself.
# The pause before a restart doubles from 1 s up to 60 s while the command keeps failing fast, and
# starts again from 1 s once it has run for a minute. Ctrl+C or SIGTERM stops the command (Celery
# finishes its current tasks) and this loop. In production use systemd or supervisord (deploy/).
set -u

if [ "$#" = 0 ]; then
    echo "usage: $0 command [arguments...]" >&2
    exit 2
fi

stopping=0
child=""
stop() {
    stopping=1
    if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; fi
}
trap stop INT TERM

delay=1
while :; do
    started=$SECONDS
    "$@" &
    child=$!
    echo "supervise: started $1 (pid $child)" >&2
    status=0
    wait "$child" || status=$?
    # A signal interrupts `wait`; wait on until the command itself has finished.
    while kill -0 "$child" 2>/dev/null; do wait "$child" || status=$?; done
    child=""
    if [ "$stopping" = 1 ]; then
        exit "$status"
    fi
    ran=$((SECONDS - started))
    if [ "$ran" -ge 60 ]; then delay=1; fi
    echo "supervise: $1 stopped (exit status $status) after ${ran} s; starting it again in ${delay} s" >&2
    sleep "$delay" &
    wait $! || true
    if [ "$stopping" = 1 ]; then
        exit "$status"
    fi
    delay=$((delay * 2 > 60 ? 60 : delay * 2))
done
