"""Views, consumers, tasks and admin reach tenant rows only through a scoping call; every unscoped() says why.

The manager refuses an unscoped query when it runs (tests/tenants/test_scoping.py); this reads the
source, so a query on a path no test exercises is caught as well.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest
from django.apps import apps

from tenants.scoping import TenantOwnedModel

ROOT = Path(__file__).resolve().parents[2]
NOT_PRODUCT = {".venv", "tests", "bench", "migrations", "node_modules", "staticfiles", "locale", "docs", "deploy"}
# The modules that stay one call deep: they reach tenant rows through scoping or access_* functions.
THIN_MODULE_PATTERNS = ("views.py", "*_views.py", "consumers.py", "*_consumers.py", "tasks.py", "*_tasks.py")
THIN_MODULE_PATTERNS += ("admin.py", "*_admin.py", "api.py", "*_api.py")
SCOPING_CALLS = frozenset({"for_tenant", "visible_to", "unscoped"})
MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})


def tenant_owned_model_names() -> frozenset[str]:
    return frozenset(model.__name__ for model in apps.get_models() if issubclass(model, TenantOwnedModel))


def product_modules() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not NOT_PRODUCT.intersection(path.relative_to(ROOT).parts[:-1]) and path.parent != ROOT
    )


def thin_modules() -> list[Path]:
    return [path for path in product_modules() if any(path.match(pattern) for pattern in THIN_MODULE_PATTERNS)]


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def unscoped_manager_uses(source: str, model_names: frozenset[str]) -> list[tuple[int, str]]:
    """Return (line, text) of every ``<TenantOwnedModel>.objects…`` chain that goes through no scoping call."""
    tree = ast.parse(source)
    parents = _parents(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr in MANAGERS):
            continue
        owner = node.value
        owner_name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
        if owner_name not in model_names:
            continue
        calls, link = [], node
        # Walk up the chain: Model.objects.filter(...).for_tenant(t).get()
        while True:
            parent = parents.get(link)
            if isinstance(parent, ast.Attribute) and parent.value is link:
                calls.append(parent.attr)
            elif not (isinstance(parent, ast.Call) and parent.func is link):
                break
            link = parent
        if not SCOPING_CALLS.intersection(calls):
            found.append((node.lineno, ast.get_source_segment(source, node) or ""))
    return found


def unscoped_calls_without_reason(source: str) -> list[int]:
    """Return the lines of ``.unscoped()`` calls with no comment on their line, their statement's, or just above."""
    comments = {
        token.start[0]
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    tree = ast.parse(source)
    parents = _parents(tree)
    missing = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "unscoped":
            statement = node
            while not isinstance(statement, ast.stmt) and statement in parents:
                statement = parents[statement]
            line = node.func.end_lineno
            near = {line, line - 1, statement.lineno, statement.lineno - 1}
            if not near & comments:
                missing.append(line)
    return missing


SAMPLE = """
from conversations.models import Message, Conversation
from workforce.models import Agent

def view(request, tenant, conversation_id):
    everyone = Agent.objects.all()  # not tenant-owned: fine
    ok = Conversation.objects.for_tenant(tenant).get(pk=conversation_id)
    ok_too = Message.objects.filter(seq=1).visible_to(request.user.agent).count()
    bad = Conversation.objects.get(pk=conversation_id)
    also_bad = models.Message.objects.filter(tenant=tenant)
    hidden = Message._default_manager.all()
    # Ops report: every tenant's chats on purpose.
    fine = Conversation.objects.unscoped().count()
    silent = Conversation.objects.unscoped().count()
    return ok, ok_too, bad, also_bad, hidden, fine, silent
"""


def test_the_scan_finds_a_bare_manager_of_a_tenant_owned_model_in_a_sample():
    found = unscoped_manager_uses(SAMPLE, frozenset({"Message", "Conversation"}))
    assert [line for line, _ in found] == [9, 10, 11]
    assert found[0][1] == "Conversation.objects"


def test_the_scan_finds_an_unscoped_call_without_a_reason_in_a_sample():
    assert unscoped_calls_without_reason(SAMPLE) == [14]


def test_the_scan_reads_the_modules_it_should():
    names = {str(path.relative_to(ROOT)) for path in thin_modules()}
    assert {"conversations/consumers.py", "conversations/tasks.py", "conversations/admin.py"} <= names
    assert "tenants/models.py" in {str(path.relative_to(ROOT)) for path in product_modules()}
    assert len(tenant_owned_model_names()) >= 20


@pytest.mark.parametrize("path", thin_modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_views_consumers_tasks_and_admin_reach_tenant_rows_only_through_scoping(path):
    found = unscoped_manager_uses(path.read_text(), tenant_owned_model_names())
    assert found == [], (
        f"{path.relative_to(ROOT)}: a bare manager of a tenant-owned model at {found}; use for_tenant(tenant), "
        f"visible_to(agent), an access_* function or a service, or unscoped() with the reason in a comment"
    )


def test_every_unscoped_query_in_the_product_says_why():
    missing = {
        str(path.relative_to(ROOT)): lines
        for path in product_modules()
        if (lines := unscoped_calls_without_reason(path.read_text()))
    }
    assert missing == {}, f"unscoped() without a reason in a comment on its line or the line above: {missing}"
