"""Forms of the personal-data pages: the access-log filters, a person's data export, anonymisation."""

from datetime import datetime, time, timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.org.queries import projects_for

from .choices import AccessAction, ExportFormat

_DATE = forms.DateInput(attrs={"type": "date"})


class AccessLogFilterForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("", _("All actions")), *AccessAction.choices], required=False, label=_("Action")
    )
    project = forms.ModelChoiceField(queryset=None, required=False, label=_("Project"), empty_label=_("All projects"))
    staff = forms.CharField(required=False, max_length=50, label=_("Staff member"))
    party = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    date_from = forms.DateField(required=False, label=_("From"), widget=_DATE)
    date_to = forms.DateField(required=False, label=_("Until"), widget=_DATE)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects_for(user).only("id", "name", "company__name")


class AccessLogFilterSet:
    """`AccessLogFilterSet(request.GET, rows)`: the log rows a reader may see, narrowed by the form.

    Values that do not validate are ignored (the form shows why), as in every list of the console.
    """

    def __init__(self, data, user, rows):
        self.form = AccessLogFilterForm(data, user=user)
        self.form.is_valid()
        self.rows = rows

    @property
    def values(self) -> dict:
        cleaned = getattr(self.form, "cleaned_data", {})
        return {k: v for k, v in cleaned.items() if v not in (None, "")}

    @property
    def active(self) -> bool:
        return bool(self.values)

    @property
    def qs(self):
        values, rows = self.values, self.rows
        if "action" in values:
            rows = rows.filter(action=values["action"])
        if "project" in values:
            rows = rows.filter(project=values["project"])
        if "staff" in values:
            text = values["staff"].strip()
            rows = rows.filter(Q(username__icontains=text) | Q(user__display_name__icontains=text))
        if "party" in values:
            rows = rows.filter(party_id=values["party"])
        tz = timezone.get_current_timezone()
        if "date_from" in values:
            rows = rows.filter(time__gte=datetime.combine(values["date_from"], time.min, tzinfo=tz))
        if "date_to" in values:
            end = values["date_to"] + timedelta(days=1)
            rows = rows.filter(time__lt=datetime.combine(end, time.min, tzinfo=tz))
        return rows.order_by("-time", "-id")


class PersonExportForm(forms.Form):
    format = forms.ChoiceField(
        choices=ExportFormat.choices,
        initial=ExportFormat.XLSX,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        label=_("Format"),
    )
    full_id_number = forms.BooleanField(
        required=False,
        label=_("Include the whole ID number"),
        help_text=_("Only when the person asks for it; the file then needs the same care as the ID card."),
    )


class AnonymiseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example the date and reference of the person's request. Do not write the name or phone."),
    )
    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone."),
        error_messages={"required": _("Tick this box to confirm.")},
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give the reason for the anonymisation."))
        return reason
