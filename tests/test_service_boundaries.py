"""One service boundary per app, checked on the source: consumers never touch the ORM, views, admin pages,
tasks and management commands never reach a model's manager, ``access`` functions only read, and the rule
of a visitor's open conversation is written once (``Conversation.objects.open_of``).

The modules are found by what they are, not listed by hand: a consumer module defines a class deriving
from a ``…Consumer``; a view module is named ``views.py``, ``*_views.py``, ``api.py`` or ``*_api.py``, or
serves a route of the project's URLs; an admin module is ``admin.py`` or ``*_admin.py``; a task module is
``tasks.py`` or a management command."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

BASE_DIR = Path(settings.BASE_DIR)
NOT_APPS = {".venv", "tests", "bench", "node_modules", "staticfiles", "scripts", "deploy", "docs", "locale"}

# Calls that only a queryset, a manager, a model or a database connection answers (names a dict, a cache
# or a memo also has, such as get, update, values or count, are left out: ``.objects`` catches those).
ORM_CALLS = {
    "aggregate",
    "all",
    "annotate",
    "bulk_create",
    "bulk_update",
    "create",
    "cursor",
    "defer",
    "delete",
    "distinct",
    "exclude",
    "exists",
    "extra",
    "filter",
    "first",
    "get_or_create",
    "last",
    "only",
    "order_by",
    "prefetch_related",
    "raw",
    "refresh_from_db",
    "save",
    "select_for_update",
    "select_related",
    "update_or_create",
    "values_list",
}
# What writes: an access function may call none of these.
WRITES = {
    "bulk_create",
    "bulk_update",
    "create",
    "delete",
    "get_or_create",
    "save",
    "select_for_update",
    "update",
    "update_or_create",
}
ORM_MODULES = ("django.db.models", "django.db.transaction")
ORM_NAMES_FROM_DJANGO_DB = {"connection", "connections", "transaction", "models"}


def app_modules(name: str) -> Iterator[Path]:
    """Yield the project's modules called ``name`` (e.g. "consumers.py"), outside tests and tools."""
    for path in sorted(BASE_DIR.rglob(name)):
        relative = path.relative_to(BASE_DIR)
        if relative.parts[0] not in NOT_APPS and "migrations" not in relative.parts:
            yield path


def defines_a_consumer(source: str) -> bool:
    """Return whether the source defines a class deriving from a consumer (a base named ``…Consumer``)."""
    return any(
        isinstance(node, ast.ClassDef) and any(ast.unparse(base).endswith("Consumer") for base in node.bases)
        for node in ast.walk(ast.parse(source))
    )


def consumer_modules() -> list[Path]:
    return [path for path in app_modules("*.py") if defines_a_consumer(read(path))]


def _routed_modules(patterns: list, found: set[str]) -> set[str]:
    """Return the modules of the callables every URL pattern routes to, included URLconfs too."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _routed_modules(pattern.url_patterns, found)
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            found.add(getattr(callback, "view_class", getattr(callback, "cls", callback)).__module__)
    return found


def _module_path(module: str) -> Path | None:
    path = Path(getattr(import_module(module), "__file__", "") or "")
    return path if path.is_file() and path.is_relative_to(BASE_DIR) else None


def view_modules() -> list[Path]:
    named = {*app_modules("views.py"), *app_modules("*_views.py"), *app_modules("api.py"), *app_modules("*_api.py")}
    routed = {_module_path(module) for module in _routed_modules(get_resolver().url_patterns, set())}
    ours = set(app_modules("*.py"))
    return sorted(named | {path for path in routed if path in ours})


def admin_modules() -> list[Path]:
    return sorted({*app_modules("admin.py"), *app_modules("*_admin.py")} - set(app_modules("admin_site.py")))


def task_modules() -> list[Path]:
    commands = [path for path in app_modules("*.py") if path.parent.parts[-2:] == ("management", "commands")]
    return sorted({*app_modules("tasks.py"), *commands})


def _called_name(node: ast.Call) -> str | None:
    return node.func.attr if isinstance(node.func, ast.Attribute) else None


def orm_uses(source: str) -> list[str]:
    """Return where the source uses the ORM or the database directly ("line: what")."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            found.append(f"{node.lineno}: .objects")
        elif isinstance(node, ast.Call) and _called_name(node) in ORM_CALLS:
            found.append(f"{node.lineno}: .{_called_name(node)}()")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(ORM_MODULES):
            found.append(f"{node.lineno}: from {node.module} import …")
        elif isinstance(node, ast.ImportFrom) and node.module == "django.db":
            found += [
                f"{node.lineno}: from django.db import {alias.name}"
                for alias in node.names
                if alias.name in ORM_NAMES_FROM_DJANGO_DB
            ]
    return found


def manager_uses(source: str) -> list[str]:
    """Return where the source reaches a model's manager (``Model.objects``)."""
    return [
        f"{node.lineno}: .objects"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr == "objects"
    ]


def writes_in_functions(source: str, *, prefix: str) -> list[str]:
    """Return the writes made inside the functions whose name starts with ``prefix``."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef) or not function.name.startswith(prefix):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and _called_name(node) in WRITES:
                found.append(f"{function.name}:{node.lineno}: .{_called_name(node)}()")
            elif isinstance(node, ast.Name) and node.id == "transaction":
                found.append(f"{function.name}:{node.lineno}: transaction")
    return found


def _names_closed(keyword: ast.keyword) -> bool:
    return keyword.arg == "status" and ast.unparse(keyword.value).endswith(".CLOSED")


def _names_the_open_statuses(keyword: ast.keyword) -> bool:
    statuses = ast.unparse(keyword.value)
    return keyword.arg == "status__in" and ".WAITING" in statuses and ".ACTIVE" in statuses


def _writes_the_open_rule(node: ast.AST) -> bool:
    if isinstance(node, ast.Call) and _called_name(node) == "exclude":
        return any(map(_names_closed, node.keywords))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert) and isinstance(node.operand, ast.Call):
        return any(map(_names_closed, node.operand.keywords))
    return isinstance(node, ast.Call) and any(map(_names_the_open_statuses, node.keywords))


def open_rule_copies(source: str) -> list[str]:
    """Return each ``.exclude(status=….CLOSED)``, ``~Q(status=….CLOSED)`` or ``status__in=[….WAITING,
    ….ACTIVE]``: the open-conversation rule written out again."""
    nodes = ast.walk(ast.parse(source))
    return [f"{node.lineno}: {ast.unparse(node)}" for node in nodes if _writes_the_open_rule(node)]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def where(path: Path) -> str:
    return str(path.relative_to(BASE_DIR))


# --- The checks can fail: each finds what it looks for in a sample ------------------------------------


def test_the_checks_find_orm_manager_writes_and_the_open_rule_in_a_sample():
    # given a consumer-like sample that does everything the checks forbid
    sample = (
        "from django.db import transaction\n"
        "from django.db.models import Q\n"
        "def access_thing(pk):\n"
        "    thing = Thing.objects.filter(pk=pk).select_related('x').first()\n"
        "    thing.save()\n"
        "    Conversation.objects.exclude(status=Conversation.Status.CLOSED)\n"
        "    kept = ~Q(status=Conversation.Status.CLOSED) | Q(pk=pk)\n"
        "    Conversation.objects.filter(status__in=[Conversation.Status.WAITING, Conversation.Status.ACTIVE])\n"
        "    with transaction.atomic():\n"
        "        Thing.objects.update(seen=True)\n"
        "def unrelated(cache):\n"
        "    return cache.get('key'), {}.values(), cache.update({})\n"
    )

    # when / then every check finds its part, and nothing in the harmless function
    assert {use.split(": ")[1] for use in orm_uses(sample)} >= {
        ".objects",
        ".filter()",
        ".select_related()",
        ".first()",
        ".save()",
        "from django.db import transaction",
        "from django.db.models import …",
    }
    assert not any(use.startswith("12:") for use in orm_uses(sample))
    assert len(manager_uses(sample)) == 4
    assert sorted(use.split(": ")[1] for use in writes_in_functions(sample, prefix="access_")) == [
        ".save()",
        ".update()",
        "transaction",
    ]
    assert len(open_rule_copies(sample)) == 3


# --- The project's source ----------------------------------------------------------------------------


def test_the_thin_modules_are_found_by_what_they_are():
    # the consumers' base in its own module, the REST API's views, every app's admin and the commands
    assert {where(path) for path in consumer_modules()} >= {
        "conversations/consumers.py",
        "conversations/inbox.py",
        "reporting/consumers.py",
    }
    assert {where(path) for path in view_modules()} >= {
        "chatops/views.py",
        "conversations/console_views.py",
        "conversations/widget_views.py",
        "integrations/api.py",
        "reporting/views.py",
    }
    assert {where(path) for path in admin_modules()} >= {
        "conversations/admin.py",
        "conversations/rights_admin.py",
        "chatops/staffing_admin.py",
        "tenants/admin.py",
        "workforce/admin.py",
    }
    assert {where(path) for path in task_modules()} >= {
        "chatops/tasks.py",
        "chatops/management/commands/purge_expired_conversations.py",
        "chatops/management/commands/rebuild_visitor_tallies.py",
        "conversations/tasks.py",
        "outbox/tasks.py",
    }


def test_a_consumer_is_recognised_by_its_base_class():
    assert defines_a_consumer("class Chat(OneQueueConsumer):\n    pass\n")
    assert defines_a_consumer("class Live(websocket.AsyncWebsocketConsumer):\n    pass\n")
    assert not defines_a_consumer("class Consumers(Base):\n    pass\nConsumer = 1\n")


@pytest.mark.parametrize("path", consumer_modules(), ids=where)
def test_a_consumer_module_does_not_use_the_orm(path):
    assert orm_uses(read(path)) == [], f"{where(path)}: call a selector or a service instead"


@pytest.mark.parametrize("path", sorted({*view_modules(), *admin_modules(), *task_modules()}), ids=where)
def test_views_admin_tasks_and_commands_reach_no_models_manager(path):
    assert manager_uses(read(path)) == [], f"{where(path)}: call a selector or a service instead"


@pytest.mark.parametrize("path", list(app_modules("access.py")), ids=where)
def test_access_functions_only_read(path):
    assert writes_in_functions(read(path), prefix="") == [], f"{where(path)}: write in a service instead"


def test_the_open_conversation_rule_is_written_only_in_the_models_queryset():
    copies = {
        where(path): open_rule_copies(read(path))
        for path in app_modules("*.py")
        if where(path) != "conversations/models.py"
    }
    assert {path: found for path, found in copies.items() if found} == {}
