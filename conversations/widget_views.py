"""The widget's HTTP endpoints: its script, its settings and the message form. Public, per widget key.

The script is served to any page. The settings and the form answer only pages of the tenant's
allowed origins (the Origin header, which browsers set on every cross-origin request and scripts
cannot forge), and give such a page the CORS header that lets it read the answer.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import condition, require_safe

from conversations import access, offline
from conversations.widget_script import served_script
from tenants.hours import is_open
from tenants.models import Tenant

WIDGET_SCRIPT = Path(__file__).resolve().parent / "static" / "conversations" / "widget.js"
# Client sites embed /widget.js without a version in the address, so browsers keep it only briefly
# and then revalidate it cheaply with the ETag.
SCRIPT_MAX_AGE = 300
CONFIG_MAX_AGE = 60
PREFLIGHT_MAX_AGE = 600

DEFAULT_GREETING = _("Hi! How can we help you today?")
ERROR_BAD_JSON = _("Send the form as a JSON object.")
ERROR_TOO_LARGE = _("The message is too large.")
ERROR_METHOD = _("This address does not accept that method.")
ERROR_INVALID_FORM = _("Please check the form.")

UI_STRINGS = {
    "open": _("Open chat"),
    "close": _("Close chat"),
    "online": _("We're online"),
    "away": _("Away – leave us a message"),
    "busy": _("Nobody is free right now"),
    "chatting_with": _("You're chatting with %(name)s"),
    "joined": _("%(name)s joined the chat."),
    "typing": _("%(name)s is typing…"),
    "agent": _("Agent"),
    "placeholder": _("Write a message…"),
    "send": _("Send"),
    "sending": _("Sending…"),
    "sent": _("Sent"),
    "seen": _("Seen"),
    "not_sent": _("Not sent"),
    "queue": _("You are number %(position)s in the queue."),
    "wait": _("Expected wait: %(wait)s."),
    "wait_soon": _("less than a minute"),
    "wait_long": _("more than an hour"),
    "nobody": _("Nobody is available to chat right now."),
    "leave_message": _("Leave a message"),
    "ended": _("The chat has ended. Write again any time."),
    "reconnecting": _("Reconnecting…"),
    "offline_intro": _("We can't chat right now. Leave your question and e-mail address and we'll get back to you."),
    "name": _("Name"),
    "optional": _("optional"),
    "email": _("E-mail"),
    "question": _("Your question"),
    "submit": _("Send message"),
    "thanks_title": _("Thank you!"),
    "thanks": _("We got your message and will reply to %(email)s as soon as we can."),
    "back": _("Back to chat"),
    "error": _("Something went wrong. Please try again."),
    "invite_accept": _("Chat with us"),
    "dismiss": _("Not now"),
    "rate": _("How was the chat?"),
    "comment": _("Anything you'd like to add?"),
    "rated": _("Thank you for your feedback!"),
    "transcript": _("E-mail me the transcript"),
    "transcript_sent": _("The transcript is on its way to %(email)s."),
}
# The widget rounds an expected wait up to one of these and says "about N minutes".
WAIT_MINUTES = (1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 45, 60)


def _json_error(code: str, message: object, status: int, **extra: object) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": str(message), **extra}}, status=status)


def _denied(request: HttpRequest, denied: access.AccessDenied) -> JsonResponse:
    # Readable by the asking page (the refusal tells it nothing it may not know), so that the widget can say
    # in the browser's console why there is no chat, instead of a bare CORS failure.
    return _allow_asking_page(
        _json_error(denied.code, denied.message, 404 if denied.code == "unknown_key" else 403), request
    )


def _allow_origin(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    return response


def _vary(response: HttpResponse) -> HttpResponse:
    # The answer depends on the asking page's origin: no cache may serve it to another site.
    patch_vary_headers(response, ["Origin"])
    return response


def _origin(request: HttpRequest) -> str:
    """Return the asking page's origin (chatops' own for a same-origin request, which carries no Origin)."""
    return access.page_origin(
        origin=request.headers.get("Origin", ""),
        fetch_site=request.headers.get("Sec-Fetch-Site", ""),
        own_origin=f"{request.scheme}://{request.get_host()}",
    )


def _tenant(request: HttpRequest, key: str) -> Tenant:
    return access.access_tenant_for_widget(widget_key=key, origin=_origin(request))


def _allow_asking_page(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    # A same-origin request needs no CORS header.
    origin = request.headers.get("Origin", "")
    return _allow_origin(response, origin) if origin else response


@functools.lru_cache(maxsize=4)
def _script(modified_ns: int) -> tuple[bytes, str]:
    body = served_script(WIDGET_SCRIPT.read_text(encoding="utf-8")).encode()
    return body, hashlib.sha256(body).hexdigest()[:32]


def _current_script() -> tuple[bytes, str]:
    # Keyed by modification time, so a deploy (or an edit during development) is served at once.
    return _script(WIDGET_SCRIPT.stat().st_mtime_ns)


@require_safe
@gzip_page
@condition(etag_func=lambda request: _current_script()[1])
def widget_script(request: HttpRequest) -> HttpResponse:
    """Serve the widget's script, the one file a client pastes a tag for."""
    body, _etag = _current_script()
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    patch_cache_control(response, public=True, max_age=SCRIPT_MAX_AGE)
    # Pages that isolate themselves (COEP) may still load it.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def widget_settings(*, tenant: Tenant) -> dict:
    """Return what the widget shows before anyone writes, in the tenant's language."""
    with translation.override(tenant.language):
        return {
            "name": tenant.name,
            "colour": tenant.widget_colour,
            "greeting": tenant.greeting or gettext(DEFAULT_GREETING),
            "language": tenant.language,
            "service_open": is_open(tenant, timezone.now()),
            "strings": {name: str(text) for name, text in UI_STRINGS.items()},
            "wait_minutes": {
                str(n): ngettext("about %(count)d minute", "about %(count)d minutes", n) % {"count": n}
                for n in WAIT_MINUTES
            },
        }


@require_safe
def widget_config(request: HttpRequest, key: str) -> JsonResponse:
    """Answer the widget's settings to a page of one of the tenant's sites."""
    try:
        tenant = _tenant(request, key)
    except access.AccessDenied as denied:
        response = _denied(request, denied)
    else:
        response = _allow_asking_page(JsonResponse(widget_settings(tenant=tenant)), request)
        patch_cache_control(response, private=True, max_age=CONFIG_MAX_AGE)
    return _vary(response)


def _preflight(origin: str) -> HttpResponse:
    response = _allow_origin(HttpResponse(status=204), origin)
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return response


def _form_errors(invalid: ValidationError) -> JsonResponse:
    if hasattr(invalid, "error_dict"):
        fields = {field: [str(message) for message in messages] for field, messages in invalid.message_dict.items()}
        return _json_error("invalid", ERROR_INVALID_FORM, 400, fields=fields)
    if invalid.code == "rate_limited":
        return _json_error("rate_limited", invalid.messages[0], 429)
    return _json_error(invalid.code or "invalid", invalid.messages[0], 400)


def _read_json(request: HttpRequest) -> dict | None:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


# Exempt from CSRF on purpose: client sites call this cross-origin, without cookies or a session, so
# there is no ambient credential a forged request could ride on; the widget key and the Origin check
# against the tenant's allowed sites are what protect it.
@csrf_exempt
def offline_message(request: HttpRequest, key: str) -> HttpResponse:
    """Take the message form: store the question as a waiting chat and e-mail it to the tenant."""
    if request.method not in ("POST", "OPTIONS"):
        response = _json_error("method_not_allowed", ERROR_METHOD, 405)
        response["Allow"] = "POST, OPTIONS"
        return response
    try:
        tenant = _tenant(request, key)
    except access.AccessDenied as denied:
        return _vary(_denied(request, denied))
    if request.method == "OPTIONS":
        return _vary(_preflight(request.headers.get("Origin", "")))
    with translation.override(tenant.language):
        response = _leave_message(request, tenant)
    return _vary(_allow_asking_page(response, request))


def _leave_message(request: HttpRequest, tenant: Tenant) -> JsonResponse:
    try:
        data = _read_json(request)
    except RequestDataTooBig:
        return _json_error("too_large", ERROR_TOO_LARGE, 413)
    if data is None:
        return _json_error("bad_json", ERROR_BAD_JSON, 400)
    try:
        left = offline.leave_offline_message(
            tenant=tenant,
            token=_text(data, "token"),
            name=data.get("name"),
            email=data.get("email"),
            question=data.get("question"),
            client_msg_id=_text(data, "client_msg_id"),
            ip_address=request.META.get("REMOTE_ADDR") or None,
        )
    except ValidationError as invalid:
        return _form_errors(invalid)
    return JsonResponse(
        {"token": left.token, "conversation": left.conversation.pk, "seq": left.message.seq}, status=201
    )
