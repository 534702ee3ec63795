"""The case collection (案例集): typical requests written up, reviewed and published.

Every write to a `CaseStudy` goes through the `do_…` functions here. Marking a request as typical
creates a draft prefilled from it (`prefill`); the author edits and submits it; a reviewer (a
manager or team lead who sees the request) publishes it or returns it with a comment; a published
study can be withdrawn, and a withdrawn one taken back as a draft. Each function locks the row,
checks the version the user saw, and writes one `CaseStudyStep` (the review log) or, for edits of
the text, one entry of the change history.

The prefill turns the request into text once: the unit as 3栋2单元1502, the customer as 李女士,
phone and ID numbers masked, the customer-visible timeline summarised. From then on the study is a
text of its own, so later changes of the request leave it as it was written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from guanjia.cases.choices import DONE_STATUSES, CaseType, EventKind, FollowUpOutcome, Visibility
from guanjia.cases.models import Case, Category
from guanjia.cases.queries import cases_for, events_of
from guanjia.core.history import record_change, snapshot
from guanjia.estate.choices import Gender, PartyKind
from guanjia.estate.identity import mask_id_number, mask_phone
from guanjia.estate.models import Occupancy
from guanjia.org.models import Department
from guanjia.org.permissions import can

from .choices import CaseStudyStatus as St
from .choices import CaseStudyStepKind as Step
from .models import TAG_SEPARATOR, CaseStudy, CaseStudyStep

TEXT_MAX = 10000
TITLE_MAX = 100
TAGS_MAX = 8
TAG_MAX = 20
COMMENT_MAX = 2000
# The parts a study must have before it goes to review.
REQUIRED_PARTS = ("title", "background", "handling", "outcome", "lessons")
TEXT_PARTS = ("background", "handling", "outcome", "lessons")
EDITABLE = ("title", "case_type", "category", "tags", "unit_label", "customer_label", *TEXT_PARTS)

# ------------------------------------------------------------------------------------------------ personal data

# Two-character surnames, so that 欧阳娜娜 becomes 欧阳女士 rather than 欧女士.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 轩辕 端木 独孤 南宫 西门 百里 "
    "呼延 钟离 澹台 公冶 太史 申屠 赫连 闻人 濮阳 第五".split()
)
# A name that is already a form of address (李女士, 王师傅) says no more than the masked form.
_ADDRESS = re.compile(r"^[\u4e00-\u9fff]{1,2}(女士|先生|小姐|阿姨|师傅|老师|某)$")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")


def mask_name(name: str, gender: str = "") -> str:
    """李娜 (female) → 李女士, 张伟 (male) → 张先生, gender unknown → 张某; 欧阳娜娜 → 欧阳女士."""
    name = (name or "").strip()
    if not name:
        return ""
    if _ADDRESS.match(name):
        return name
    if not re.match(r"[\u4e00-\u9fff]", name):
        # A name in Latin letters: its initial.
        return f"{name[0].upper()}."
    surname = name[:2] if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else name[0]
    # Chinese names are written up the Chinese way in every language of the interface.
    return surname + {Gender.FEMALE: "女士", Gender.MALE: "先生"}.get(gender, "某")


def mask_numbers(text: str) -> str:
    """Phone and ID-card numbers in free text, masked as everywhere else (138****5678, 1101**********123X)."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group().upper()), text)
    text = _MOBILE.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group())), text)
    return _LANDLINE.sub(lambda m: mask_phone(m.group()), text)


def scrub(text: str, names: dict[str, str]) -> str:
    """`text` with numbers masked and each full name in `names` replaced by its masked form."""
    text = mask_numbers(text or "")
    for full, masked in sorted(names.items(), key=lambda item: -len(item[0])):
        if len(full) >= 2 and full != masked:
            text = text.replace(full, masked)
    return text


# ------------------------------------------------------------------------------------------------ prefill

# Steps of the request worth a line in "how it was handled" even when their notes are internal.
_MILESTONES = frozenset(
    {
        EventKind.RECORDED,
        EventKind.DISPATCHED,
        EventKind.STARTED,
        EventKind.SUBMITTED,
        EventKind.SUSPENDED,
        EventKind.RESUMED,
        EventKind.CLOSED,
        EventKind.REOPENED,
        EventKind.FOLLOWED_UP,
        EventKind.ESCALATED,
    }
)


def _people(case: Case) -> tuple[str, dict[str, str]]:
    """The customer as the study names them, and every known name of the request's people → its masked form."""
    party = case.party
    names: dict[str, str] = {}
    if party is not None and party.kind == PartyKind.ORGANISATION:
        customer = party.name
    elif party is not None:
        customer = mask_name(party.name, party.gender)
        names[party.name] = customer
    else:
        customer = mask_name(case.caller_name)
    if case.caller_name and case.caller_name not in names:
        same = party is not None and case.caller_name == party.name
        names[case.caller_name] = customer if same else mask_name(case.caller_name)
    # Other people living in the units concerned (a tenant, a family member) may be named in the text.
    occupants = (
        Occupancy.objects.current()
        .filter(unit__in=case.units.all(), party__kind=PartyKind.PERSON)
        .values_list("party__name", "party__gender")
    )
    for name, gender in occupants:
        names.setdefault(name, mask_name(name, gender))
    return customer, names


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def _handling_lines(case: Case, names: dict[str, str]) -> list[str]:
    """The request's course: its milestones (without internal notes) and what the customer was told."""
    events = list(events_of(case))
    departments = {
        e.data.get("department") for e in events if e.kind == EventKind.DISPATCHED and (e.data or {}).get("department")
    }
    department_names = dict(Department.objects.filter(pk__in=departments).values_list("pk", "name"))
    lines = []
    for event in events:
        data = event.data or {}
        customer_visible = event.visibility == Visibility.CUSTOMER
        note = scrub(event.note, names).strip() if customer_visible else ""
        if event.kind not in _MILESTONES and not note:
            continue
        step = str(event.get_kind_display())
        if event.kind == EventKind.NOTE:
            step = _("The owner added") if data.get("from_customer") else _("Told the customer")
        detail = ""
        if event.kind == EventKind.DISPATCHED and data.get("department") in department_names:
            detail = department_names[data["department"]]
        elif event.kind == EventKind.FOLLOWED_UP and data.get("outcome") in FollowUpOutcome.values:
            detail = str(FollowUpOutcome(data["outcome"]).label)
        if detail:
            step = _("%(step)s (%(detail)s)") % {"step": step, "detail": detail}
        if note:
            lines.append(_("%(time)s %(step)s: %(note)s") % {"time": _when(event.time), "step": step, "note": note})
        else:
            lines.append(f"{_when(event.time)} {step}")
    return lines


def _outcome_lines(case: Case, names: dict[str, str]) -> list[str]:
    lines = []
    if case.closed_at:
        closing = events_of(case).filter(kind=EventKind.CLOSED).order_by("-seq").first()
        note = scrub(closing.note, names).strip() if closing and closing.visibility == Visibility.CUSTOMER else ""
        when = date_format(timezone.localtime(case.closed_at).date(), "DATE_FORMAT")
        if note:
            lines.append(_("Closed on %(date)s: %(note)s") % {"date": when, "note": note})
        else:
            lines.append(_("Closed on %(date)s.") % {"date": when})
    if case.handling_minutes:
        hours = round(case.handling_minutes / 60, 1)
        lines.append(_("Handled in %(hours)s working hours.") % {"hours": hours})
    if case.reopened_count:
        lines.append(
            ngettext(
                "Reopened once before the matter was settled.",
                "Reopened %(count)s times before the matter was settled.",
                case.reopened_count,
            )
            % {"count": case.reopened_count}
        )
    follow_up = case.follow_ups.exclude(outcome="").filter(done_at__isnull=False).order_by("-done_at", "-id").first()
    if follow_up is not None:
        outcome = str(FollowUpOutcome(follow_up.outcome).label) if follow_up.outcome in FollowUpOutcome.values else ""
        note = scrub(follow_up.note, names).strip()
        if note.rstrip("。.") == outcome:
            note = ""  # "满意" said again as the note
        text = _("Follow-up call: %(outcome)s.") % {"outcome": outcome}
        lines.append(f"{text}{note}" if note else text)
    return lines


def _tags(case: Case) -> list[str]:
    tags = [
        label
        for flag, label in (
            (case.risk_major, _("Major complaint")),
            (case.risk_group, _("Group complaint")),
            (case.risk_media, _("Media involved")),
            (case.risk_government, _("Government involved")),
        )
        if flag
    ]
    if case.repeat_of_id:
        tags.append(_("Repeat complaint"))
    return tags


def prefill(case: Case) -> dict:
    """The first draft of a study of `case`, with the customer's personal data masked."""
    units = list(case.units.select_related("building", "entrance").order_by("pk"))
    unit_label = "、".join(u.label for u in units)
    customer, names = _people(case)
    received = timezone.localtime(case.received_at)
    place = f"{case.project.name}{unit_label}"
    values = {
        "date": date_format(received.date(), "DATE_FORMAT"),
        "place": place,
        "customer": customer or _("a customer"),
        "channel": case.get_channel_display(),
        "description": scrub(case.description, names).strip(),
    }
    background = _("On %(date)s, %(customer)s of %(place)s reported through %(channel)s: %(description)s") % values
    subject = case.get_case_type_display()
    if case.category_id:
        subject = _("%(category)s %(type)s") % {"category": case.category.name, "type": subject}
    title = _("%(project)s: %(subject)s") % {"project": case.project.name, "subject": subject}
    return {
        "project": case.project,
        "occurred_on": received.date(),
        "case_type": case.case_type,
        "category": case.category,
        "category_path": case.category.path if case.category_id else "",
        "unit_label": unit_label[:100],
        "customer_label": customer[:50],
        "title": title[:TITLE_MAX],
        "tags": TAG_SEPARATOR.join(_tags(case)),
        "background": background,
        "handling": "\n".join(_handling_lines(case, names)),
        "outcome": "\n".join(_outcome_lines(case, names)),
        "lessons": "",
    }


# ------------------------------------------------------------------------------------------------ rules

ACTIONS = ("edit", "submit", "approve", "return", "withdraw", "revise")
ALLOWED_FROM = {
    "edit": frozenset({St.DRAFT}),
    "submit": frozenset({St.DRAFT}),
    "approve": frozenset({St.IN_REVIEW}),
    "return": frozenset({St.IN_REVIEW}),
    "withdraw": frozenset({St.DRAFT, St.PUBLISHED}),
    "revise": frozenset({St.WITHDRAWN}),
}


def status_refusal(action: str, status: str) -> str:
    label = str(St(status).label) if status in St.values else status
    messages = {
        "edit": _("Only a draft can be edited; this case study is “%(status)s”."),
        "submit": _("Only a draft can be submitted for review; this case study is “%(status)s”."),
        "approve": _("Only a case study in review can be published; this one is “%(status)s”."),
        "return": _("Only a case study in review can be returned; this one is “%(status)s”."),
        "withdraw": _("Only a draft or a published case study can be withdrawn; this one is “%(status)s”."),
        "revise": _("Only a withdrawn case study can be taken back for revision; this one is “%(status)s”."),
    }
    return messages[action] % {"status": label}


def may_write(user) -> bool:
    """The role may mark requests as typical and write case studies."""
    return can(user, "case_study", "write")


def may_review(user) -> bool:
    return can(user, "case_study", "review")


def _role_allows(user, study: CaseStudy, action: str) -> bool:
    author = study.author_id == user.pk and may_write(user)
    if action in ("edit", "submit"):
        return author
    if action in ("approve", "return"):
        return may_review(user)
    if action == "withdraw":
        return may_review(user) or (author and study.status == St.DRAFT)
    return author or may_review(user)  # revise


def allowed_actions(user, study: CaseStudy) -> list[str]:
    """What `user` may do to `study` now; the services check the same again on the locked row."""
    return [
        action
        for action in ACTIONS
        if study.status in ALLOWED_FROM[action]
        and _role_allows(user, study, action)
        and not (action in ("approve", "return") and study.author_id == user.pk)
    ]


def _check(user, study: CaseStudy, action: str, expected_version: int | None) -> None:
    """Refuse with a reason: role (PermissionDenied), scope (PermissionDenied), status, own review, version."""
    if not _role_allows(user, study, action):
        if action in ("edit", "submit"):
            raise PermissionDenied(_("Only the author may change this case study."))
        raise PermissionDenied(_("Your role may not review case studies."))
    if not cases_for(user).filter(pk=study.case_id).exists():
        raise PermissionDenied(_("This request does not exist or is outside your scope."))
    if study.status not in ALLOWED_FROM[action]:
        raise ValidationError({"status": status_refusal(action, study.status)}, code="invalid_transition")
    if action in ("approve", "return") and study.author_id == user.pk:
        raise ValidationError(
            {"reviewer": _("You wrote this case study; another reviewer has to review it.")}, code="own_review"
        )
    if expected_version is not None and int(expected_version) != study.version:
        raise ValidationError(
            {
                "version": _(
                    "Someone else changed this case study in the meantime; reload the page and make your changes again."
                )
            },
            code="conflict",
        )


def _lock(study: CaseStudy) -> CaseStudy:
    return CaseStudy.objects.select_for_update().select_related("case").get(pk=study.pk)


def _comment(text: str | None, *, required: str | None = None) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationError({"comment": required})
    if len(text) > COMMENT_MAX:
        raise ValidationError(
            {"comment": _("The comment may be at most %(count)s characters long.") % {"count": COMMENT_MAX}}
        )
    return text


def _step(study: CaseStudy, actor, kind: str, from_status: str, comment: str, now) -> CaseStudyStep:
    return CaseStudyStep.objects.create(
        study=study, kind=kind, from_status=from_status, to_status=study.status, actor=actor, time=now, comment=comment
    )


# ------------------------------------------------------------------------------------------------ services


def do_mark_case_typical(user, case: Case) -> tuple[CaseStudy, bool]:
    """The study of `case`, created as a prefilled draft when there is none: (study, created).

    A request has one study at most; marking it again returns the one there is.
    """
    if not may_write(user):
        raise PermissionDenied(_("Your role may not write case studies."))
    if not cases_for(user).filter(pk=case.pk).exists():
        raise PermissionDenied(_("This request does not exist or is outside your scope."))
    existing = CaseStudy.objects.filter(case=case).first()
    if existing is not None:
        return existing, False
    if case.merged_into_id:
        raise ValidationError({"case": _("This request was merged into another one; mark that one instead.")})
    if case.status not in DONE_STATUSES:
        raise ValidationError(
            {"case": _("Only a closed request can become a case study: its handling and result are not known yet.")}
        )
    now = timezone.now()
    data = prefill(case)
    try:
        with transaction.atomic():
            study = CaseStudy.objects.create(case=case, author=user, created_at=now, **data)
            _step(study, user, Step.MARKED, "", "", now)
            record_change(study, user)
    except IntegrityError:
        # Someone marked it at the same moment: the one-to-one link keeps one study.
        return CaseStudy.objects.get(case=case), False
    return study, True


def _split_tags(raw) -> list[str]:
    if isinstance(raw, list | tuple):
        items = [str(t) for t in raw]
    else:
        items = re.split(r"[,，、;；\s]+", str(raw or ""))
    tags: list[str] = []
    for item in items:
        item = item.strip()
        if item and item not in tags:
            tags.append(item)
    return tags


def _clean_fields(values: dict) -> dict:
    """The editable fields checked and normalised; errors name the field."""
    errors: dict[str, str] = {}
    clean: dict = {}
    for name in ("title", "unit_label", "customer_label", *TEXT_PARTS):
        if name in values:
            clean[name] = mask_numbers(str(values[name] or "").strip().replace("\r\n", "\n"))
    if "title" in clean:
        if not clean["title"]:
            errors["title"] = _("Give the case study a title.")
        elif len(clean["title"]) > TITLE_MAX:
            errors["title"] = _("The title may be at most %(count)s characters long.") % {"count": TITLE_MAX}
    for name, limit in (("unit_label", 100), ("customer_label", 50)):
        if len(clean.get(name, "")) > limit:
            errors[name] = _("At most %(count)s characters.") % {"count": limit}
    for name in TEXT_PARTS:
        if len(clean.get(name, "")) > TEXT_MAX:
            errors[name] = _("At most %(count)s characters.") % {"count": TEXT_MAX}
    if "case_type" in values:
        if values["case_type"] not in CaseType.values:
            errors["case_type"] = _("Choose a type.")
        else:
            clean["case_type"] = values["case_type"]
    if "category" in values:
        category = values["category"]
        if category is not None and not isinstance(category, Category):
            category = Category.objects.filter(pk=category).first() if str(category).isdigit() else None
            if category is None:
                errors["category"] = _("Choose a category from the list.")
        clean["category"] = category
        clean["category_path"] = category.path if category is not None else ""
    if "tags" in values:
        tags = _split_tags(values["tags"])
        if len(tags) > TAGS_MAX:
            errors["tags"] = _("At most %(count)s tags.") % {"count": TAGS_MAX}
        elif any(len(t) > TAG_MAX for t in tags):
            errors["tags"] = _("A tag may be at most %(count)s characters long.") % {"count": TAG_MAX}
        clean["tags"] = TAG_SEPARATOR.join(tags)
    if errors:
        raise ValidationError(errors)
    return clean


def do_update_case_study(user, study: CaseStudy, *, expected_version: int | None, **values) -> CaseStudy:
    """Save the author's edits of a draft. Phone and ID numbers typed into the text are masked."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    _check(user, study, "edit", expected_version)
    clean = _clean_fields(values)
    with transaction.atomic():
        study = _lock(study)
        _check(user, study, "edit", expected_version)
        before = snapshot(study)
        for name, value in clean.items():
            setattr(study, name, value)
        if snapshot(study) == before:
            return study  # nothing changed: no new version, no history entry
        study.version += 1
        study.save()
        record_change(study, user, before)
    return study


def do_submit_case_study(user, study: CaseStudy, *, expected_version: int | None, comment: str = "") -> CaseStudy:
    """The author hands the draft to review; every part must be written."""
    comment = _comment(comment)
    with transaction.atomic():
        study = _lock(study)
        _check(user, study, "submit", expected_version)
        missing = {
            name: _("Write this part before submitting the case study.")
            for name in REQUIRED_PARTS
            if not (getattr(study, name) or "").strip()
        }
        if missing:
            raise ValidationError(missing)
        return _move(study, user, St.IN_REVIEW, Step.SUBMITTED, comment, submitted=True)


def do_approve_case_study(user, study: CaseStudy, *, expected_version: int | None, comment: str = "") -> CaseStudy:
    """A reviewer publishes the study: it joins the collection as it is written now."""
    comment = _comment(comment)
    with transaction.atomic():
        study = _lock(study)
        _check(user, study, "approve", expected_version)
        return _move(study, user, St.PUBLISHED, Step.PUBLISHED, comment, reviewer=True)


def do_return_case_study(user, study: CaseStudy, *, expected_version: int | None, comment: str) -> CaseStudy:
    """A reviewer sends the study back to its author as a draft, saying what to change."""
    comment = _comment(comment, required=_("Say what the author should change."))
    with transaction.atomic():
        study = _lock(study)
        _check(user, study, "return", expected_version)
        return _move(study, user, St.DRAFT, Step.RETURNED, comment, reviewer=True)


def do_withdraw_case_study(user, study: CaseStudy, *, expected_version: int | None, comment: str) -> CaseStudy:
    """Take a published study out of the collection (a reviewer), or drop a draft (its author or a reviewer)."""
    comment = _comment(comment, required=_("Give the reason for withdrawing it."))
    with transaction.atomic():
        study = _lock(study)
        _check(user, study, "withdraw", expected_version)
        return _move(study, user, St.WITHDRAWN, Step.WITHDRAWN, comment)


def do_revise_case_study(user, study: CaseStudy, *, expected_version: int | None, comment: str = "") -> CaseStudy:
    """Take a withdrawn study back as a draft for its author to rework and submit again."""
    comment = _comment(comment)
    with transaction.atomic():
        study = _lock(study)
        _check(user, study, "revise", expected_version)
        return _move(study, user, St.DRAFT, Step.REVISED, comment)


def _move(study: CaseStudy, user, to: str, kind: str, comment: str, *, submitted=False, reviewer=False) -> CaseStudy:
    now = timezone.now()
    before = study.status
    study.status = to
    study.version += 1
    if submitted:
        study.submitted_at = now
    if reviewer:
        study.reviewer = user
    if to == St.PUBLISHED:
        study.published_at = now
        study.withdrawn_at = None
    elif to == St.WITHDRAWN:
        study.withdrawn_at = now
    elif to == St.DRAFT:
        study.published_at = None
    study.save()
    _step(study, user, kind, before, comment, now)
    return study


DO = {
    "submit": do_submit_case_study,
    "approve": do_approve_case_study,
    "return": do_return_case_study,
    "withdraw": do_withdraw_case_study,
    "revise": do_revise_case_study,
}


# ------------------------------------------------------------------------------------------------ the booklet

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 25 → 二十五; 100 and above stay in digits."""
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
    return str(n)


def chapter_label(n: int) -> str:
    number = chinese_number(n) if (get_language() or "").startswith("zh") else str(n)
    return _("Case %(number)s") % {"number": number}


@dataclass
class Chapter:
    number: int
    label: str
    study: CaseStudy


@dataclass
class Booklet:
    """What the collection's PDF prints: a cover, the contents, one chapter per study."""

    title: str
    year_label: str
    scope_name: str
    filters: list[tuple[str, str]]
    compiled_on: date
    chapters: list[Chapter] = field(default_factory=list)

    @property
    def compiled_label(self) -> str:
        return date_format(self.compiled_on, "DATE_FORMAT")


def build_booklet(studies, *, scope_name: str, filters: list[tuple[str, str]], year: int | None) -> Booklet:
    studies = list(studies)
    if year:
        year_label = str(year)
    else:
        years = sorted({s.occurred_on.year for s in studies}) or [timezone.localdate().year]
        year_label = str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"
    title = _("Customer service case collection %(year)s") % {"year": year_label}
    chapters = [Chapter(i, chapter_label(i), s) for i, s in enumerate(studies, start=1)]
    return Booklet(
        title=title,
        year_label=year_label,
        scope_name=scope_name,
        filters=filters,
        compiled_on=timezone.localdate(),
        chapters=chapters,
    )
