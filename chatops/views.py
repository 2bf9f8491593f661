"""The entry page: send each role where it works."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from accounts import roles


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Redirect to the operations admin, the agent console or the client dashboard."""
    if roles.is_operations_manager(request.user):
        return redirect("admin:index")
    if hasattr(request.user, "agent"):
        return redirect("console")
    if hasattr(request.user, "client_profile"):
        return redirect("dashboard")
    return render(request, "home.html", {"is_client_user": False})


def favicon(request: HttpRequest) -> HttpResponse:
    """Send a browser that asks for /favicon.ico by habit to the icon in the static files."""
    return redirect(static("chatops/favicon.ico"), permanent=True)
