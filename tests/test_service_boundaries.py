"""One service boundary per app, checked on the source: consumers never touch the ORM, views and tasks
never reach a model's manager, ``access`` functions only read, and the rule of a visitor's open
conversation is written once (``Conversation.objects.open_of``)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

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


def view_modules() -> Iterator[Path]:
    yield from app_modules("views.py")
    yield from app_modules("*_views.py")


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


def open_rule_copies(source: str) -> list[str]:
    """Return each ``.exclude(status=….CLOSED)``: the open-conversation rule written out again."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _called_name(node) == "exclude":
            for keyword in node.keywords:
                if keyword.arg == "status" and ast.unparse(keyword.value).endswith(".CLOSED"):
                    found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


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
    assert not any(use.startswith("10:") for use in orm_uses(sample))
    assert len(manager_uses(sample)) == 3
    assert sorted(use.split(": ")[1] for use in writes_in_functions(sample, prefix="access_")) == [
        ".save()",
        ".update()",
        "transaction",
    ]
    assert len(open_rule_copies(sample)) == 1


# --- The project's source ----------------------------------------------------------------------------


def test_there_are_consumers_views_and_tasks_to_check():
    assert {where(path) for path in app_modules("consumers.py")} >= {
        "conversations/consumers.py",
        "reporting/consumers.py",
    }
    assert len(list(view_modules())) >= 3
    assert len(list(app_modules("tasks.py"))) >= 3


@pytest.mark.parametrize("path", list(app_modules("consumers.py")), ids=where)
def test_a_consumer_module_does_not_use_the_orm(path):
    assert orm_uses(read(path)) == [], f"{where(path)}: call a selector or a service instead"


@pytest.mark.parametrize("path", [*view_modules(), *app_modules("tasks.py")], ids=where)
def test_views_and_tasks_reach_no_models_manager(path):
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
