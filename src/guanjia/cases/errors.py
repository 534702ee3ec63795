"""Errors of the case services: an illegal transition, and an edit based on a stale version."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .choices import CaseStatus, TaskStatus

# Names of the actions, as they appear in "Cannot <action>: …".
ACTION_LABELS = {
    "dispatch": _("dispatch"),
    "start": _("start work on"),
    "submit": _("submit for acceptance"),
    "close": _("close"),
    "follow_up": _("record a follow-up for"),
    "archive": _("archive"),
    "suspend": _("suspend"),
    "resume": _("resume"),
    "reopen": _("reopen"),
    "merge": _("merge"),
    "split": _("split"),
    "notice": _("record the written notice for"),
    "propose_plan": _("propose a plan for"),
    "confirm_plan": _("confirm the plan of"),
    "complete_task": _("complete"),
    "accept_task": _("accept"),
    "reject_task": _("reject"),
    "cancel_task": _("cancel"),
}


class CaseTransitionError(ValidationError):
    """The action is not allowed in the current status; the message names both."""

    def __init__(self, status: str, action: str, *, task: bool = False):
        labels = TaskStatus if task else CaseStatus
        status_label = str(labels(status).label) if status in labels.values else status
        action_label = str(ACTION_LABELS.get(action, action))
        if task:
            message = gettext("Cannot %(action)s this task: it is “%(status)s”.")
        else:
            message = gettext("Cannot %(action)s this request: it is “%(status)s”.")
        super().__init__(
            message % {"action": action_label, "status": status_label},
            code="invalid_transition",
        )
        self.status = status
        self.action = action


class CaseConflict(Exception):
    """Someone changed the request (or task) since it was loaded; reload and try again."""

    def __init__(self, current_version: int, expected_version: int):
        self.current_version = current_version
        self.expected_version = expected_version
        super().__init__(
            gettext("Someone else changed this record in the meantime (version %(current)s, you had %(expected)s).")
            % {"current": current_version, "expected": expected_version}
        )
