"""Forms of the WeChat draft pages: the hotline entry form for a follower's message, and dismissing one."""

from django import forms
from django.utils.translation import gettext_lazy as _

from guanjia.cases.forms import CaseForm


class DraftCaseForm(CaseForm):
    """The hotline entry form without the channel (always WeChat), plus binding the follower to the customer."""

    bind = forms.BooleanField(
        label=_("Bind this WeChat follower to the customer"),
        required=False,
        help_text=_("Only after checking who the follower is: they will get messages about the customer's requests."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["channel"]


class DismissForm(forms.Form):
    note = forms.CharField(label=_("Why this is not a request"), max_length=200)
