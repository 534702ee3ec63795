"""Side effects of case events, run after the transaction commits.

`notify_case_event` is the single hook every service schedules with `transaction.on_commit`. It
tells the people concerned through `guanjia.notifications` (in the console at once; e-mail and SMS
from the background worker):

* dispatched → the assignee, or without one the members of the department who see the project;
* split into tasks → each task's assignee, or its department's members;
* reopened, or a dissatisfied follow-up call (which reopens) → the first-contact owner and the
  project's team leads;
* escalated (a dissatisfied follow-up call handed up) → the project's team leads and the
  company's managers, by SMS as well, with the reason;
* recorded with a risk flag (major, group, media, government) → the project's team leads and the
  company's managers, by SMS as well. Any later event whose `data` carries `"risk_flags"` (a list
  of flag names) escalates the same way.

The person who acted is never notified of their own action. Each notification's key names the
event, so a hook that runs twice notifies nobody twice.
"""

import logging

from django.conf import settings
from django.utils import translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from .choices import EventKind, FollowUpOutcome

logger = logging.getLogger(__name__)

RISK_FIELDS = ("risk_major", "risk_group", "risk_media", "risk_government")


def notify_case_event(event_id: int) -> None:
    """Tell the people concerned about one committed case event."""
    from .models import CaseEvent

    event = CaseEvent.objects.select_related("case__project").filter(pk=event_id).first()
    if event is None:
        return
    logger.info("case %s event %s: %s", event.case.number, event.seq, event.kind)
    try:
        with translation.override(settings.LANGUAGE_CODE):
            _notify(event)
    except Exception:
        # The change is committed already; a notification failure must not turn it into an error page.
        logger.exception("notifying case event %s failed", event_id)


def notifies_anyone(event) -> bool:
    """False for the one event `_notify` never tells anybody about: a request recorded without risk
    flags, the commonest write of all (intake then skips the hook and its query)."""
    if event.kind != EventKind.RECORDED or (event.data or {}).get("risk_flags"):
        return True
    return any(getattr(event.case, f) for f in RISK_FIELDS)


def risk_labels(case, flags=None) -> list[str]:
    from .models import Case

    names = flags if flags is not None else [f for f in RISK_FIELDS if getattr(case, f)]
    return [str(Case._meta.get_field(f).verbose_name) for f in names if f in RISK_FIELDS]


def _notify(event) -> None:
    from guanjia.notifications.choices import NotificationKind
    from guanjia.notifications.queries import department_members, managers_by_project, team_leads_by_project
    from guanjia.notifications.services import do_notify

    from .models import CaseTask

    case, data = event.case, event.data or {}
    values = {"number": case.number, "project": case.project.name}
    summary = Truncator(case.description).chars(120)
    key = f"event:{event.pk}"

    def notify(recipients, kind, title, body, suffix, **extra):
        do_notify(
            set(recipients) - {event.actor_id}, kind, title=title, body=body, key=f"{key}:{suffix}", case=case, **extra
        )

    def handlers(assignee_id, department_id) -> set[int]:
        if assignee_id:
            return {assignee_id}
        return department_members(department_id, case.project_id) if department_id else set()

    if event.kind == EventKind.DISPATCHED:
        notify(
            handlers(data.get("assignee"), data.get("department")),
            NotificationKind.CASE_ASSIGNED,
            _("%(number)s: new request for you") % values,
            _("Request %(number)s (%(project)s): %(summary)s") % {**values, "summary": summary},
            "assigned",
        )
    elif event.kind == EventKind.SPLIT:
        for task in CaseTask.objects.filter(pk__in=data.get("tasks") or []):
            notify(
                handlers(task.assignee_id, task.department_id),
                NotificationKind.TASK_ASSIGNED,
                _("%(number)s: new task “%(task)s”") % {**values, "task": task.title},
                _("Request %(number)s (%(project)s): %(summary)s") % {**values, "summary": summary},
                f"task:{task.pk}",
            )
    elif event.kind == EventKind.REOPENED or (
        event.kind == EventKind.FOLLOWED_UP and data.get("outcome") == FollowUpOutcome.DISSATISFIED
    ):
        leads = team_leads_by_project([case.project_id])[case.project_id]
        reason = event.note or _("The customer is not satisfied.")
        notify(
            {case.owner_id} | leads,
            NotificationKind.CASE_REOPENED,
            _("%(number)s reopened") % values,
            _("Request %(number)s (%(project)s) was reopened: %(reason)s") % {**values, "reason": reason},
            "reopened",
        )
    elif event.kind == EventKind.ESCALATED:
        # The same escalation line as the SLA sweep's levels 2 and 3.
        leads = team_leads_by_project([case.project_id])[case.project_id]
        managers = managers_by_project([case.project_id])[case.project_id]
        notify(
            leads | managers,
            NotificationKind.CASE_ESCALATED,
            _("%(number)s escalated") % values,
            _("Request %(number)s (%(project)s) was escalated: %(reason)s")
            % {**values, "reason": event.note or summary},
            "escalated",
        )

    flags = data.get("risk_flags")
    if event.kind == EventKind.RECORDED and flags is None:
        flags = [f for f in RISK_FIELDS if getattr(case, f)]
    labels = risk_labels(case, flags or [])
    if labels:
        leads = team_leads_by_project([case.project_id])[case.project_id]
        managers = managers_by_project([case.project_id])[case.project_id]
        notify(
            leads | managers,
            NotificationKind.RISK_FLAGGED,
            _("Risk: %(flags)s, %(number)s") % {**values, "flags": " / ".join(labels)},
            _("Request %(number)s (%(project)s): %(summary)s") % {**values, "summary": summary},
            "risk",
        )
