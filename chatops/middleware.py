"""Middleware of the project as a whole."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from accounts.admin_site import is_operations_manager_request
from tenants.scoping import scoping_lifted


class OpsAdminAcrossTenantsMiddleware:
    """Run the operations admin's requests with tenant scoping lifted: it works across every tenant by design.

    Only an operations manager's requests under the admin get this; everybody else's queries stay
    scoped wherever they go. Rendering happens inside the block, since a page's querysets run late.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self._admin_prefix: str | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        if request.path_info.startswith(self._admin_prefix) and is_operations_manager_request(request):
            with scoping_lifted():
                return self.get_response(request)
        return self.get_response(request)
