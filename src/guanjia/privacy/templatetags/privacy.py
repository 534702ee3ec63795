"""Template helpers for the party page: what the reader may do with the party's personal data."""

from django import template

from guanjia.org.permissions import can

from ..forms import PersonExportForm
from ..masking import may_reveal_id_number
from ..queries import anonymisation_of

register = template.Library()


@register.simple_tag(takes_context=True)
def privacy_for(context, party) -> dict:
    """`{% privacy_for party as privacy %}`: the reader's personal-data actions on this party."""
    user = context.get("user")
    return {
        "may_reveal": may_reveal_id_number(user),
        "may_export": can(user, "party", "export_data"),
        "may_anonymise": can(user, "party", "anonymise"),
        "may_view_log": can(user, "privacy", "view_log"),
        "anonymisation": anonymisation_of(party),
        "export_form": PersonExportForm(),
    }
