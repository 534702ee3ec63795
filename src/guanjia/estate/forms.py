"""Forms of the ledger pages. They parse input; the services validate business rules and save.

Choices of related objects (buildings, entrances, projects) come from the scoped queries, so
a form never offers, nor accepts, an object outside the user's scope.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.models import fields_for_model, model_to_dict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.errors import field_errors
from guanjia.org.models import Project
from guanjia.org.queries import projects_for

from .choices import ContactChannel, OccupancyRole
from .models import Entrance, Party, Tag, Unit
from .queries import buildings_for, units_for, units_matching_room
from .services import PARTY_FIELDS, UNIT_FIELDS

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ServiceForm(forms.Form):
    """A form whose data goes to a service; the service's field-keyed errors land on the fields."""

    def add_service_errors(self, exc: ValidationError) -> None:
        for field, messages in field_errors(exc).items():
            target = field if field in self.fields else None
            for message in messages:
                self.add_error(target, message)


class EntranceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Entrance) -> str:
        return f"{obj.building.name}{obj.name}"


class UnitForm(ServiceForm):
    """Add or edit a unit; the model's own fields and labels, with scoped building choices."""

    def __init__(self, *args, user, unit: Unit | None = None, **kwargs):
        if unit is not None and "initial" not in kwargs:
            kwargs["initial"] = model_to_dict(unit, fields=UNIT_FIELDS)
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(Unit, fields=UNIT_FIELDS))
        buildings = buildings_for(user)
        building_id = (unit.building_id if unit else None) or self.data.get("building") or self.initial.get("building")
        self.fields["building"].queryset = buildings
        self.fields["building"].label_from_instance = lambda b: f"{b.project.name} {b.name}"
        entrances = Entrance.objects.select_related("building").filter(building__in=buildings.values("pk"))
        if building_id and str(building_id).isdigit():
            entrances = entrances.filter(building_id=int(building_id))
        self.fields["entrance"] = EntranceChoiceField(
            queryset=entrances, required=False, label=self.fields["entrance"].label
        )
        self.fields["handed_over_on"].widget = _DATE

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in UNIT_FIELDS if name in self.cleaned_data}


class WriteOnlyInput(forms.TextInput):
    """Never renders a value back into the page: ID numbers are typed, not shown."""

    def format_value(self, value):
        return None


class PartyForm(ServiceForm):
    """Add or edit a party. Phones and the ID number are checked by the service."""

    id_number = forms.CharField(
        label=_("ID number"),
        required=False,
        max_length=30,
        widget=WriteOnlyInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.all(), required=False, label=_("Tags"), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, user, party: Party | None = None, **kwargs):
        if party is not None and "initial" not in kwargs:
            initial = model_to_dict(party, fields=PARTY_FIELDS)
            initial["tags"] = list(party.tags.values_list("pk", flat=True))
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        model_fields = fields_for_model(Party, fields=PARTY_FIELDS)
        # Phones are free text here: the service normalises them and names the field on errors.
        for name in ("phone", "phone2"):
            model_fields[name] = forms.CharField(
                label=model_fields[name].label, required=False, max_length=30, help_text=model_fields[name].help_text
            )
        fields = dict(model_fields)
        note = fields.pop("note")
        self.fields = {**fields, "id_number": self.fields["id_number"], "tags": self.fields["tags"], "note": note}
        projects = projects_for(user)
        if party is not None:
            # A party seen through one of its units may be registered at a project out of scope.
            projects = Project.objects.select_related("company").filter(
                Q(pk__in=projects.values("pk")) | Q(pk=party.project_id)
            )
        self.fields["project"].queryset = projects
        self.fields["note"].widget.attrs["rows"] = 3
        if party is not None:
            self.fields["id_number"].help_text = (
                _("On file: %(masked)s. Leave empty to keep it.") % {"masked": party.id_number_masked}
                if party.id_number_masked
                else _("None on file.")
            )

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in PARTY_FIELDS if name in self.cleaned_data}
        data["tags"] = list(self.cleaned_data.get("tags") or [])
        # An empty ID field keeps the number on file; the form cannot show the number to edit it.
        if self.cleaned_data.get("id_number"):
            data["id_number"] = self.cleaned_data["id_number"]
        return data


class ContactForm(ServiceForm):
    channel = forms.ChoiceField(label=_("Channel"), choices=ContactChannel.choices, initial=ContactChannel.PHONE)
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.none(), required=False, label=_("Unit"), empty_label=_("Not about one unit")
    )
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user, party: Party, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units_for(user).filter(occupancies__party=party).distinct()
        self.fields["unit"].label_from_instance = lambda u: u.label


class OccupancyForm(ServiceForm):
    """Tie a party to a unit typed as staff say it (3-2-1502, 3栋2单元1502) in a chosen project."""

    project = forms.ModelChoiceField(queryset=None, label=_("Project"))
    room = forms.CharField(
        label=_("Room"), max_length=30, help_text=_("For example 3-2-1502 or 3栋2单元1502"), required=False
    )
    unit = forms.ModelChoiceField(queryset=None, required=False, widget=forms.HiddenInput)
    role = forms.ChoiceField(label=_("Role"), choices=OccupancyRole.choices, initial=OccupancyRole.OWNER)
    start = forms.DateField(label=_("From"), widget=_DATE, initial=timezone.localdate)
    end = forms.DateField(label=_("Until"), widget=_DATE, required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = projects_for(user)
        self.fields["unit"].queryset = units_for(user)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("unit"):
            return cleaned
        room, project = (cleaned.get("room") or "").strip(), cleaned.get("project")
        if not room:
            self.add_error("room", _("Type the room, for example 3-2-1502."))
            return cleaned
        if project is None:
            return cleaned
        units = units_matching_room(units_for(self.user).filter(project=project), room)
        if units is None:
            self.add_error("room", _("Write the room as building-entrance-room, for example 3-2-1502."))
            return cleaned
        found = list(units[:2])
        if not found:
            self.add_error("room", _("No unit %(room)s in %(project)s.") % {"room": room, "project": project.name})
        elif len(found) > 1:
            self.add_error("room", _("Several units match; add the entrance, for example 3-2-1502."))
        else:
            cleaned["unit"] = found[0]
        return cleaned


class EndOccupancyForm(ServiceForm):
    end = forms.DateField(label=_("Until"), widget=_DATE, initial=timezone.localdate)
