"""Tenant scoping cannot be skipped: a tenant-owned model's default manager refuses a query until it is scoped."""

from __future__ import annotations

import pytest
from django.db.models import Count, Q

from conversations.models import Conversation, Message, Visitor
from tenants import scoping
from tenants.models import ServiceException, Tenant
from tenants.scoping import UnscopedQueryError, scoping_lifted
from workforce.models import Qualification


@pytest.fixture
def enforced(monkeypatch):
    """Enforce scoping in this test's own queries too (the suite's are trusted by tests/conftest.py)."""
    monkeypatch.setattr(scoping, "_trusted_prefixes", [])


@pytest.fixture
def chat(tenant):
    visitor = Visitor.objects.create(tenant=tenant)
    conversation = Conversation.objects.create(tenant=tenant, visitor=visitor)
    Message.objects.create(tenant=tenant, conversation=conversation, seq=1, sender=Message.Sender.VISITOR, body="Hei")
    return conversation


@pytest.fixture
def other_chat(other_tenant):
    visitor = Visitor.objects.create(tenant=other_tenant)
    conversation = Conversation.objects.create(tenant=other_tenant, visitor=visitor)
    Message.objects.create(
        tenant=other_tenant, conversation=conversation, seq=1, sender=Message.Sender.VISITOR, body="Cześć"
    )
    return conversation


RUNS = {
    "list": lambda qs: list(qs),
    "bool": lambda qs: bool(qs),
    "len": lambda qs: len(qs),
    "get": lambda qs: qs.get(),
    "first": lambda qs: qs.first(),
    "count": lambda qs: qs.count(),
    "exists": lambda qs: qs.exists(),
    "aggregate": lambda qs: qs.aggregate(n=Count("pk")),
    "values_list": lambda qs: list(qs.values_list("pk", flat=True)),
    "iterator": lambda qs: list(qs.iterator()),
    "in_bulk": lambda qs: qs.in_bulk(),
    "update": lambda qs: qs.update(body="x"),
    "delete": lambda qs: qs.delete(),
}


@pytest.mark.parametrize("run", RUNS.values(), ids=RUNS.keys())
def test_an_unscoped_query_is_refused_however_it_runs(enforced, chat, run):
    # given a bare manager query
    with pytest.raises(UnscopedQueryError, match="Message rows were queried without a tenant scope"):
        # when it runs, then it is refused
        run(Message.objects.filter(seq=1))


def test_a_filter_by_id_of_a_parent_does_not_count_as_scoped(enforced, chat):
    # An id may come from a request: only a row in hand narrows.
    with pytest.raises(UnscopedQueryError):
        Message.objects.filter(conversation_id=chat.pk).count()


def test_excluding_a_tenant_or_or_ing_it_does_not_count_as_scoped(enforced, chat, tenant):
    with pytest.raises(UnscopedQueryError):
        Message.objects.exclude(tenant=tenant).count()
    with pytest.raises(UnscopedQueryError):
        Message.objects.filter(Q(tenant=tenant) | Q(seq=1)).count()
    with pytest.raises(UnscopedQueryError):
        Message.objects.filter(~Q(tenant=tenant)).count()


def test_custom_querysets_of_tenant_owned_models_are_refused_too(enforced, chat):
    with pytest.raises(UnscopedQueryError, match="Conversation"):
        Conversation.objects.open().count()
    with pytest.raises(UnscopedQueryError, match="Qualification"):
        Qualification.objects.completed().count()


def test_for_tenant_narrows_to_the_tenant(enforced, chat, other_chat, tenant):
    assert list(Message.objects.for_tenant(tenant).values_list("body", flat=True)) == ["Hei"]


def test_visible_to_narrows_to_the_agents_trained_tenants(enforced, chat, other_chat, agent):
    assert list(Conversation.objects.visible_to(agent)) == [chat]


@pytest.mark.parametrize(
    "narrow",
    [
        lambda qs, t, c: qs.filter(tenant=t),
        lambda qs, t, c: qs.filter(tenant_id=t.pk),
        lambda qs, t, c: qs.filter(tenant__in=[t.pk]),
        lambda qs, t, c: qs.filter(tenant__in=Tenant.objects.filter(pk=t.pk)),
        lambda qs, t, c: qs.filter(Q(tenant=t), seq=1),
        lambda qs, t, c: qs.filter(conversation__tenant=t),
        lambda qs, t, c: qs.filter(conversation=c),
        lambda qs, t, c: qs.filter(conversation__in=[c]),
        lambda qs, t, c: qs.filter(conversation__in=Conversation.objects.for_tenant(t)),
    ],
    ids=[
        "tenant",
        "tenant_id",
        "tenant__in ids",
        "tenant__in queryset",
        "Q(tenant)",
        "a relation's tenant",
        "a parent row in hand",
        "parent rows in hand",
        "a scoped queryset of parents",
    ],
)
def test_a_filter_on_the_tenant_or_on_rows_in_hand_counts_as_scoped(enforced, chat, other_chat, tenant, narrow):
    assert list(narrow(Message.objects.all(), tenant, chat).values_list("body", flat=True)) == ["Hei"]


def test_an_unscoped_queryset_of_parents_does_not_narrow(enforced, chat):
    with pytest.raises(UnscopedQueryError, match="Message"):
        Message.objects.filter(conversation__in=Conversation.objects.filter(last_seq=1)).count()


def test_unscoped_says_a_query_across_tenants_on_purpose(enforced, chat, other_chat):
    assert Message.objects.unscoped().count() == 2
    assert Message.objects.filter(seq=1).unscoped().order_by("body").first().body == "Cześć"


def test_related_managers_are_narrowed_by_their_parent_row(enforced, chat, other_chat, tenant):
    assert [m.body for m in chat.messages.all()] == ["Hei"]
    assert tenant.conversation_set.count() == 1
    (prefetched,) = Conversation.objects.for_tenant(tenant).prefetch_related("messages")
    assert [m.body for m in prefetched.messages.all()] == ["Hei"]


def test_the_scoping_lifted_block_lets_every_query_run(enforced, chat, other_chat):
    with scoping_lifted():
        assert Message.objects.count() == 2
    with pytest.raises(UnscopedQueryError):
        Message.objects.count()


def test_djangos_own_machinery_keeps_working_with_scoping_enforced(enforced, chat, tenant, other_tenant):
    # given rows reached through a scoped query
    message = Message.objects.for_tenant(tenant).get()
    # then following a foreign key, saving, refreshing, validating and bulk updating all work
    assert message.conversation == chat
    message.body = "Moi"
    message.full_clean()
    message.save()
    message.refresh_from_db()
    assert message.body == "Moi"
    message.body = "Terve"
    Message.objects.bulk_update([message], ["body"])
    assert chat.messages.get().body == "Terve"
    # and deleting a tenant cascades through all its tenant-owned rows
    ServiceException.objects.create(tenant=other_tenant, date="2026-12-24", closed=True)
    other_tenant.delete()
    with scoping_lifted():
        assert ServiceException.objects.count() == 0


def _queryset_asked_for_by(module: str):
    namespace = {"__name__": module, "Message": Message}
    exec(compile("queryset = Message.objects.filter(seq=1)", f"<{module}>", "exec"), namespace)  # noqa: S102
    return namespace["queryset"]


def test_the_suites_own_queries_are_trusted_and_nobody_elses(chat):
    # given the suite's trust (tests/conftest.py), a test module's query runs
    assert _queryset_asked_for_by("tests.tenants.sample").count() == 1
    # but one asked for by product code is refused, even while a test runs it
    with pytest.raises(UnscopedQueryError):
        _queryset_asked_for_by("conversations.sample").count()
    with pytest.raises(UnscopedQueryError):
        _queryset_asked_for_by("testsuite_lookalike").count()


@pytest.mark.parametrize(
    ("who", "path", "lifted"),
    [
        ("ops_manager", "/admin/conversations/conversation/", True),
        ("client_user", "/admin/conversations/conversation/", False),
        ("ops_manager", "/dashboard/", False),
    ],
)
def test_only_an_operations_managers_admin_requests_run_with_scoping_lifted(request, rf, who, path, lifted):
    # given the middleware and a request by someone to somewhere
    from chatops.middleware import OpsAdminAcrossTenantsMiddleware

    seen = []
    middleware = OpsAdminAcrossTenantsMiddleware(lambda _request: seen.append(scoping._lifted.get()))
    user = request.getfixturevalue(who)
    http_request = rf.get(path)
    http_request.user = getattr(user, "user", user)

    # when it passes through
    middleware(http_request)

    # then scoping is lifted for the ops admin only
    assert seen == [lifted]
