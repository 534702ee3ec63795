"""The workbench's filter set: one class serves the list page, its htmx refresh and bulk actions.

A queue (`view`) picks the working set (my queue, my team's, saved views such as overdue), then the
filters narrow it. Values that do not validate are ignored (the form shows why), so a stale
bookmark still shows a list. The project chosen in the console's switcher is the default project.
"""

import re
from datetime import datetime, time, timedelta

from django import forms
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.estate.models import Unit
from guanjia.org.queries import departments_for, projects_for

from .choices import CaseStatus, CaseType, Channel
from .config import descendant_ids
from .models import CaseTask, Category
from .queries import active_categories, cases_for
from .search import SEARCH_ORDER, search_cases

# Queues of the workbench, in tab order.
VIEWS = {
    "mine": _("My queue"),
    "team": _("My team"),
    "overdue": _("Overdue"),
    "due_today": _("Due today"),
    "unassigned": _("Unassigned"),
    "follow_up": _("Awaiting follow-up"),
    "major": _("Major"),
    "all": _("All"),
}
DEFAULT_VIEW = "mine"


def category_choices(categories=None) -> list[tuple[int, str]]:
    """The category tree as (id, label) pairs in tree order, children indented under their parent."""
    nodes = list(categories if categories is not None else active_categories())
    children: dict[int | None, list[Category]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    known = {n.pk for n in nodes}
    result: list[tuple[int, str]] = []

    def walk(parent_id, depth):
        for node in sorted(children.get(parent_id, []), key=lambda c: (c.sort, c.name)):
            result.append((node.pk, "\u3000" * depth + node.name))
            walk(node.pk, depth + 1)

    walk(None, 0)
    # Nodes whose parent is inactive still appear, at the top level.
    for parent_id in [p for p in children if p is not None and p not in known]:
        walk(parent_id, 0)
    return result


class CaseFilterForm(forms.Form):
    view = forms.ChoiceField(choices=list(VIEWS.items()), required=False)
    q = forms.CharField(required=False, label=_("Search"), max_length=100)
    project = forms.ModelChoiceField(queryset=None, required=False, label=_("Project"), empty_label=_("All projects"))
    case_type = forms.ChoiceField(choices=[("", _("All types")), *CaseType.choices], required=False, label=_("Type"))
    category = forms.TypedChoiceField(coerce=int, required=False, label=_("Category"), empty_value=None)
    status = forms.ChoiceField(
        choices=[("", _("All statuses")), *CaseStatus.choices], required=False, label=_("Status")
    )
    department = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Department"), empty_label=_("All departments")
    )
    channel = forms.ChoiceField(choices=[("", _("All channels")), *Channel.choices], required=False, label=_("Channel"))
    received_from = forms.DateField(
        required=False, label=_("Received from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    received_to = forms.DateField(
        required=False, label=_("Received to"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects_for(user).only("id", "name", "company__name")
        self.fields["department"].queryset = departments_for(user)
        self.fields["category"].choices = [("", _("All categories")), *category_choices()]


class CaseFilterSet:
    """`CaseFilterSet(request.GET, user, current_project_id=…)`; `.qs` is the filtered list."""

    def __init__(self, data: QueryDict | None, user, *, current_project_id: int | None = None):
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if "project" not in data and current_project_id:
            data["project"] = str(current_project_id)
        self.user = user
        self.form = CaseFilterForm(data, user=user)
        self.form.is_valid()

    @property
    def values(self) -> dict:
        return {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "", [])}

    @property
    def view(self) -> str:
        return self.values.get("view") or DEFAULT_VIEW

    @property
    def active(self) -> bool:
        return any(k != "view" for k in self.values)

    def queue(self, view: str):
        """The working set of one queue, before filters."""
        user, now = self.user, timezone.now()
        cases = cases_for(user)
        if view == "mine":
            return cases.active().filter(Q(owner=user) | Q(assignee=user))
        if view == "team":
            if user.department_id:
                team_task = CaseTask.objects.filter(case=OuterRef("pk"), department_id=user.department_id)
                cases = cases.filter(Q(department_id=user.department_id) | Exists(team_task))
            elif user.project_id:
                cases = cases.filter(project_id=user.project_id)
            return cases.active()
        if view == "overdue":
            return cases.overdue(now)
        if view == "due_today":
            end_of_day = timezone.make_aware(datetime.combine(timezone.localdate(now) + timedelta(days=1), time.min))
            return cases.due_soon(within=end_of_day - now, now=now)
        if view == "unassigned":
            return cases.unassigned()
        if view == "follow_up":
            return cases.awaiting_follow_up()
        if view == "major":
            return cases.at_risk()
        return cases

    @property
    def qs(self):
        values, view = self.values, self.view
        cases = self.queue(view)
        if "project" in values:
            cases = cases.filter(project=values["project"])
        if "case_type" in values:
            cases = cases.filter(case_type=values["case_type"])
        if "category" in values:
            cases = cases.filter(category_id__in=descendant_ids(values["category"]))
        if "status" in values:
            cases = cases.filter(status=values["status"])
        if "department" in values:
            cases = cases.filter(department=values["department"])
        if "channel" in values:
            cases = cases.filter(channel=values["channel"])
        if "received_from" in values:
            start = timezone.make_aware(datetime.combine(values["received_from"], time.min))
            cases = cases.filter(received_at__gte=start)
        if "received_to" in values:
            end = timezone.make_aware(datetime.combine(values["received_to"] + timedelta(days=1), time.min))
            cases = cases.filter(received_at__lt=end)
        if "q" in values:
            cases = search(cases, values["q"].strip())
        if view in ("overdue", "due_today"):
            cases = cases.order_by("resolution_due", "id")
        elif "q" in values:
            cases = cases.order_by(*SEARCH_ORDER)
        else:
            cases = cases.order_by("-received_at", "-id")
        units = Unit.objects.select_related("building", "entrance")
        return cases.select_related("category__parent").prefetch_related(Prefetch("units", queryset=units))


_NUMBER = re.compile(r"^[A-Z]{2}-\d{8}-\d+$")


def search(cases, text: str):
    """A request number finds that request; anything else is a full-text search."""
    if not text:
        return cases
    if _NUMBER.match(text.upper()):
        return cases.filter(number=text.upper())
    return search_cases(cases, text)
