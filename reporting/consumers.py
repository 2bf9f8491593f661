"""The dashboards' WebSockets: they only listen, and push fresh figures when a tenant's chats change.

A change is any event on a tenant's queue group (a chat starts, is assigned, closes, a waiting
visitor writes) and, for the board, a wait alert. Changes are debounced: a connection refreshes at
most once per ``MIN_INTERVAL`` seconds, and the sockets of one process share each result, so a tenant's
figures are computed at most once per ``MIN_INTERVAL`` in a process however many people watch. A
periodic refresh catches what sends no event (an agent's first reply, a rating, agents coming online).
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts import revocation
from conversations import access, events
from conversations.consumers import CLOSE_FORBIDDEN
from conversations.protocol import error_frame
from conversations.threads import database_sync_to_async
from conversations.timers import OPERATIONS_GROUP
from reporting import selectors
from reporting.selectors import DashboardRefused
from tenants.models import Tenant

MIN_INTERVAL = 2.0


class _Latest:
    """The newest frame per key computed in this process, shared by its sockets."""

    def __init__(self) -> None:
        self.frames: dict[Any, tuple[float, dict]] = {}
        self.locks: dict[Any, asyncio.Lock] = defaultdict(asyncio.Lock)

    def started_at(self, key: Any) -> float:
        """Return when the newest computation of ``key`` began (monotonic clock), or minus infinity."""
        entry = self.frames.get(key)
        return entry[0] if entry else float("-inf")

    async def get(self, key: Any, compute: Callable[[], Awaitable[dict]], *, fresh_since: float) -> dict:
        """Return the frame of ``key`` computed after ``fresh_since``, computing it if there is none yet."""
        async with self.locks[key]:
            entry = self.frames.get(key)
            if entry is not None and entry[0] >= fresh_since:
                return entry[1]
            started = time.monotonic()
            frame = await compute()
            self.frames[key] = (started, frame)
            return frame


# One store per event loop: asyncio locks belong to the loop they were made in.
_stores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Latest] = weakref.WeakKeyDictionary()


def _latest() -> _Latest:
    return _stores.setdefault(asyncio.get_running_loop(), _Latest())


def _query(scope: dict, name: str) -> str:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name, [""])
    return values[0]


class _LiveFiguresConsumer(AsyncWebsocketConsumer):
    """Shared plumbing: groups, the debounced refresh, the periodic one. Clients send nothing."""

    refresh_seconds = 30.0

    async def connect(self) -> None:
        self.joined: set[str] = set()
        self.pending: asyncio.Task | None = None
        self.ticker: asyncio.Task | None = None
        self.changed_at = time.monotonic()
        self.refreshed_at = float("-inf")
        self.closed = False

    async def start(self) -> None:
        """Send the figures now, then keep them fresh."""
        await self.join(revocation.user_sockets_group(self.user.pk))
        await self.refresh(fresh_since=time.monotonic() - MIN_INTERVAL)
        self.ticker = asyncio.create_task(self._tick())

    async def access_changed(self, event: dict) -> None:
        """The login's access changed: read it again and refresh now (every refresh checks access first)."""
        self.user = await database_sync_to_async(access.login_read_again)(self.user)
        await self.refresh(fresh_since=time.monotonic())

    async def join(self, group: str) -> None:
        if group not in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.add(group)

    async def disconnect(self, code: int) -> None:
        self.closed = True
        for task in (getattr(self, "pending", None), getattr(self, "ticker", None)):
            if task is not None:
                task.cancel()
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = error_frame("read_only", "This socket only sends figures.")
        await self.send(text_data=json.dumps(frame))

    async def dispatch(self, message: dict) -> None:
        # Any event of the groups joined means the figures may have changed: one whose kind this
        # consumer does not know (a new event on the queue group) must not break the dashboard.
        if not message["type"].startswith("websocket.") and getattr(self, get_handler_name(message), None) is None:
            self.changed()
            return
        await super().dispatch(message)

    async def queue_changed(self, event: dict) -> None:
        self.changed()

    async def chat_activity(self, event: dict) -> None:
        self.changed()

    def changed(self) -> None:
        """Note a change and refresh once the interval since the last refresh has passed."""
        self.changed_at = time.monotonic()
        if self.pending is None or self.pending.done():
            self.pending = asyncio.create_task(self._refresh_soon())

    async def _refresh_soon(self) -> None:
        while True:
            last = max(self.refreshed_at, _latest().started_at(self.cache_key()))
            delay = last + MIN_INTERVAL - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            wanted = self.changed_at
            await self.refresh(fresh_since=wanted)
            # A change noted while the figures were being read may not be in them: go round once more.
            if self.changed_at <= wanted or self.closed:
                return

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            self.changed()

    async def refresh(self, *, fresh_since: float) -> None:
        self.refreshed_at = time.monotonic()
        if not await self.still_allowed():
            self.closed = True
            await self.close(code=CLOSE_FORBIDDEN)
            return
        frame = await _latest().get(self.cache_key(), self.compute, fresh_since=fresh_since)
        await self.after_refresh(frame)
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    # Subclasses fill these in.
    def cache_key(self) -> Any:
        raise NotImplementedError

    async def compute(self) -> dict:
        raise NotImplementedError

    async def still_allowed(self) -> bool:
        return True

    async def after_refresh(self, frame: dict) -> None:
        """React to a new frame (e.g. join the groups of tenants that went live)."""


def dashboard_frame(tenant: Tenant) -> dict[str, Any]:
    """Return the dashboard's figures as a frame: the rendered figures and the raw ones the script needs."""
    now = timezone.now()
    with translation.override(tenant.language), timezone.override(tenant.zone):
        figures = selectors.dashboard_figures(tenant=tenant, now=now)
        html = render_to_string("reporting/_dashboard_figures.html", {"figures": figures})
    return {"type": "figures", "tenant": tenant.slug, "html": html, **figures.as_frame()}


class DashboardConsumer(_LiveFiguresConsumer):
    """A client user's dashboard (an operations manager's: any tenant, by ?tenant=): one tenant's figures."""

    async def connect(self) -> None:
        await super().connect()
        self.user = self.scope.get("user")
        self.requested = _query(self.scope, "tenant")
        self.tenant = await self._tenant()
        if self.tenant is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.accept()
        await self.join(events.tenant_queue_group(self.tenant.pk))
        await self.start()

    async def _tenant(self) -> Tenant | None:
        try:
            return await database_sync_to_async(selectors.dashboard_tenant_for)(
                user=self.user, requested_slug=self.requested
            )
        except DashboardRefused:
            return None

    async def still_allowed(self) -> bool:
        # Checked on every refresh, so a login removed from the tenant stops receiving its figures.
        tenant = await self._tenant()
        if tenant is None or tenant.pk != self.tenant.pk:
            return False
        self.tenant = tenant
        return True

    def cache_key(self) -> Any:
        return ("dashboard", self.tenant.pk)

    async def compute(self) -> dict:
        return await database_sync_to_async(dashboard_frame)(self.tenant)


def board_frame(language: str) -> dict[str, Any]:
    """Return the operations board as a frame: the rendered rows and each tenant's raw state."""
    now = timezone.now()
    with translation.override(language):
        rows = selectors.operations_board(now=now)
        html = render_to_string("reporting/_board_rows.html", {"rows": rows})
        health = selectors.background_health(now=now)
        health_html = render_to_string("reporting/_board_health.html", {"health": health})
    return {
        "type": "board",
        "now": now.isoformat(),
        "html": html,
        "health_html": health_html,
        "clock_late": health.clock_late,
        "tenants": [
            {
                "id": row.tenant.pk,
                "slug": row.tenant.slug,
                "waiting": row.queue.waiting,
                "longest_wait_seconds": row.longest_wait_seconds,
                "agents_online": row.staffing.agents_online,
                "agents_needed": row.agents_needed,
                "wait_past_target": row.wait_past_target,
                "understaffed": row.understaffed,
                "pool_agents_working": row.pool.working,
                "pool_agents_needed": row.pool.needed,
            }
            for row in rows
        ],
    }


def _language(requested: str) -> str:
    try:
        return translation.get_supported_language_variant(requested or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


class OperationsBoardConsumer(_LiveFiguresConsumer):
    """The operations board: every live tenant, for operations managers only."""

    refresh_seconds = 10.0

    async def connect(self) -> None:
        await super().connect()
        self.user = self.scope.get("user")
        if not await self.still_allowed():
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.language = _language(_query(self.scope, "lang"))
        await self.accept()
        await self.join(OPERATIONS_GROUP)
        await self.start()

    async def still_allowed(self) -> bool:
        return await database_sync_to_async(selectors.may_watch_operations)(self.user)

    async def wait_alert(self, event: dict) -> None:
        self.changed()

    def cache_key(self) -> Any:
        return ("board", self.language)

    async def compute(self) -> dict:
        return await database_sync_to_async(board_frame)(self.language)

    async def after_refresh(self, frame: dict) -> None:
        for tenant in frame["tenants"]:
            await self.join(events.tenant_queue_group(tenant["id"]))
