"""How a request looks to its owner: plain status words, the promise in plain words, the timeline.

Owners see other labels than staff (a "dispatched" request is 已派单, a suspended one waits), and
only what the company chose to tell them: timeline events marked customer-visible, their own
added information and their rating. Internal notes, people's names and tasks stay in the console.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from guanjia.cases.choices import DONE_STATUSES, CaseStatus, CaseType, EventKind
from guanjia.cases.models import Case, CaseEvent

S = CaseStatus


def status_label(status: str) -> str:
    return {
        S.RECORDED: pgettext("portal status", "Received"),
        S.DISPATCHED: pgettext("portal status", "Assigned"),
        S.IN_PROGRESS: pgettext("portal status", "Being handled"),
        S.AWAITING_ACCEPTANCE: pgettext("portal status", "Being checked"),
        S.SUSPENDED: pgettext("portal status", "On hold"),
        S.REOPENED: pgettext("portal status", "Being handled again"),
        S.CLOSED: pgettext("portal status", "Completed"),
        S.FOLLOWED_UP: pgettext("portal status", "Completed"),
        S.ARCHIVED: pgettext("portal status", "Completed"),
    }.get(status, status)


# The progress bar: where the request stands among the steps an owner understands.
STEPS = (S.RECORDED, S.DISPATCHED, S.IN_PROGRESS, S.CLOSED)


def progress(case: Case) -> list[dict]:
    position = {
        S.RECORDED: 0,
        S.DISPATCHED: 1,
        S.REOPENED: 1,
        S.IN_PROGRESS: 2,
        S.AWAITING_ACCEPTANCE: 2,
        S.SUSPENDED: 2,
    }.get(case.status, 3)
    labels = (
        pgettext("portal step", "Received"),
        pgettext("portal step", "Assigned"),
        pgettext("portal step", "Handling"),
        pgettext("portal step", "Completed"),
    )
    return [{"label": label, "done": i <= position, "current": i == position} for i, label in enumerate(labels)]


def status_tone(status: str) -> str:
    if status in DONE_STATUSES:
        return "done"
    if status in (S.SUSPENDED,):
        return "wait"
    if status == S.REOPENED:
        return "again"
    return "open"


def _span(delta: timedelta) -> str:
    """A span in plain words, rounded up: 12分钟, 4小时, 2天."""
    minutes = max(math.ceil(delta.total_seconds() / 60), 1)
    if minutes < 60:
        return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}
    hours = math.ceil(minutes / 60)
    if hours <= 48:
        return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
    days = math.ceil(hours / 24)
    return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}


def _moment(when: datetime, now: datetime) -> str:
    """今天 14:00 / 明天 08:42 / 11月5日 08:42, in Beijing time."""
    local, today = timezone.localtime(when), timezone.localtime(now).date()
    time = local.strftime("%H:%M")
    if local.date() == today:
        return _("today %(time)s") % {"time": time}
    if local.date() == today + timedelta(days=1):
        return _("tomorrow %(time)s") % {"time": time}
    return _("%(month)s/%(day)s %(time)s") % {"month": local.month, "day": local.day, "time": time}


# A deadline this close to the start reads as "within N"; a later one as "by <time>", since a
# span across a night or a holiday ("within 40 hours") says less than the clock time.
WITHIN_LIMIT = timedelta(hours=8)


def _when(start: datetime, due: datetime, now: datetime) -> tuple[str, str]:
    if due - start <= WITHIN_LIMIT:
        return "within", _span(due - start)
    return "by", _moment(due, now)


def sla_promise(case: Case, now: datetime | None = None) -> list[str]:
    """The promise of an open request in plain words, from its stored deadlines.

    e.g. 客服将在12分钟内联系您 · 维修人员将在4小时内为您处理. The span is counted from when the
    clock started (receipt, or reopening). A suspended request's clock stands still; an overdue one
    gets an apology instead of a promise already broken.
    """
    now = now or timezone.now()
    if case.status in DONE_STATUSES:
        return []
    if case.status == S.SUSPENDED:
        return [_("The clock is paused while we wait (for example for information from you or for parts).")]
    start = case.sla_started_at or case.received_at
    lines = []
    if case.responded_at is None and case.response_due and case.response_due > now:
        how, value = _when(start, case.response_due, now)
        if how == "within":
            lines.append(_("Customer service will contact you within %(span)s.") % {"span": value})
        else:
            lines.append(_("Customer service will contact you by %(time)s.") % {"time": value})
    if case.resolution_due:
        if case.resolution_due <= now:
            lines.append(_("This is taking longer than we promised. We are sorry and are working on it."))
        else:
            how, value = _when(start, case.resolution_due, now)
            within = {
                CaseType.REPAIR: _("The repair team will take care of it within %(span)s."),
                CaseType.COMPLAINT: _("We will resolve your complaint within %(span)s."),
            }.get(case.case_type, _("We will answer you within %(span)s."))
            by = {
                CaseType.REPAIR: _("The repair team will take care of it by %(time)s."),
                CaseType.COMPLAINT: _("We will resolve your complaint by %(time)s."),
            }.get(case.case_type, _("We will answer you by %(time)s."))
            lines.append(within % {"span": value} if how == "within" else by % {"time": value})
    return lines


@dataclass
class Entry:
    time: datetime
    title: str
    text: str = ""
    mine: bool = False
    photos: list = field(default_factory=list)
    stars: int | None = None


def timeline(case: Case, events: list[CaseEvent], ratings=(), attachments=()) -> list[Entry]:
    """What the owner sees, newest first: the report, customer-visible events, own notes and ratings.

    `events` are the case's customer-visible events; `attachments` its photos (shown with the report
    or with the note they came with, by time).
    """
    photos = list(attachments)
    entries = [
        Entry(
            time=case.received_at,
            title=_("You reported it"),
            text=case.description,
            mine=True,
            photos=[a for a in photos if abs((a.uploaded_at - case.received_at).total_seconds()) < 120],
        )
    ]
    used = {a.pk for a in entries[0].photos}
    for event in events:
        data = event.data or {}
        if data.get("from_customer"):
            near = [a for a in photos if a.pk not in used and abs((a.uploaded_at - event.time).total_seconds()) < 120]
            used |= {a.pk for a in near}
            entries.append(Entry(event.time, _("You added information"), event.note, mine=True, photos=near))
        elif event.kind == EventKind.NOTE:
            entries.append(Entry(event.time, _("Message from customer service"), event.note))
        elif event.kind == EventKind.CLOSED:
            entries.append(Entry(event.time, _("Completed"), event.note))
        elif event.kind == EventKind.REOPENED:
            entries.append(Entry(event.time, _("Being handled again"), event.note))
        else:
            entries.append(Entry(event.time, status_label(event.to_status), event.note))
    for rating in ratings:
        entries.append(Entry(rating.created_at, _("You rated it"), rating.comment, mine=True, stars=rating.stars))
    entries.sort(key=lambda e: e.time, reverse=True)
    return entries


def needs_information(case: Case, events: list[CaseEvent]) -> bool:
    """Customer service is waiting for the owner: the request is on hold, or its latest customer-visible
    message is from staff and came after the owner's last addition."""
    if case.status == S.SUSPENDED:
        return True
    if case.status in DONE_STATUSES:
        return False
    for event in sorted(events, key=lambda e: e.seq, reverse=True):
        if (event.data or {}).get("from_customer"):
            return False
        if event.kind == EventKind.NOTE:
            return True
    return False
