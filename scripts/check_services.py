#!/usr/bin/env python3
"""Check that the services the full test suite needs answer, and tell the shell what to use.

Checks PostgreSQL at DATABASE_URL, Redis at REDIS_URL and Debian's Chromium. Prints shell
lines on stdout (for `eval`): the service URLs exported when both answer, unset otherwise so
the tests run on the embedded default (SQLite, in-memory channel layer) and the tests marked
`services` are skipped. Explanations go to stderr. Exits 1 when a missing piece is required
(REQUIRE_SERVICES=1, and REQUIRE_BROWSER, which defaults to REQUIRE_SERVICES).

Standard library only (psycopg is used when installed); every check gives up after a few seconds.
"""

from __future__ import annotations

import os
import shlex
import socket
import ssl
import sys
from urllib.parse import unquote, urlsplit, urlunsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 3.0

POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "psql", "postgis"}

START_POSTGRES = (
    "start it with `pg_ctlcluster <version> main start` (Debian; `ls /etc/postgresql` gives the version) "
    "or `systemctl start postgresql`, or point DATABASE_URL at a running server"
)
START_REDIS = (
    "start it with `redis-server --daemonize yes --bind 127.0.0.1 --port 6379` "
    "or `systemctl start redis-server`, or point REDIS_URL at a running server"
)
INSTALL_CHROMIUM = "install Debian's Chromium: `apt-get install -y chromium` (as root)"


def say(text: str) -> None:
    print(text, file=sys.stderr)


def without_password(url: str) -> str:
    """Return the URL with its password replaced, fit to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def address(url: str, default_port: int) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port or default_port
    except ValueError:
        port = default_port
    return f"{parts.hostname or '127.0.0.1'}:{port}"


def check_postgres(url: str) -> str | None:
    """Return None when PostgreSQL at the URL accepts a login, else why not."""
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        return f"DATABASE_URL is not a PostgreSQL URL (scheme {parts.scheme!r})"
    try:
        import psycopg
    except ImportError:
        return ping_postgres_port(parts.hostname or "127.0.0.1", parts.port or 5432)
    conninfo = urlunsplit(parts._replace(scheme="postgresql"))
    try:
        psycopg.connect(conninfo, connect_timeout=int(TIMEOUT)).close()
    except psycopg.Error as error:
        reason = " ".join(str(error).split())
        if "does not exist" not in reason:
            return reason
        # pytest-django creates its own test database, so a missing named one does not matter;
        # what matters is that the server accepts this user.
        try:
            psycopg.connect(conninfo, dbname="postgres", connect_timeout=int(TIMEOUT)).close()
        except psycopg.Error as second:
            return " ".join(str(second).split())
    return None


def ping_postgres_port(host: str, port: int) -> str | None:
    """Ask for TLS (SSLRequest) and expect PostgreSQL's one-byte answer; no login needed."""
    request = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as conn:
            conn.sendall(request)
            answer = conn.recv(1)
    except OSError as error:
        return str(error)
    return None if answer in (b"S", b"N") else f"unexpected answer {answer!r}"


def resp_command(*words: str) -> bytes:
    encoded = [word.encode() for word in words]
    return b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(word), word) for word in encoded)


def read_line(conn: socket.socket) -> bytes:
    line = b""
    while not line.endswith(b"\r\n"):
        chunk = conn.recv(1)
        if not chunk:
            break
        line += chunk
    return line.strip()


def check_redis(url: str) -> str | None:
    """Return None when Redis at the URL answers PING with PONG, else why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        return f"REDIS_URL is not a redis:// or rediss:// URL (scheme {parts.scheme!r})"
    host = parts.hostname or "127.0.0.1"
    try:
        port = parts.port or 6379
    except ValueError as error:
        return str(error)
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as raw:
            conn = raw
            if parts.scheme == "rediss":
                conn = ssl.create_default_context().wrap_socket(raw, server_hostname=host)
            conn.settimeout(TIMEOUT)
            if parts.password is not None:
                credentials = [unquote(parts.username)] if parts.username else []
                conn.sendall(resp_command("AUTH", *credentials, unquote(parts.password)))
                answer = read_line(conn)
                if not answer.startswith(b"+OK"):
                    return f"AUTH refused: {answer.decode(errors='replace')}"
            conn.sendall(b"PING\r\n")
            answer = read_line(conn)
    except OSError as error:
        return str(error) or type(error).__name__
    if answer != b"+PONG":
        return f"PING answered {answer.decode(errors='replace')!r} instead of +PONG"
    return None


def check_chromium() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return None
    return f"{CHROMIUM} is missing"


def flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def main() -> int:
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    require_services = flag("REQUIRE_SERVICES")
    require_browser = flag("REQUIRE_BROWSER", default="1" if require_services else "0")

    problems = []
    postgres_problem = check_postgres(database_url)
    if postgres_problem:
        problems.append(
            f"PostgreSQL at {address(database_url, 5432)} (DATABASE_URL={without_password(database_url)}) "
            f"does not answer: {postgres_problem}.\n    To fix: {START_POSTGRES}."
        )
    else:
        say(f"services: PostgreSQL answers at {address(database_url, 5432)}")
    redis_problem = check_redis(redis_url)
    if redis_problem:
        problems.append(
            f"Redis at {address(redis_url, 6379)} (REDIS_URL={without_password(redis_url)}) "
            f"does not answer: {redis_problem}.\n    To fix: {START_REDIS}."
        )
    else:
        say(f"services: Redis answers at {address(redis_url, 6379)}")

    failed = False
    if problems:
        for problem in problems:
            say(("ERROR: " if require_services else "WARNING: ") + problem)
        if require_services:
            say("REQUIRE_SERVICES=1: the tests that need PostgreSQL and Redis must run, so stopping here.")
            failed = True
        else:
            say(
                "WARNING: running on the embedded default (SQLite, in-memory channel layer); "
                "tests marked `services` or `browser` will be skipped. Set REQUIRE_SERVICES=1 to fail instead."
            )
        print("unset DATABASE_URL REDIS_URL")
    else:
        print(f"export DATABASE_URL={shlex.quote(database_url)}")
        print(f"export REDIS_URL={shlex.quote(redis_url)}")

    chromium_problem = check_chromium()
    if chromium_problem:
        if require_browser:
            say(f"ERROR: {chromium_problem}; browser tests must run (REQUIRE_BROWSER=1). To fix: {INSTALL_CHROMIUM}.")
            failed = True
        else:
            say(f"WARNING: {chromium_problem}; tests marked `browser` are skipped. To run them: {INSTALL_CHROMIUM}.")
    else:
        say(f"browser: {CHROMIUM} found")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
