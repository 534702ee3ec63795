"""Forms of the report pages. They parse input; `casebook` checks the rules and saves."""

from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.cases.choices import CaseType
from guanjia.cases.filters import category_choices
from guanjia.cases.queries import active_categories
from guanjia.estate.forms import ServiceForm

from .casebook import COMMENT_MAX, TEXT_MAX, TITLE_MAX


class CaseStudyForm(ServiceForm):
    """The author's draft of a case study: title, classification and the four parts of the write-up."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    case_type = forms.ChoiceField(label=_("Type"), choices=CaseType.choices)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, required=False, empty_value=None)
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=200,
        help_text=_("Separate tags with commas, e.g. 渗漏, 重大投诉."),
    )
    unit_label = forms.CharField(label=_("Unit"), required=False, max_length=100)
    customer_label = forms.CharField(
        label=_("Customer (as named in the write-up)"),
        required=False,
        max_length=50,
        help_text=_("Surname and form of address only, e.g. 李女士."),
    )
    background = forms.CharField(
        label=_("Background and what happened"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    handling = forms.CharField(
        label=_("How it was handled"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 9})
    )
    outcome = forms.CharField(
        label=_("Result"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )
    lessons = forms.CharField(
        label=_("Lessons learned"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What went well, what should be done differently, what other projects can take from it."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, study=None, **kwargs):
        if study is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": study.title,
                "case_type": study.case_type,
                "category": study.category_id,
                "tags": ", ".join(study.tag_list),
                "unit_label": study.unit_label,
                "customer_label": study.customer_label,
                "background": study.background,
                "handling": study.handling,
                "outcome": study.outcome,
                "lessons": study.lessons,
                "version": study.version,
            }
        super().__init__(*args, **kwargs)
        categories = list(active_categories())
        # A category made inactive since stays selectable for the study that has it.
        if study is not None and study.category_id and study.category_id not in {c.pk for c in categories}:
            categories.append(study.category)
        self.fields["category"].choices = [("", "—"), *category_choices(categories)]

    def service_values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class ReviewForm(forms.Form):
    """The comment that goes with a review step (required when returning or withdrawing)."""

    comment = forms.CharField(label=_("Comment"), required=False, max_length=COMMENT_MAX, widget=forms.Textarea)
    version = forms.IntegerField(widget=forms.HiddenInput)
