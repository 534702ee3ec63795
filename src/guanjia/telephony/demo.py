"""Hotline data for the demo: the first project's service-centre line, the front desk's extension,
and a morning of calls (answered, missed, one that a request was recorded on), posted as the call
system would post them."""

from datetime import timedelta

from django.utils import timezone

from guanjia.cases.models import Case
from guanjia.estate.choices import OccupancyRole
from guanjia.estate.models import Occupancy
from guanjia.org.choices import Role
from guanjia.org.models import Project, Staff

from . import services
from .choices import CallEventKind
from .models import HotlineAgent, HotlineLine

LINE_NUMBER = "01065881234"
EXTENSION = "8001"


def load_demo_calls() -> int:
    """Configure the line and agent, post the calls; returns how many calls were recorded."""
    project = Project.objects.order_by("id").first()
    admin = Staff.objects.filter(role=Role.ADMIN).order_by("id").first()
    agent = Staff.objects.filter(role=Role.FRONT_DESK, project=project).order_by("id").first()
    if project is None or admin is None or agent is None:
        return 0
    HotlineLine.objects.create(
        number=LINE_NUMBER, name=f"{project.name}客服中心", company=project.company, project=project
    )
    HotlineAgent.objects.create(extension=EXTENSION, staff=agent)
    callers = [
        o.party.phone
        for o in Occupancy.objects.current()
        .filter(unit__project=project, role=OccupancyRole.OWNER, party__phone__startswith="1")
        .select_related("party")
        .order_by("-id")[:4]
    ]
    # The last caller has an open request, recorded during the call.
    case = Case.objects.filter(project=project, party__phone__startswith="1").order_by("-id").first()
    if case is not None:
        callers[2] = case.party.phone
    now = timezone.now()
    calls = []
    # (minutes ago, caller, answered, seconds talked)
    plan = [
        (190, callers[0], True, 185),
        (95, callers[1], True, 62),
        (40, "17600001111", False, 0),
        (12, callers[2], True, 240),
    ]
    for n, (ago, caller, answered, talked) in enumerate(plan, start=1):
        call_id = f"demo-call-{n}"
        at = now - timedelta(minutes=ago)

        def post(event, when, call_id=call_id, caller=caller, **kw):
            return services.do_record_call_event(
                admin, call_id=call_id, event=event, at=when, caller=caller, callee=LINE_NUMBER, **kw
            )

        post(CallEventKind.RINGING, at, agent=EXTENSION)
        if answered:
            post(CallEventKind.ANSWERED, at + timedelta(seconds=8), agent=EXTENSION)
            post(CallEventKind.ENDED, at + timedelta(seconds=8 + talked), duration=talked)
            call, _ = post(
                CallEventKind.RECORDING,
                at + timedelta(seconds=20 + talked),
                recording_url=f"https://recordings.example.com/{project.code}/{call_id}.mp3",
            )
        else:
            call, _ = post(CallEventKind.ENDED, at + timedelta(seconds=30), duration=0)
        calls.append(call)
    if case is not None:
        services.do_link_call_case(admin, calls[-1], case)
    return len(calls)
