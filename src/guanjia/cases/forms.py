"""Forms of the request pages. They parse input; the services check the business rules and save.

Related objects (projects, parties, units, departments, staff) are looked up through the scoped
queries, so a form never accepts an object outside the user's scope: an unknown id is a field error.
"""

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.estate.forms import ServiceForm
from guanjia.estate.queries import parties_for, units_for
from guanjia.org.queries import departments_for, projects_for

from .choices import Acceptance, CaseType, Channel, DissatisfiedAction, FollowUpOutcome, Severity, Visibility
from .filters import category_choices
from .models import Category
from .queries import assignable_staff, cases_for

_TEXT = {"rows": 3}


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        department = f"（{obj.department.name}）" if obj.department_id else ""
        return f"{obj}{department}"


class CaseForm(ServiceForm):
    """The hotline entry form: who called, about which units, what kind of request, what happened."""

    project = forms.ModelChoiceField(queryset=None, label=_("Project"))
    party = forms.IntegerField(required=False, widget=forms.HiddenInput)
    units = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    caller_name = forms.CharField(label=_("Caller name"), max_length=50, required=False)
    caller_phone = forms.CharField(label=_("Caller phone"), max_length=20, required=False)
    case_type = forms.ChoiceField(label=_("Type"), choices=CaseType.choices, initial=CaseType.REPAIR)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.HOTLINE)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, required=False, empty_value=None)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.NORMAL)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}))
    risk_major = forms.BooleanField(label=_("Major complaint"), required=False)
    risk_group = forms.BooleanField(label=_("Group complaint"), required=False)
    risk_media = forms.BooleanField(label=_("Media involved"), required=False)
    risk_government = forms.BooleanField(label=_("Government involved"), required=False)
    # A new key per page load: pressing "save" twice, or resending after a timeout, records one request.
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = projects_for(user)
        self.fields["category"].choices = [("", "—"), *category_choices()]

    def clean_units(self):
        raw = self.cleaned_data.get("units") or []
        if not all(str(v).isdigit() for v in raw):
            raise forms.ValidationError(_("Choose units you can see."))
        ids = [int(v) for v in raw]
        units = list(units_for(self.user).filter(pk__in=ids))
        if len(units) != len(set(ids)):
            raise forms.ValidationError(_("Choose units you can see."))
        return units

    def clean_party(self):
        party_id = self.cleaned_data.get("party")
        if party_id is None:
            return None
        party = parties_for(self.user).filter(pk=party_id).first()
        if party is None:
            raise forms.ValidationError(_("Choose a customer you can see."))
        return party

    def clean_category(self):
        category_id = self.cleaned_data.get("category")
        return Category.objects.filter(pk=category_id).first() if category_id else None

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        return data


# ------------------------------------------------------------------------------------------------ case actions


class VersionedForm(ServiceForm):
    """Every action posts the version the page was showing, so a stale page cannot overwrite news."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class DispatchForm(VersionedForm):
    department = forms.ModelChoiceField(queryset=None, required=False, label=_("Department"))
    assignee = StaffChoiceField(queryset=None, required=False, label=_("Assignee"))
    note = forms.CharField(required=False, label=_("Note"), widget=forms.Textarea(attrs=_TEXT))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments_for(user)
        self.fields["assignee"].queryset = assignable_staff(user)


class NoteForm(VersionedForm):
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs=_TEXT))
    visibility = forms.ChoiceField(label=_("Who may see it"), choices=Visibility.choices, initial=Visibility.INTERNAL)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].required = False  # notes do not bump the version


class OptionalNoteForm(VersionedForm):
    note = forms.CharField(required=False, label=_("Note"), widget=forms.Textarea(attrs=_TEXT))


class ReasonForm(VersionedForm):
    # Required by the services; left optional here so the service's message names the field.
    reason = forms.CharField(required=False, label=_("Reason"), widget=forms.Textarea(attrs=_TEXT))


class CloseForm(VersionedForm):
    note = forms.CharField(required=False, label=_("What the customer is told"), widget=forms.Textarea(attrs=_TEXT))
    reason = forms.CharField(
        required=False, label=_("Reason for closing with open tasks"), widget=forms.Textarea(attrs=_TEXT)
    )


class MergeForm(VersionedForm):
    into = forms.CharField(label=_("Merge into request number"), max_length=24)
    note = forms.CharField(required=False, label=_("Note"), widget=forms.Textarea(attrs=_TEXT))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_into(self):
        number = self.cleaned_data["into"].strip().upper()
        case = cases_for(self.user).filter(number=number).first()
        if case is None:
            raise forms.ValidationError(_("No request with this number in your scope."))
        return case


class SplitForm(VersionedForm):
    title = forms.CharField(required=False, label=_("Task"), max_length=200)
    department = forms.ModelChoiceField(queryset=None, required=False, label=_("Department"))
    assignee = StaffChoiceField(queryset=None, required=False, label=_("Assignee"))
    due = forms.DateTimeField(
        required=False,
        label=_("Due"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("Empty: the policy's internal reply time."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments_for(user)
        self.fields["assignee"].queryset = assignable_staff(user)

    def parts(self) -> list[dict]:
        data = self.cleaned_data
        due = data.get("due")
        if due is not None and timezone.is_naive(due):
            due = timezone.make_aware(due)
        return [
            {
                "title": data.get("title", ""),
                "department": data.get("department"),
                "assignee": data.get("assignee"),
                "due": due,
            }
        ]


class PlanForm(VersionedForm):
    plan = forms.CharField(required=False, label=_("Plan"), widget=forms.Textarea(attrs=_TEXT))


class ReportForm(VersionedForm):
    report = forms.CharField(required=False, label=_("What was done"), widget=forms.Textarea(attrs=_TEXT))


class AcceptForm(VersionedForm):
    acceptance = forms.ChoiceField(required=False, choices=[("", "—"), *Acceptance.choices], label=_("Acceptance"))


# ------------------------------------------------------------------------------------------------ workbench


class BulkDispatchForm(forms.Form):
    """Send the ticked requests to one department and/or person; each keeps its own version check."""

    cases = forms.TypedMultipleChoiceField(coerce=int, label=_("Requests"))
    department = forms.ModelChoiceField(queryset=None, required=False, label=_("Department"))
    assignee = StaffChoiceField(queryset=None, required=False, label=_("Assignee"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments_for(user)
        self.fields["assignee"].queryset = assignable_staff(user)
        self.fields["cases"].choices = [(v, v) for v in self.data.getlist("cases")] if self.data else []

    def clean(self):
        data = super().clean()
        if not data.get("department") and not data.get("assignee"):
            self.add_error("department", _("Choose a department or a person."))
        return data


# ------------------------------------------------------------------------------------------------ follow-ups


class FollowUpForm(VersionedForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=FollowUpOutcome.choices)
    note = forms.CharField(required=False, label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))
    # What "dissatisfied" does besides reopening; ignored for the other outcomes.
    then = forms.ChoiceField(
        label=_("If not satisfied"),
        choices=DissatisfiedAction.choices,
        initial=DissatisfiedAction.REOPEN,
        required=False,
        widget=forms.RadioSelect,
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") == FollowUpOutcome.DISSATISFIED and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why the customer is not satisfied."))
        return data
