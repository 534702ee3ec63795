"""Forms of the owner portal and of its console pages. They parse; the services decide and save."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanjia.cases.choices import CaseType
from guanjia.cases.models import Category
from guanjia.cases.queries import active_categories
from guanjia.estate.forms import ServiceForm
from guanjia.estate.models import Tag
from guanjia.estate.queries import buildings_for
from guanjia.org.models import Project
from guanjia.org.queries import projects_for

from .choices import NoticeKind, Relation
from .services import PORTAL_CASE_TYPES

# Owners' words for the four kinds of request.
TYPE_LABELS = {
    CaseType.REPAIR: pgettext_lazy("portal type", "Repair"),
    CaseType.COMPLAINT: pgettext_lazy("portal type", "Complaint"),
    CaseType.INQUIRY: pgettext_lazy("portal type", "Question"),
    CaseType.SUGGESTION: pgettext_lazy("portal type", "Suggestion"),
}


class PhoneForm(ServiceForm):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "13812345678"}),
    )


class CodeForm(PhoneForm):
    code = forms.CharField(
        label=pgettext_lazy("sms", "Code"),
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"}),
    )


class UnitPickForm(ServiceForm):
    """Which unit: the community and the room as people write it (3栋2单元1502)."""

    project = forms.ModelChoiceField(
        queryset=Project.objects.order_by("name"), label=_("Community"), empty_label=_("Choose your community")
    )
    room = forms.CharField(
        label=_("Unit"), max_length=30, widget=forms.TextInput(attrs={"placeholder": _("e.g. 3栋2单元1502")})
    )
    name = forms.CharField(label=_("Your name"), max_length=50)


class BindByIdentityForm(UnitPickForm):
    id_tail = forms.CharField(
        label=_("Last 6 characters of your ID card number"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": "6", "placeholder": "12345X"}),
    )


class BindRequestForm(UnitPickForm):
    relation = forms.ChoiceField(label=_("You are the unit's"), choices=Relation.choices, initial=Relation.OWNER)
    note = forms.CharField(
        label=_("Note for the butler (optional)"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to 9 files; the checks are the service's (`photos.clean_photos`)."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if not data:
            return []
        return list(data) if isinstance(data, list | tuple) else [data]


def category_groups() -> list[tuple[str, list[tuple[int, str]]]]:
    """The category tree for a phone's picker: one group per top level, its descendants as "渗漏 · 卫生间渗漏"."""
    nodes = list(active_categories())
    by_parent: dict[int | None, list[Category]] = {}
    for node in nodes:
        by_parent.setdefault(node.parent_id, []).append(node)
    groups = []
    for root in sorted(by_parent.get(None, []), key=lambda c: (c.sort, c.name)):
        options = []

        def walk(parent, prefix, options=options):
            for child in sorted(by_parent.get(parent.pk, []), key=lambda c: (c.sort, c.name)):
                label = f"{prefix} · {child.name}" if prefix else child.name
                options.append((child.pk, label))
                walk(child, label)

        walk(root, "")
        groups.append((root.name, [(root.pk, root.name), *options]))
    return groups


class ReportForm(ServiceForm):
    binding = forms.TypedChoiceField(label=_("Unit"), coerce=int)
    case_type = forms.ChoiceField(
        label=_("What is it about"),
        choices=[(t, TYPE_LABELS[t]) for t in PORTAL_CASE_TYPES],
        initial=CaseType.REPAIR,
        widget=forms.RadioSelect,
    )
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, required=False, empty_value=None)
    description = forms.CharField(
        label=pgettext_lazy("portal", "Description"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("What happened, where, since when")}),
    )
    photos = PhotosField(label=pgettext_lazy("portal", "Photos"), required=False)
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args, bindings, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.bindings = {b.pk: b for b in bindings}
        self.fields["binding"].choices = [(b.pk, b.unit.full_label) for b in bindings]
        self.fields["category"].choices = [("", _("Not sure")), *category_groups()]
        self.fields["photos"].widget.attrs.update({"accept": "image/*", "data-photos": "9"})

    def clean_category(self):
        pk = self.cleaned_data.get("category")
        if pk is None:
            return None
        category = Category.objects.filter(pk=pk, active=True).first()
        if category is None:
            raise forms.ValidationError(_("Choose a category from the list."))
        return category


class InformationForm(ServiceForm):
    note = forms.CharField(
        label=_("Information"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    photos = PhotosField(label=pgettext_lazy("portal", "Photos"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photos"].widget.attrs.update({"accept": "image/*", "data-photos": "9"})


class RatingForm(ServiceForm):
    stars = forms.TypedChoiceField(
        label=_("Your rating"), coerce=int, choices=[(n, n) for n in (5, 4, 3, 2, 1)], widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment (optional)"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


# ------------------------------------------------------------------------------------------------ console


class ApproveBindingForm(ServiceForm):
    party = forms.TypedChoiceField(label=_("Bind as"), coerce=int)

    def __init__(self, *args, occupancies, **kwargs):
        super().__init__(*args, **kwargs)
        self.occupancies = {o.party_id: o for o in occupancies}
        self.fields["party"].choices = [(o.party_id, f"{o.party.name}（{o.get_role_display()}）") for o in occupancies]


class RejectBindingForm(ServiceForm):
    reason = forms.CharField(label=_("Reason (the applicant sees it)"), max_length=200)


class NoticeForm(ServiceForm):
    project = forms.ModelChoiceField(queryset=None, label=_("Project"))
    kind = forms.ChoiceField(label=_("Kind"), choices=NoticeKind.choices, initial=NoticeKind.ANNOUNCEMENT)
    title = forms.CharField(label=_("Title"), max_length=100)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}))
    buildings = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("Buildings"),
        required=False,
        help_text=_("Leave empty for the whole project."),
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.all(),
        label=_("Only parties tagged"),
        required=False,
        help_text=_("Leave empty for everyone."),
        widget=forms.CheckboxSelectMultiple,
    )
    expires_at = forms.DateTimeField(
        label=_("Show until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects_for(user)
        self.fields["buildings"].queryset = buildings_for(user).order_by("project__name", "number", "name")
