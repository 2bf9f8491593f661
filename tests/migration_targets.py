"""Where to migrate back to, to test a migration on a database made by the migrations before it."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.graph import MigrationGraph


def targets_before(graph: MigrationGraph, before: dict[str, str]) -> list[tuple[str, str]]:
    """Return each app's last migration that does not build on what comes after ``before`` (app: last one kept).

    Going back, every app stops at its last migration that does not depend on the undone ones: a later one
    of another app (a merge, a field added since) would otherwise mix forwards and backwards steps.
    """
    undone = set()
    for app, name in before.items():
        for child in graph.node_map[(app, name)].children:
            if child.key[0] == app:
                undone.update(graph.backwards_plan(child.key))
    targets = []
    for app, name in graph.leaf_nodes():
        node = graph.node_map[(app, name)]
        while node is not None and node.key in undone:
            node = next((parent for parent in node.parents if parent.key[0] == app), None)
        if node is not None:
            targets.append(node.key)
    return targets


def migrate_to(before: dict[str, str] | None = None):
    """Migrate the test database to just before ``before`` (or to the latest of every app, for None).

    Return the models as they are then (historical models, for writing yesterday's rows).
    """
    graph = MigrationExecutor(connection).loader.graph
    targets = list(graph.leaf_nodes()) if before is None else targets_before(graph, before)
    MigrationExecutor(connection).migrate(targets)
    ContentType.objects.clear_cache()
    return MigrationExecutor(connection).loader.project_state(targets).apps
