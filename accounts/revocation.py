"""Access taken away reaches the sockets already open: their consumers are told to check again.

A socket is authorised when it connects. When what it was authorised by changes (a login deactivated
or deleted, a training withdrawn, a client user removed, a widget key rotated, a tenant ended or a site
removed from its allowed origins), the write that changed it calls one of the functions below; after
commit every open socket concerned gets an ``access.changed`` event, checks its access again from the
database and closes (4403) or narrows what it listens to. The groups live here, in the lowest app, so
that every app that revokes something can reach them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

ACCESS_CHANGED = "access.changed"


def user_sockets_group(user_id: int) -> str:
    """Return the group of every socket one login has open (console, dashboards, operations pages)."""
    return f"user.{user_id}.sockets"


def widget_sockets_group(tenant_id: int) -> str:
    """Return the group of every widget socket open on one tenant's key."""
    return f"tenant.{tenant_id}.widgets"


def _tell(group: str) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, {"type": ACCESS_CHANGED})
    except Exception:
        # The change is committed; a socket that misses this is checked again when it reconnects.
        logger.warning("Could not tell group %s that access changed", group, exc_info=True)


def logins_changed_on_commit(*, user_ids: Iterable[int]) -> None:
    """After commit, have the open sockets of these logins check their access again."""
    groups = sorted({user_sockets_group(user_id) for user_id in user_ids})
    transaction.on_commit(lambda: [_tell(group) for group in groups], robust=True)


def widgets_changed_on_commit(*, tenant_id: int) -> None:
    """After commit, have the open widget sockets of this tenant check its key, status and origins again."""
    transaction.on_commit(lambda: _tell(widget_sockets_group(tenant_id)), robust=True)
