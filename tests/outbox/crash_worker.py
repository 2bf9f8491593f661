"""A Celery worker that kills itself with SIGKILL (what `kill -9` does) at one step of its first e-mail.

Run as ``python -m tests.outbox.crash_worker STEP <celery worker arguments>``. The steps are
observed where every sender meets them, not in chatops' own code, so the same worker stops an old
and a new way of sending at the same moment:

- ``before_smtp``: opening the connection to the mail server;
- ``during_data``: half-way through the message, after the DATA command (the server has no end of
  data, so it keeps nothing);
- ``after_250``: right after the server accepted the message (its 250 reply to the end of data);
- ``before_commit``: after the 250, at the first database write: in a transaction, once the
  statement ran and before COMMIT; outside one, before the statement.

Only the first e-mail is affected; with no step (or ``none``) this is a plain worker.
"""

from __future__ import annotations

import os
import signal
import smtplib
import sys

STEPS = ("before_smtp", "during_data", "after_250", "before_commit")
WRITES = ("INSERT", "UPDATE", "DELETE")


def die() -> None:
    sys.stderr.write(f"crash_worker: killed at {os.environ.get('CRASH_STEP')}\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class Crash:
    """Where the first e-mail has got to, and the patches that stop the worker at ``step``."""

    def __init__(self, step: str) -> None:
        self.step = step
        self.data_command_sent = False
        self.content_sent = False
        self.accepted = False

    def install(self) -> None:
        connect, putcmd, send, getreply = (
            smtplib.SMTP.connect,
            smtplib.SMTP.putcmd,
            smtplib.SMTP.send,
            smtplib.SMTP.getreply,
        )
        crash = self

        def connect_then_maybe_die(self, *args, **kwargs):
            if crash.step == "before_smtp":
                die()
            return connect(self, *args, **kwargs)

        def putcmd_noting_data(self, cmd, args=""):
            result = putcmd(self, cmd, args)
            crash.data_command_sent = cmd.lower() == "data"
            return result

        def send_then_maybe_die(self, data):
            if crash.data_command_sent and not crash.content_sent:
                crash.content_sent = True
                if crash.step == "during_data":
                    send(self, data[: len(data) // 2])
                    die()
            return send(self, data)

        def getreply_then_maybe_die(self):
            code, message = getreply(self)
            if crash.content_sent and not crash.accepted and code == 250:
                crash.accepted = True
                if crash.step == "after_250":
                    die()
            return code, message

        smtplib.SMTP.connect = connect_then_maybe_die
        smtplib.SMTP.putcmd = putcmd_noting_data
        smtplib.SMTP.send = send_then_maybe_die
        smtplib.SMTP.getreply = getreply_then_maybe_die
        if self.step == "before_commit":
            self._stop_at_first_write_after_acceptance()

    def _stop_at_first_write_after_acceptance(self) -> None:
        from django.db import connections

        crash = self

        def wrapper(execute, sql, params, many, context):
            if not (crash.accepted and sql.lstrip().upper().startswith(WRITES)):
                return execute(sql, params, many, context)
            connection = context["connection"]
            if not connection.in_atomic_block:
                die()
            result = execute(sql, params, many, context)
            die()
            return result

        connections["default"].execute_wrappers.append(wrapper)


def main() -> None:
    step, celery_args = sys.argv[1], sys.argv[2:]
    os.environ["CRASH_STEP"] = step
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatops.settings")
    django.setup()
    from chatops.celery import app

    if step in STEPS:
        Crash(step).install()
    app.worker_main(["worker", *celery_args])


if __name__ == "__main__":
    main()
