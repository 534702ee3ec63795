"""Fixed choices of service requests: types, channels, severities, statuses and event kinds.

Statuses are fixed in code (the lifecycle in `services.py` reasons about them); each belongs to one
category (`OPEN_STATUSES`, `PAUSED_STATUSES`, `DONE_STATUSES`) that queues, SLA and reports use.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseType(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    REPAIR = "repair", _("Repair")
    INQUIRY = "inquiry", _("Inquiry")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")
    HELP = "help", _("Request for help")


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("Hotline")
    WALK_IN = "walk_in", _("Walk-in")
    LETTER = "letter", _("Letter or fax")
    SUGGESTION_BOX = "suggestion_box", _("Suggestion box")
    WECHAT = "wechat", _("WeChat")
    PORTAL = "portal", _("Owner portal")
    PATROL = "patrol", _("Patrol finding")
    PUBLIC_OPINION = "public_opinion", _("Public opinion")
    PROPERTY_COMPANY = "property_company", _("Forwarded by the property company")


class Severity(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    MAJOR = "major", _("Major")


class CaseStatus(models.TextChoices):
    RECORDED = "recorded", _("Recorded")
    DISPATCHED = "dispatched", _("Dispatched")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_ACCEPTANCE = "awaiting_acceptance", _("Awaiting acceptance")
    SUSPENDED = "suspended", _("Suspended")
    REOPENED = "reopened", _("Reopened")
    CLOSED = "closed", _("Closed")
    FOLLOWED_UP = "followed_up", _("Followed up")
    ARCHIVED = "archived", _("Archived")


# Someone still has to act: these are the work queues and the SLA clock runs.
OPEN_STATUSES = frozenset(
    {
        CaseStatus.RECORDED,
        CaseStatus.DISPATCHED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.AWAITING_ACCEPTANCE,
        CaseStatus.REOPENED,
    }
)
# Waiting for the customer or a third party: open, but the clock stands still.
PAUSED_STATUSES = frozenset({CaseStatus.SUSPENDED})
# The work is over; only the follow-up call and archiving remain.
DONE_STATUSES = frozenset({CaseStatus.CLOSED, CaseStatus.FOLLOWED_UP, CaseStatus.ARCHIVED})


class SlaState(models.TextChoices):
    NONE = "", _("No agreement")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("Internal")
    CUSTOMER = "customer", _("Visible to the customer")


class EventKind(models.TextChoices):
    RECORDED = "recorded", _("Recorded")
    DISPATCHED = "dispatched", _("Dispatched")
    STARTED = "started", _("Work started")
    SUBMITTED = "submitted", _("Submitted for acceptance")
    CLOSED = "closed", _("Closed")
    FOLLOWED_UP = "followed_up", _("Follow-up call")
    ARCHIVED = "archived", _("Archived")
    SUSPENDED = "suspended", _("Suspended")
    RESUMED = "resumed", _("Resumed")
    REOPENED = "reopened", _("Reopened")
    NOTE = "note", _("Note")
    MERGED = "merged", _("Merged into another request")
    MERGE_RECEIVED = "merge_received", _("Another request merged in")
    OWNER_CHANGED = "owner_changed", _("First-contact owner changed")
    SPLIT = "split", _("Split into tasks")
    TASK_PLAN_PROPOSED = "task_plan_proposed", _("Task plan proposed")
    TASK_PLAN_CONFIRMED = "task_plan_confirmed", _("Task plan confirmed")
    TASK_COMPLETED = "task_completed", _("Task completed")
    TASK_ACCEPTED = "task_accepted", _("Task accepted")
    TASK_REJECTED = "task_rejected", _("Task rejected")
    TASK_CANCELLED = "task_cancelled", _("Task cancelled")
    ATTACHMENT = "attachment", _("Attachment added")
    NOTICE_SENT = "notice_sent", _("Written notice sent to the property company")
    ESCALATED = "escalated", _("Escalated")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PLAN_PROPOSED = "plan_proposed", _("Plan proposed")
    PLAN_CONFIRMED = "plan_confirmed", _("Plan confirmed")
    DONE = "done", _("Done")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


# A task in one of these states still needs work or an acceptance; closing the case over it needs a reason.
UNFINISHED_TASK_STATUSES = frozenset(
    {TaskStatus.OPEN, TaskStatus.PLAN_PROPOSED, TaskStatus.PLAN_CONFIRMED, TaskStatus.REJECTED, TaskStatus.DONE}
)
# The department has finished its part (acceptance may still be pending).
WORK_DONE_TASK_STATUSES = frozenset({TaskStatus.DONE, TaskStatus.ACCEPTED})


class Acceptance(models.TextChoices):
    """Who signs a repair task off: engineering checks the work, cost checks the bill."""

    ENGINEERING = "engineering", _("Engineering acceptance")
    COST = "cost", _("Cost acceptance")


class FollowUpOutcome(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")
    UNREACHABLE = "unreachable", _("Could not be reached")


class DissatisfiedAction(models.TextChoices):
    """What a dissatisfied follow-up does: the case is reopened either way; escalating also hands it up."""

    REOPEN = "reopen", _("Handle again")
    ESCALATE = "escalate", _("Escalate")


# Types that get a follow-up call after closing (DOMAIN: complaints, repairs, inquiries, suggestions; help too).
FOLLOW_UP_TYPES = frozenset({CaseType.COMPLAINT, CaseType.REPAIR, CaseType.INQUIRY, CaseType.SUGGESTION, CaseType.HELP})
