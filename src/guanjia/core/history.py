"""Change history of master data.

Services take a `snapshot()` before they change an object and call `record_change()` after
saving it; the difference is stored as one `ObjectChange` row. Values are rendered for
display (choice labels, related object names), and fields a model lists in
`HISTORY_EXCLUDE` are never copied into the history, so protected data stays protected.
"""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import ObjectChange

_ALWAYS_EXCLUDED = {"id", "created_at", "updated_at", "search_text"}


def _tracked_fields(instance: models.Model):
    excluded = _ALWAYS_EXCLUDED | set(getattr(instance, "HISTORY_EXCLUDE", ()))
    for field in instance._meta.concrete_fields:
        if field.name not in excluded:
            yield field


def _display(instance: models.Model, field) -> Any:
    if field.choices:
        return str(getattr(instance, f"get_{field.name}_display")())
    if field.is_relation:
        related = getattr(instance, field.name)
        return str(related) if related is not None else None
    value = getattr(instance, field.attname)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def snapshot(instance: models.Model | None) -> dict[str, Any]:
    """The display values of the tracked fields, to compare after a change."""
    if instance is None or instance.pk is None:
        return {}
    return {field.name: _display(instance, field) for field in _tracked_fields(instance)}


def record_change(
    instance: models.Model,
    user,
    before: dict[str, Any] | None = None,
    *,
    action: str | None = None,
    extra: dict[str, Any] | None = None,
    source: str = "",
) -> ObjectChange | None:
    """Store what changed between `before` and the instance as it is now.

    Returns None when nothing tracked changed, so saving an unchanged form leaves no noise.
    `extra` carries changes that are not plain fields (tags, masked ID numbers).
    """
    after = {} if action == ObjectChange.Action.DELETE else snapshot(instance)
    before = before or {}
    if action is None:
        action = ObjectChange.Action.UPDATE if before else ObjectChange.Action.CREATE
    changes = {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }
    changes.update(extra or {})
    if not changes and action == ObjectChange.Action.UPDATE:
        return None
    return ObjectChange.objects.create(
        user=user if getattr(user, "pk", None) else None,
        content_type=ContentType.objects.get_for_model(instance),
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        action=action,
        changes=changes,
        source=source,
    )


def history_for(instance: models.Model):
    """The change records of one object, newest first."""
    return ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(instance), object_id=instance.pk
    ).select_related("user")


def field_labels(model: type[models.Model]) -> dict[str, str]:
    return {f.name: str(f.verbose_name) for f in model._meta.get_fields() if hasattr(f, "verbose_name")}
