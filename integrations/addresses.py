"""Where a webhook may go: public http(s) addresses only, so nobody sends our signed requests into our network.

An address is checked when an endpoint is saved (``check_url``), and again at every attempt, where the
connection goes to an address just checked (``PinnedHTTPHandler``): a host name that resolved to a public
address when it was saved may point inside later. Refused are schemes other than https (http too where
``WEBHOOK_ALLOW_HTTP`` is on: development), host names that do not resolve, and any whose addresses
include a loopback, private, shared, link-local, multicast, reserved or unspecified one. Host names listed
in ``WEBHOOK_ALLOWED_INTERNAL_HOSTS`` skip the address check (a CRM on the development machine, the tests).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
from urllib import request as urlrequest
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

ERROR_SCHEME = _("Use an https:// address.")
ERROR_HTTPS = _("Use an https:// address: plain http is allowed only in development (WEBHOOK_ALLOW_HTTP).")
ERROR_NO_HOST = _("The address has no host name.")
ERROR_UNRESOLVED = _("The host name %(host)s does not resolve to an address.")
ERROR_INTERNAL = _(
    "%(host)s points into a private network (%(address)s): webhooks go only to public addresses. "
    "For development, list the host in WEBHOOK_ALLOWED_INTERNAL_HOSTS."
)


class RefusedAddress(OSError):
    """A webhook address chatops does not send to; the message says why, in the current language."""


def is_public(address: str) -> bool:
    """Say whether an IP address is a public one (an IPv4-mapped IPv6 address is judged as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    inside = ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
    return ip.is_global and not (inside or ip.is_reserved or ip.is_unspecified)


def resolve(host: str, port: int) -> list[str]:
    """Return the addresses a host name resolves to (an IP literal: itself), in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise RefusedAddress(ERROR_UNRESOLVED % {"host": host}) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _allowed_internal(host: str) -> bool:
    return host.lower() in {name.lower() for name in settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS}


def safe_addresses(host: str, port: int) -> list[str]:
    """Return the addresses of a host that a webhook may connect to; refuse it if any is not public."""
    found = resolve(host, port)
    if not found:
        raise RefusedAddress(ERROR_UNRESOLVED % {"host": host})
    if not _allowed_internal(host):
        for address in found:
            if not is_public(address):
                raise RefusedAddress(ERROR_INTERNAL % {"host": host, "address": address})
    return found


def check_scheme(url: str) -> tuple[str, int]:
    """Refuse a URL that is not https (or http where allowed), or has no host; return its host and port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedAddress(ERROR_SCHEME)
    if scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise RefusedAddress(ERROR_HTTPS)
    if not parts.hostname:
        raise RefusedAddress(ERROR_NO_HOST)
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise RefusedAddress(ERROR_NO_HOST) from None
    return parts.hostname, port


def check_url(url: str) -> None:
    """Refuse (RefusedAddress) a URL chatops must not send a webhook to; see the module docstring."""
    host, port = check_scheme(url)
    safe_addresses(host, port)


def _pinned_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, **kwargs):
    """Connect to the first address of the host that answers, among those just checked."""
    host, port = address
    failure: OSError | None = None
    for checked in safe_addresses(host, port):
        try:
            return socket.create_connection((checked, port), timeout, source_address, **kwargs)
        except OSError as error:
            failure = error
    raise failure or RefusedAddress(ERROR_UNRESOLVED % {"host": host})


class _Pinned:
    """A connection of http.client that connects through ``_pinned_connection`` (TLS still checks the host name)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # http.client opens its socket through the instance's ``_create_connection``.
        self._create_connection = _pinned_connection


class _PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    pass


class _PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    pass


class PinnedHTTPHandler(urlrequest.HTTPHandler):
    """Open http:// addresses only at a checked address of their host."""

    def http_open(self, req):
        return self.do_open(_PinnedHTTPConnection, req)


class PinnedHTTPSHandler(urlrequest.HTTPSHandler):
    """Open https:// addresses only at a checked address of their host."""

    def https_open(self, req):
        return self.do_open(_PinnedHTTPSConnection, req, context=self._context)
