"""The live dashboards' pages: the client dashboard, the operations board and the agents' wall of fame.

Each page shows its figures as they are at load time; the dashboard and the board then follow the
figures over a WebSocket (``reporting.consumers``), and stay readable without it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.admin_site import is_operations_manager_request
from reporting import formatting, selectors
from reporting.selectors import DashboardRefused
from workforce import staffing
from workforce.models import Agent

DASHBOARD_SOCKET_PATH = "/ws/dashboard/"
BOARD_SOCKET_PATH = "/ws/operations/board/"


def _refused(request: HttpRequest, *, title: str, message: str, status: int = 403) -> HttpResponse:
    return render(request, "reporting/refused.html", {"title": title, "message": message}, status=status)


def live_strings() -> dict[str, str]:
    """Return the words the pages' scripts show, in the active language."""
    return {
        # The badge is about this page's connection, not the client's chat being up: it says so.
        "connecting": _("Live updates: connecting…"),
        "live": _("Live updates on"),
        "offline": _("Live updates paused: the figures are as of %(time)s. Reconnecting…"),
        "ended": _("Live updates ended: sign in again to follow the figures."),
        "target_met": _("target met"),
        "target_missed": _("target missed"),
        "no_figure": formatting.NO_FIGURE,
        "seconds_ago": str(selectors.SECONDS_AGO),
        "minutes_ago": str(selectors.MINUTES_AGO),
        "minutes_from_seconds": selectors.MINUTES_FROM_SECONDS,
    }


@never_cache
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show a client user their own tenant's figures (an operations manager: any tenant, by ?tenant=)."""
    try:
        tenant = selectors.dashboard_tenant_for(user=request.user, requested_slug=request.GET.get("tenant", ""))
    except DashboardRefused as refused:
        if refused.code == "choose_tenant":
            return render(request, "reporting/choose_tenant.html", {"tenants": selectors.tenants_to_choose()})
        if refused.code == "not_found":
            return _refused(request, title=_("Client not found"), message=refused.message, status=404)
        return _refused(request, title=_("The dashboard is for our clients"), message=refused.message)
    watching = not hasattr(request.user, "client_profile")
    query = "?" + urlencode({"tenant": tenant.slug}) if watching else ""
    now = timezone.now()
    with translation.override(tenant.language), timezone.override(tenant.zone):
        return render(
            request,
            "reporting/dashboard.html",
            {
                "tenant": tenant,
                "watching": watching,
                "figures": selectors.dashboard_figures(tenant=tenant, now=now),
                "history": selectors.dashboard_history(tenant=tenant, now=now),
                # the zone the page's times are in (and labelled with): the client's
                "live_config": {
                    "socket_path": DASHBOARD_SOCKET_PATH + query,
                    "now": now.isoformat(),
                    "zone": tenant.time_zone,
                },
                "live_strings": live_strings(),
            },
        )


@never_cache
@login_required
def operations_board(request: HttpRequest) -> HttpResponse:
    """Show operations managers every live tenant's queue and staffing, problems first."""
    if not is_operations_manager_request(request):
        return _refused(
            request,
            title=_("The live board is for operations managers"),
            message=_("Ask an operations manager if you need to see every client's queue."),
        )
    now = timezone.now()
    language = translation.get_language()
    return render(
        request,
        "reporting/operations_board.html",
        admin.site.each_context(request)
        | {
            "title": _("Live board"),
            "target_share_percent": round(staffing.TARGET_SHARE * 100),
            "rows": selectors.operations_board(now=now),
            "health": selectors.background_health(now=now),
            "live_config": {
                "socket_path": BOARD_SOCKET_PATH + "?" + urlencode({"lang": language}),
                "now": now.isoformat(),
                "zone": timezone.get_current_timezone_name(),
            },
            "live_strings": live_strings(),
        },
    )


@never_cache
@login_required
def wall_of_fame(request: HttpRequest) -> HttpResponse:
    """Show an agent this week's and last week's best-rated chats of the tenants they are trained for."""
    agent: Agent | None = getattr(request.user, "agent", None)
    if agent is None:
        return _refused(
            request,
            title=_("The wall of fame is for chat agents"),
            message=_("This account has no agent profile."),
        )
    now = timezone.now()
    return render(
        request,
        "reporting/wall_of_fame.html",
        {
            "agent": agent,
            "weeks": [
                (_("This week"), selectors.wall_of_fame_for_agent(agent=agent, now=now)),
                (_("Last week"), selectors.wall_of_fame_for_agent(agent=agent, now=now, weeks_back=1)),
            ],
        },
    )
