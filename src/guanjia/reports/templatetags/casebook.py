"""`{% case_study_action case %}`: the request page's way into the case collection.

Shows a link to the request's case study when there is one the reader may open, else a "mark as a
typical case" button to those who may write case studies, on requests that are closed. The request
page itself knows nothing about case studies.
"""

from django import template

from guanjia.cases.choices import DONE_STATUSES
from guanjia.reports import casebook
from guanjia.reports.models import CaseStudy
from guanjia.reports.queries import case_studies_for

register = template.Library()


@register.inclusion_tag("reports/casebook/_case_button.html", takes_context=True)
def case_study_action(context, case) -> dict:
    user = context["request"].user
    study = CaseStudy.objects.filter(case=case).only("pk", "status", "author_id").first()
    readable = study is not None and case_studies_for(user).filter(pk=study.pk).exists()
    may_mark = study is None and casebook.may_write(user) and case.status in DONE_STATUSES and not case.merged_into_id
    return {
        "case": case,
        "study": study if readable else None,
        "taken": study is not None and not readable and casebook.may_write(user),
        "may_mark": may_mark,
        "csrf_token": context.get("csrf_token"),
    }
