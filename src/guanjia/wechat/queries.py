"""Scoped reads of WeChat drafts: the draft list and page go through `drafts_for`.

* Only roles that may turn messages into requests (`("wechat", "convert")`) see drafts at all.
* A draft of a follower bound to a customer belongs to that customer's project and is seen by the
  staff of that project (company and group staff included).
* A draft of an unknown follower belongs to no project yet: company-wide and group-wide staff see
  it and sort it out (they know which projects the Official Account serves). Project staff do not,
  because it may come from any project's household.
"""

from django.db.models import Q
from django.shortcuts import get_object_or_404

from guanjia.org.choices import ScopeLevel
from guanjia.org.permissions import can
from guanjia.org.scope import scope_of

from .models import DraftCase, WeChatMessage


def drafts_for(user):
    drafts = DraftCase.objects.select_related("follower__party", "project", "case", "handled_by")
    scope = scope_of(user)
    if not can(user, "wechat", "convert") or scope.empty:
        return drafts.none()
    if scope.everything:
        return drafts
    visible = Q(project_id__in=scope.project_ids)
    if scope.area_ids is None and user.scope_level == ScopeLevel.COMPANY:
        visible |= Q(project__isnull=True)
    return drafts.filter(visible)


def access_draft_by_id(user, draft_id) -> DraftCase:
    return get_object_or_404(drafts_for(user), pk=draft_id)


def messages_of(draft):
    """The messages of a draft the caller has already accessed, oldest first."""
    return WeChatMessage.objects.filter(draft=draft).order_by("sent_at", "id")
