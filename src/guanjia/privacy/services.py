"""Every write about personal data: the access log, revealing an ID number, a person's data export and
anonymisation (PIPL 《个人信息保护法》; docs/privacy.md).

How the access log is written, and what happens when it cannot be:

* One INSERT (`record_access`), with everything the row needs already in hand (the party's project,
  the user's company): no read before it, no update after it, no background job.
* It is written *before* the personal data leaves the server, in the request itself: a party page is
  logged before it is rendered, a revealed ID number before it is returned, an export after the
  workbook is built and before its first byte is sent.
* It is never swallowed. If the insert fails, the exception propagates: the user gets a server
  error (logged by Django as any other) and no data. An access that cannot be logged does not
  happen. A request that fails *after* its row was written leaves the row: the log may hold an
  access whose page then broke, never the other way round.
"""

import json
import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.cases.models import Case, CaseEvent, CaseTask, FollowUp
from guanjia.cases.search import refresh_search_text
from guanjia.core.history import record_change, snapshot
from guanjia.core.models import ObjectChange
from guanjia.estate import identity
from guanjia.estate.models import ContactLog, Occupancy, Party, Unit
from guanjia.estate.services import name_pinyin
from guanjia.org.choices import ScopeLevel
from guanjia.org.permissions import can
from guanjia.portal.models import (
    CaseRating,
    DevOutboxMessage,
    PortalAccount,
    PortalSession,
    RateEvent,
    SignInCode,
    UnitBinding,
)
from guanjia.portal.sessions import client_ip
from guanjia.telephony.models import Call, CallEvent
from guanjia.wechat.models import DraftCase, TemplateMessage, WeChatFollower, WeChatMessage

from . import exports
from .choices import AccessAction, ExportFormat
from .masking import may_reveal_id_number, may_see_full_phone
from .models import PartyAnonymisation, PersonalDataAccess
from .queries import calls_of_party, cases_of_party, own_phones, party_phones, person_data, portal_accounts_of

# What replaces a name or a phone: 已匿名-<party id>; and any other personal text.
PLACEHOLDER = "已匿名"
TEXT_PLACEHOLDER = "（已匿名）"
DESCRIPTION_MAX = 500

# --- the access log ------------------------------------------------------------------------------


def record_access(
    user,
    action: str,
    *,
    request=None,
    party: Party | None = None,
    project_id: int | None = None,
    company_id: int | None = None,
    description: str = "",
    row_count: int | None = None,
    reason: str = "",
) -> PersonalDataAccess:
    """Write one row of the access log (one INSERT) and return it; failures propagate (see the module)."""
    if party is not None and project_id is None:
        project_id = party.project_id
    return PersonalDataAccess.objects.create(
        time=timezone.now(),
        user=user if getattr(user, "pk", None) else None,
        username=user.get_username() if getattr(user, "pk", None) else "",
        action=action,
        party=party,
        project_id=project_id,
        company_id=company_id,
        ip=client_ip(request) if request is not None else None,
        description=description[:DESCRIPTION_MAX],
        row_count=row_count,
        reason=reason,
    )


def record_party_view(request, party: Party) -> PersonalDataAccess:
    """A party's page (or its API record) is about to be shown to `request.user`."""
    user = request.user
    action = AccessAction.VIEW_FULL_PHONE if may_see_full_phone(user) else AccessAction.VIEW_PARTY
    return record_access(user, action, request=request, party=party)


# Labels of filter names that come from the API (the console's forms bring their own).
def _filter_labels() -> dict[str, str]:
    return {
        "view": _("Queue"),
        "q": _("Search"),
        "project": _("Project"),
        "case_type": _("Type"),
        "type": _("Type"),
        "severity": _("Severity"),
        "assignee": _("Assignee"),
        "owner": _("First-contact owner"),
        "created_after": _("Received from"),
        "created_before": _("Received to"),
        "category": _("Category"),
        "status": _("Status"),
        "department": _("Department"),
        "channel": _("Channel"),
        "received_from": _("Received from"),
        "received_to": _("Received to"),
        "tag": _("Tag"),
        "role": _("Role"),
    }


def describe_filters(values: dict, form=None) -> str:
    """The filters of an export as a reader of the log understands them: 项目：绿色家园；搜索：漏水."""
    labels = _filter_labels()
    parts = []
    for name, value in values.items():
        if value in (None, "", []):
            continue
        field = form.fields.get(name) if form is not None else None
        label = str(field.label) if field is not None and field.label else labels.get(name, name)
        choices = dict(getattr(field, "choices", None) or []) if field is not None else {}
        if name == "view" and not choices:
            from guanjia.cases.filters import VIEWS

            choices = VIEWS
        shown = choices.get(value, value) if isinstance(value, str) else value
        if isinstance(shown, list | tuple | set):
            shown = "、".join(str(v) for v in shown)
        parts.append(f"{label}：{shown}")
    return "；".join(parts) or _("no filter")


def _project_id(value: Any) -> int | None:
    value = getattr(value, "pk", value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def record_export(user, *, title: str, filters: dict, row_count: int, request=None, form=None) -> PersonalDataAccess:
    """An xlsx export of a list with personal data: what (`title`), which filters, how many rows.

    The row is placed for the log's own scoping at the project the export was narrowed to, else at the
    exporter's project (project and area scope) or company (company scope); a group-wide export of
    everything is seen only by group-wide readers of the log.
    """
    project_id = _project_id(filters.get("project"))
    company_id = None
    if project_id is None:
        if user.scope_level in (ScopeLevel.PROJECT, ScopeLevel.AREA):
            project_id = user.project_id
        elif user.scope_level == ScopeLevel.COMPANY:
            company_id = user.company_id
    description = f"{title} · {describe_filters(filters, form)}"
    return record_access(
        user,
        AccessAction.EXPORT,
        request=request,
        project_id=project_id,
        company_id=company_id,
        description=description,
        row_count=row_count,
    )


# --- revealing an ID number ----------------------------------------------------------------------


def reveal_id_number(user, party: Party, *, request=None) -> str:
    """The whole ID number of `party` (already accessed by `user`), written to the access log first."""
    if not may_reveal_id_number(user):
        raise PermissionDenied
    if not party.id_number_encrypted:
        raise ValidationError({"id_number": [_("No ID number is on file.")]})
    number = identity.reveal_id_number(party.id_number_encrypted)
    record_access(user, AccessAction.REVEAL_ID, request=request, party=party)
    return number


# --- a person's data export (right of access) ----------------------------------------------------


def export_person_data(
    user, party: Party, fmt: str, *, full_id_number: bool = False, request=None
) -> tuple[bytes, str, str]:
    """(content, file name, content type) of everything held about `party`, logged before it is returned."""
    if not can(user, "party", "export_data"):
        raise PermissionDenied
    if full_id_number and not may_reveal_id_number(user):
        raise PermissionDenied
    if fmt not in ExportFormat.values:
        raise ValidationError({"format": [_("Choose Excel or JSON.")]})
    data = person_data(user, party, full_id_number=full_id_number)
    content = exports.person_xlsx(data) if fmt == ExportFormat.XLSX else exports.person_json(data)
    description = ExportFormat(fmt).label
    if full_id_number:
        whole = _("whole ID number")
        description = f"{description} · {whole}"
    record_access(
        user,
        AccessAction.PERSON_EXPORT,
        request=request,
        party=party,
        description=str(description),
        row_count=data.row_count,
    )
    stamp = timezone.localtime(data.exported_at).strftime("%Y%m%d-%H%M")
    title = _("Personal data")
    name = f"{title}-{party.pk}-{stamp}.{fmt}"
    return content, name, exports.XLSX if fmt == ExportFormat.XLSX else exports.JSON


# --- anonymisation (right of deletion) -----------------------------------------------------------


def placeholder_for(party: Party) -> str:
    return f"{PLACEHOLDER}-{party.pk}"


class _Scrubber:
    """Replaces a person's identifiers (name, phones, ID number) inside free text and JSON values."""

    def __init__(self, party: Party, label: str):
        needles = set(party_phones(party))
        needles |= {p.replace("-", "") for p in needles}
        if len(party.name.strip()) >= 2:
            needles.add(party.name.strip())
        if party.id_number_encrypted:
            needles.add(identity.reveal_id_number(party.id_number_encrypted))
        if party.id_number_masked:
            needles.add(party.id_number_masked)
        self.label = label
        # Longest first, so that 13812345678 goes before a shorter name inside it could.
        ordered = sorted((n for n in needles if n), key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(n) for n in ordered)) if ordered else None

    def text(self, value: str) -> str:
        if not value or self.pattern is None:
            return value
        return self.pattern.sub(self.label, value)

    def json(self, value: Any) -> Any:
        if self.pattern is None or value in (None, "", {}, []):
            return value
        dumped = json.dumps(value, ensure_ascii=False)
        scrubbed = self.text(dumped)
        return value if scrubbed == dumped else json.loads(scrubbed)


def _scrub_rows(queryset, scrubber: _Scrubber, fields: tuple[str, ...], *, json_fields: tuple[str, ...] = ()) -> int:
    """Rewrite the text (and JSON) fields of the rows that mention the person; returns rows changed.

    Written with the base `QuerySet.update`, one row at a time: request events refuse `update()`
    on purpose (the timeline is immutable), and anonymisation is the one change the law requires.
    """
    changed = 0
    model = queryset.model
    for row in queryset.values("pk", *fields, *json_fields):
        new = {f: scrubber.text(row[f]) for f in fields if scrubber.text(row[f]) != row[f]}
        new |= {f: scrubber.json(row[f]) for f in json_fields if scrubber.json(row[f]) != row[f]}
        if new:
            models.QuerySet(model).filter(pk=row["pk"]).update(**new)
            changed += 1
    return changed


# Party fields whose recorded values in the change history are replaced outright.
_PERSONAL_HISTORY_FIELDS = ("name", "phone", "phone2", "id_number_masked", "note", "gender", "tags")


def _scrub_history(party: Party, scrubber: _Scrubber, related: dict[type[models.Model], list[int]]) -> None:
    """The change history of the party and of the rows that named it (its units, bindings, followers)."""
    from django.contrib.contenttypes.models import ContentType

    for model, ids in {Party: [party.pk], **related}.items():
        if not ids:
            continue
        rows = ObjectChange.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
        for change in rows:
            changes = change.changes
            if model is Party:
                for name in _PERSONAL_HISTORY_FIELDS:
                    values = changes.get(name)
                    if isinstance(values, list):
                        changes[name] = [TEXT_PLACEHOLDER if v not in (None, "") else v for v in values]
            changes = scrubber.json(changes)
            object_repr = scrubber.label if model is Party else scrubber.text(change.object_repr)
            if changes != change.changes or object_repr != change.object_repr:
                ObjectChange.objects.filter(pk=change.pk).update(changes=changes, object_repr=object_repr)


def anonymise_party(party: Party, by, reason: str, *, request=None) -> PartyAnonymisation:
    """Replace everything that identifies `party` with placeholders, keep everything that is counted.

    Replaced: the party's name (已匿名-<id>), phones, ID number, gender, tags and note; the summaries
    of its contact log and the notes of its occupancies; in its requests (as customer or caller) the
    caller's name and phone, and the name, phones and ID number wherever they appear in the texts
    (description, timeline notes, tasks, follow-up notes), then the search index; its owner-portal
    accounts (phone replaced, account closed, sessions and sign-in codes deleted), the name given in
    its bindings and the comments of its ratings; its hotline calls' numbers; its WeChat followers'
    openids and messages; and the old values in the change history.

    Kept: the party row and its id, its occupancies (units, roles, dates: households are counted),
    its requests with their types, categories, dates, deadlines, SLA states and follow-up outcomes,
    ratings' stars, calls and their times, so every report counts the same before and after.

    Irreversible. Needs ("party", "anonymise") and a reason; refused for a party already anonymised.
    The access log and the party's change history record it.
    """
    if not can(by, "party", "anonymise"):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for the anonymisation.")]})
    with transaction.atomic():
        party = Party.objects.select_for_update().select_related("project").get(pk=party.pk)
        if PartyAnonymisation.objects.filter(party_id=party.pk).exists():
            raise ValidationError({"party": [_("This party has already been anonymised.")]})
        label = placeholder_for(party)
        scrubber = _Scrubber(party, label)
        # The reason is written into the log and the history: it must not carry the identifiers either.
        reason = scrubber.text(reason)

        # Gather everything tied to the person while the identifiers are still on the party.
        case_ids = list(cases_of_party(Case.objects.all(), party).values_list("pk", flat=True))
        accounts = list(portal_accounts_of(party).values_list("pk", flat=True))
        phones = own_phones(party)
        call_ids = list(calls_of_party(Call.objects.all(), party).values_list("pk", flat=True))
        followers = list(WeChatFollower.objects.filter(party=party).values_list("pk", flat=True))
        unit_ids = list(Occupancy.objects.filter(party=party).values_list("unit_id", flat=True).distinct())
        binding_ids = list(
            UnitBinding.objects.filter(Q(party=party) | Q(account_id__in=accounts)).values_list("pk", flat=True)
        )

        _scrub_history(party, scrubber, {Unit: unit_ids, UnitBinding: binding_ids, WeChatFollower: followers})

        pinyin, initials = name_pinyin(label)
        Party.objects.filter(pk=party.pk).update(
            name=label,
            name_pinyin=pinyin,
            name_initials=initials,
            gender="",
            phone="",
            phone2="",
            phone_tail="",
            id_number_encrypted="",
            id_number_digest="",
            id_number_masked="",
            note="",
            updated_at=timezone.now(),
        )
        party.tags.clear()
        Occupancy.objects.filter(party=party).exclude(note="").update(note="")
        ContactLog.objects.filter(party=party).update(summary=TEXT_PLACEHOLDER)

        # Requests: who called, and the identifiers inside what was written about them.
        cases = Case.objects.filter(pk__in=case_ids)
        cases.filter(Q(party__isnull=True) | ~Q(caller_name="")).update(caller_name=label)
        cases.exclude(caller_phone="").update(caller_phone="")
        _scrub_rows(cases, scrubber, ("description",))
        _scrub_rows(CaseEvent.objects.filter(case_id__in=case_ids), scrubber, ("note",), json_fields=("data",))
        _scrub_rows(
            CaseTask.objects.filter(case_id__in=case_ids), scrubber, ("title", "plan", "report", "rejection_note")
        )
        _scrub_rows(FollowUp.objects.filter(case_id__in=case_ids), scrubber, ("note",))
        # A request merged into another lends it its tokens: refresh the merged ones first, then their targets.
        for case in Case.objects.filter(pk__in=case_ids):
            refresh_search_text(case)
        merged_into = Case.objects.filter(pk__in=case_ids, merged_into__isnull=False).values("merged_into_id")
        for case in Case.objects.filter(pk__in=merged_into):
            refresh_search_text(case)

        # The owner portal: the account is the person's phone; it is closed, not deleted (ratings stay).
        for account_id in accounts:
            PortalAccount.objects.filter(pk=account_id).update(phone=f"{PLACEHOLDER}-{account_id}", is_active=False)
        PortalSession.objects.filter(account_id__in=accounts).delete()
        UnitBinding.objects.filter(pk__in=binding_ids).update(claimed_name=label, note="")
        _scrub_rows(UnitBinding.objects.filter(pk__in=binding_ids), scrubber, ("reject_reason",))
        CaseRating.objects.filter(account_id__in=accounts).exclude(comment="").update(comment=TEXT_PLACEHOLDER)
        if phones:
            SignInCode.objects.filter(phone__in=phones).delete()
            DevOutboxMessage.objects.filter(phone__in=phones).delete()
            RateEvent.objects.filter(key__in=phones).delete()

        # The hotline: the calls stay (with their times and requests), their numbers go.
        Call.objects.filter(pk__in=call_ids).update(caller="", caller_raw="")
        _scrub_rows(CallEvent.objects.filter(call_id__in=call_ids), scrubber, (), json_fields=("payload",))

        # WeChat: the follower's openid is its identity; its messages are its own text.
        for follower_id in followers:
            anonymous = f"{PLACEHOLDER}-{follower_id}"
            WeChatFollower.objects.filter(pk=follower_id).update(openid=anonymous, subscribed=False)
        WeChatMessage.objects.filter(follower_id__in=followers).update(content=TEXT_PLACEHOLDER, media_id="")
        DraftCase.objects.filter(follower_id__in=followers).exclude(text="").update(text=TEXT_PLACEHOLDER)
        _scrub_rows(TemplateMessage.objects.filter(follower_id__in=followers), scrubber, (), json_fields=("params",))

        anonymisation = PartyAnonymisation.objects.create(party=party, by=by, reason=reason)
        party.refresh_from_db()
        record_change(
            party,
            by,
            snapshot(party),
            action=ObjectChange.Action.UPDATE,
            extra={"anonymised": [None, reason]},
            source="privacy",
        )
        record_access(by, AccessAction.ANONYMISE, request=request, party=party, reason=reason)
    return anonymisation
