"""Template helpers of the staff console: permission checks, change history, query strings."""

from django import forms, template
from django.db import models
from django.utils.translation import gettext as _

from guanjia.core.history import field_labels, history_for
from guanjia.org.permissions import can as role_can

register = template.Library()


@register.simple_tag
def can(user, kind: str, action: str) -> bool:
    """`{% can user "ledger" "export" as may_export %}`: the role table, for showing buttons."""
    return role_can(user, kind, action)


# Changes recorded under names that are not model fields (see the services' `extra`).
_EXTRA_LABELS = {"occupancy": lambda: _("Occupancy")}


@register.inclusion_tag("core/_history.html")
def history(instance: models.Model, limit: int = 50) -> dict:
    """The change history of an object: time, user, action, and each field's before → after."""
    labels = field_labels(type(instance))
    entries = []
    for change in history_for(instance)[:limit]:
        fields = []
        for name, values in change.changes.items():
            before, after = [*values, None, None][:2] if isinstance(values, list) else (None, values)
            label = labels.get(name) or (_EXTRA_LABELS[name]() if name in _EXTRA_LABELS else name)
            fields.append({"label": label, "before": before, "after": after})
        entries.append({"change": change, "fields": fields})
    return {"entries": entries}


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (None or "" removes one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def control(bound_field, size: str = ""):
    """Render a form field's widget with Tabler's classes (form-control / form-select, is-invalid)."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect | forms.CheckboxInput | forms.HiddenInput):
        return bound_field.as_widget()
    css = "form-select" if isinstance(widget, forms.Select) else "form-control"
    if size:
        css += f" {css}-{size}"
    if bound_field.errors:
        css += " is-invalid"
    existing = widget.attrs.get("class", "")
    return bound_field.as_widget(attrs={"class": f"{existing} {css}".strip()})
