"""One filter set per ledger model: the list page, its htmx refresh and its export share it.

A filter set wraps a small form over the query string. Values that do not validate are
ignored (the form shows why), so a stale bookmark still shows a list instead of an error.
The project chosen in the console's project switcher is the default `project` filter.
"""

from django import forms
from django.db.models import Count, DecimalField, Exists, IntegerField, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from guanjia.org.queries import projects_for

from .choices import OccupancyRole, UnitKind, UnitStatus
from .models import Entrance, Occupancy, Tag
from .queries import buildings_for, parties_for, search_parties, units_for


class _FilterForm(forms.Form):
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if "project" in self.fields:
            self.fields["project"].queryset = projects_for(user).only("id", "name", "company__name")


class FilterSet:
    """Base: `FilterSet(request.GET, user, current_project_id=…)`; `.qs` is the filtered list."""

    form_class: type[_FilterForm]

    def __init__(self, data: QueryDict | None, user, *, current_project_id: int | None = None):
        data = data.copy() if data is not None else QueryDict(mutable=True)
        # An explicit empty `project=` means "all projects"; only a missing one takes the switcher's.
        if "project" not in data and current_project_id:
            data["project"] = str(current_project_id)
        self.user = user
        self.form = self.form_class(data, user=user)
        self.form.is_valid()

    @property
    def values(self) -> dict:
        """The valid, non-empty filter values."""
        return {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "", [])}

    @property
    def active(self) -> bool:
        return bool(self.values)

    @property
    def qs(self):
        raise NotImplementedError


class BuildingFilterForm(_FilterForm):
    project = forms.ModelChoiceField(queryset=None, required=False, label=_("Project"), empty_label=_("All projects"))
    q = forms.CharField(required=False, label=_("Building"))


class BuildingFilterSet(FilterSet):
    form_class = BuildingFilterForm

    @property
    def qs(self):
        values = self.values
        buildings = buildings_for(self.user)
        if "project" in values:
            buildings = buildings.filter(project=values["project"])
        if "q" in values:
            buildings = buildings.filter(name__contains=values["q"].strip())
        return annotate_building_counts(buildings, self.user).order_by("project__name", "number", "name")


def annotate_building_counts(buildings, user):
    """Entrances, units (in the user's scope) and total floor area per building, by subqueries.

    Subqueries rather than joined Counts: joining entrances and units at once would multiply rows.
    """
    units = units_for(user).filter(building=OuterRef("pk")).order_by().values("building")
    entrances = Entrance.objects.filter(building=OuterRef("pk")).order_by().values("building")
    return buildings.annotate(
        entrance_count=Coalesce(
            Subquery(entrances.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), Value(0)
        ),
        unit_count=Coalesce(
            Subquery(units.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), Value(0)
        ),
        total_area=Subquery(
            units.annotate(a=Sum("floor_area")).values("a")[:1],
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
    )


class UnitFilterForm(_FilterForm):
    project = forms.ModelChoiceField(queryset=None, required=False, label=_("Project"), empty_label=_("All projects"))
    building = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Building"), empty_label=_("All buildings")
    )
    kind = forms.ChoiceField(choices=[("", _("All kinds")), *UnitKind.choices], required=False, label=_("Kind"))
    status = forms.ChoiceField(
        choices=[("", _("All statuses")), *UnitStatus.choices], required=False, label=_("Status")
    )
    q = forms.CharField(required=False, label=_("Room number"), max_length=30)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        buildings = buildings_for(self.user)
        project = self.data.get("project")
        if project and str(project).isdigit():
            buildings = buildings.filter(project_id=int(project))
        self.fields["building"].queryset = buildings


class UnitFilterSet(FilterSet):
    form_class = UnitFilterForm

    @property
    def qs(self):
        values = self.values
        units = units_for(self.user)
        if "project" in values:
            units = units.filter(project=values["project"])
        if "building" in values:
            units = units.filter(building=values["building"])
        if "kind" in values:
            units = units.filter(kind=values["kind"])
        if "status" in values:
            units = units.filter(status=values["status"])
        if "q" in values:
            units = units.filter(number__contains=values["q"].strip())
        return units.order_by(
            "project__name", "building__number", "building__name", "entrance__number", "floor", "number"
        )


class PartyFilterForm(_FilterForm):
    q = forms.CharField(
        required=False,
        label=_("Search"),
        max_length=50,
        help_text=_("Name, pinyin, initials, last 4 digits of the phone, or room such as 3-2-1502"),
    )
    project = forms.ModelChoiceField(queryset=None, required=False, label=_("Project"), empty_label=_("All projects"))
    tag = forms.ModelChoiceField(queryset=Tag.objects.all(), required=False, label=_("Tag"), empty_label=_("All tags"))
    role = forms.ChoiceField(choices=[("", _("All roles")), *OccupancyRole.choices], required=False, label=_("Role"))


def current_occupancies_prefetch() -> Prefetch:
    """Each party's current occupancies as `party.current_occupancies`, in one extra query."""
    return Prefetch(
        "occupancies",
        queryset=Occupancy.objects.current().select_related("unit__building", "unit__entrance", "unit__project"),
        to_attr="current_occupancies",
    )


class PartyFilterSet(FilterSet):
    form_class = PartyFilterForm

    @property
    def qs(self):
        values = self.values
        parties = search_parties(self.user, values["q"]) if "q" in values else parties_for(self.user)
        if "project" in values:
            project = values["project"]
            at_project = Occupancy.objects.filter(party=OuterRef("pk"), unit__project=project)
            parties = parties.filter(Q(project=project) | Exists(at_project))
        if "tag" in values:
            parties = parties.filter(tags=values["tag"])
        if "role" in values:
            parties = parties.filter(pk__in=Occupancy.objects.current().filter(role=values["role"]).values("party_id"))
        return parties.prefetch_related(current_occupancies_prefetch(), "tags").order_by("name_pinyin", "id")
