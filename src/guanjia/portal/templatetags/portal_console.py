"""`{% portal_may user "review_bindings" as x %}`: the portal's role table, for the console navigation."""

from django import template

from guanjia.portal.permissions import may

register = template.Library()


@register.simple_tag
def portal_may(user, action: str) -> bool:
    return may(user, action)
