"""Template helpers of the staff console: permission checks, change history, query strings."""

from django import forms, template
from django.db import models
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from guanjia.core.history import field_labels, history_for
from guanjia.org.permissions import can as role_can

register = template.Library()


@register.simple_tag
def can(user, kind: str, action: str) -> bool:
    """`{% can user "ledger" "export" as may_export %}`: the role table, for showing buttons."""
    return role_can(user, kind, action)


# Changes recorded under names that are not model fields (see the services' `extra`).
_EXTRA_LABELS = {"occupancy": lambda: _("Occupancy"), "anonymised": lambda: _("Anonymised")}


@register.inclusion_tag("core/_history.html", takes_context=True)
def history(context, instance: models.Model, limit: int = 50) -> dict:
    """The change history of an object: time, user, action, and each field's before → after.

    Phones are masked for roles that see masked phones elsewhere (`guanjia.privacy.masking`).
    """
    from guanjia.privacy.masking import history_value

    user = context.get("user")
    labels = field_labels(type(instance))
    entries = []
    for change in history_for(instance)[:limit]:
        fields = []
        for name, values in change.changes.items():
            before, after = [*values, None, None][:2] if isinstance(values, list) else (None, values)
            before, after = history_value(user, name, before), history_value(user, name, after)
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
    attrs = {"class": f"{existing} {css}".strip()}
    if isinstance(widget, forms.Select):
        return _select(bound_field, attrs)
    return bound_field.as_widget(attrs=attrs)


def _select(bound_field, attrs: dict) -> str:
    """A <select> built in Python from the widget's own context: the same markup as Django's
    template, without rendering one template per option (long category and staff lists)."""
    widget = bound_field.field.widget
    attrs = bound_field.build_widget_attrs(attrs, widget)
    if bound_field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bound_field.auto_id)
    value = bound_field.value()
    if not widget.is_hidden and bound_field.field.disabled:
        attrs["disabled"] = True
    context = widget.get_context(bound_field.html_name, widget.format_value(value), attrs)["widget"]

    def options(items) -> SafeString:
        return format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((o["value"], flatatt(o["attrs"]), o["label"]) for o in items),
        )

    parts = []
    for group, items, _index in context["optgroups"]:
        if group:
            parts.append(format_html('<optgroup label="{}">{}</optgroup>', group, options(items)))
        else:
            parts.append(options(items))
    return format_html(
        '<select name="{}"{}>{}</select>',
        context["name"],
        flatatt(context["attrs"]),
        mark_safe("".join(parts)),  # noqa: S308 - built by format_html above
    )
