"""Periodic reports for the demo: the drafts of the periods now running for the first project, its
butler's area and its city company, so the report pages have something to show on day one (the
worker drafts the finished periods on schedule)."""

from django.utils import timezone

from guanjia.org.models import Area, Project

from .choices import ReportKind, ReportScopeLevel
from .periodic import period_of
from .services import do_generate_report


def load_demo_reports() -> int:
    project = Project.objects.order_by("id").first()
    area = Area.objects.filter(project=project).order_by("id").first()
    if project is None:
        return 0
    today = timezone.localdate()
    wanted = [
        (ReportKind.MONTHLY, ReportScopeLevel.COMPANY, project.company_id),
        (ReportKind.MONTHLY, ReportScopeLevel.PROJECT, project.pk),
        (ReportKind.HALF_MONTHLY, ReportScopeLevel.PROJECT, project.pk),
    ]
    if area is not None:
        wanted.append((ReportKind.WEEKLY, ReportScopeLevel.AREA, area.pk))
    for kind, level, scope_id in wanted:
        do_generate_report(kind, level, scope_id, period_of(kind, today))
    return len(wanted)
