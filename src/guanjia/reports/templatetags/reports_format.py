"""How report figures print: rates as 92.5%, hours with one decimal, nothing to judge as a dash."""

from django import template
from django.utils.translation import gettext as _

from guanjia.reports.metrics import Rate

register = template.Library()

DASH = "—"


@register.filter
def percent(rate: Rate | None) -> str:
    """92.5%; a dash when nothing could be judged (denominator 0)."""
    if rate is None or rate.percent is None:
        return DASH
    return f"{rate.percent:.1f}%"


@register.filter
def fraction(rate: Rate | None) -> str:
    """17 / 20: what a rate is made of, for the tooltip and the accessible label."""
    if rate is None:
        return ""
    return f"{rate.numerator} / {rate.denominator}"


@register.filter
def on_time(figures, kind: str) -> Rate:
    return figures.on_time[kind]


@register.filter
def hours(value: float | None) -> str:
    if value is None:
        return DASH
    return _("%(hours)s h") % {"hours": f"{value:.1f}"}


@register.filter
def number(value) -> str:
    return DASH if value is None else f"{value:g}" if isinstance(value, float) else str(value)
