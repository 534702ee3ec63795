"""Configuration read on every intake, kept in memory per process for a few seconds.

SLA policies, company calendars, routing rules and the category tree are edited by
administrators now and then and read by every new request (several queries each time otherwise).
Saving or deleting one of them clears this process's copies at once; other web and worker
processes pick the change up within `TTL` seconds. Only the rules' conditions are kept: the
round-robin pointer and the team are read under a lock when a rule is used (routing.next_in_turn).
"""

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import Category, CompanyCalendar, RoutingRule, SlaPolicy

TTL = 10.0

_lock = threading.Lock()
_store: dict[Any, tuple[float, Any]] = {}


def cached(key: Any, load: Callable[[], Any]) -> Any:
    """`load()`, or its result kept from less than `TTL` seconds ago."""
    now = time.monotonic()
    hit = _store.get(key)
    if hit is not None and now - hit[0] < TTL:
        return hit[1]
    value = load()
    with _lock:
        _store[key] = (now, value)
    return value


def clear(**_kwargs) -> None:
    with _lock:
        _store.clear()


def active_policies() -> list[SlaPolicy]:
    """Every active SLA policy in matching order (`SlaPolicy.Meta.ordering`)."""
    return cached("policies", lambda: list(SlaPolicy.objects.filter(active=True)))


def calendar_rows() -> dict[int, CompanyCalendar]:
    return cached("calendars", lambda: {row.company_id: row for row in CompanyCalendar.objects.all()})


def active_rules() -> list[RoutingRule]:
    """Every active routing rule in matching order, with its department."""
    return cached("rules", lambda: list(RoutingRule.objects.filter(active=True).select_related("department")))


def category_parents() -> dict[int, int | None]:
    """The category tree as id → parent id."""
    return cached("categories", lambda: dict(Category.objects.order_by().values_list("pk", "parent_id")))


def _load_categories() -> dict[int, Category]:
    nodes = {c.pk: c for c in Category.objects.all()}
    for node in nodes.values():
        # Parents linked in memory, so `lineage()` and `path` need no query. Shared: read, never change.
        node.parent = nodes.get(node.parent_id) if node.parent_id else None
    return nodes


def category(category_id: int | None) -> Category | None:
    """The category with its ancestors loaded, or None when there is no such category."""
    return cached("category_nodes", _load_categories).get(category_id)


def descendant_ids(category_id: int) -> set[int]:
    """The category and all its descendants."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in category_parents().items():
        children.setdefault(parent, []).append(pk)
    found, todo = set(), [category_id]
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo.extend(children.get(node, []))
    return found


for _model in (SlaPolicy, CompanyCalendar, RoutingRule, Category):
    post_save.connect(clear, sender=_model, dispatch_uid=f"guanjia-config-{_model.__name__}-save")
    post_delete.connect(clear, sender=_model, dispatch_uid=f"guanjia-config-{_model.__name__}-delete")
m2m_changed.connect(clear, sender=RoutingRule.team.through, dispatch_uid="guanjia-config-rule-team")
