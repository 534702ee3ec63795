"""Scoped reads of personal data: the access log as a reader may browse it, and everything held about
one person (PIPL right of access), as far as the reader's scope reaches.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanjia.cases.choices import Visibility
from guanjia.cases.models import Case, CaseEvent, FollowUp
from guanjia.cases.queries import cases_for, follow_ups_for
from guanjia.estate.identity import reveal_id_number
from guanjia.estate.models import ContactLog, Occupancy, Party
from guanjia.estate.queries import contacts_for, occupancies_for, parties_for, units_for
from guanjia.org.choices import ScopeLevel
from guanjia.org.permissions import can
from guanjia.org.scope import scope_of
from guanjia.portal.models import CaseRating, PortalAccount, UnitBinding
from guanjia.telephony.models import Call
from guanjia.telephony.queries import calls_for
from guanjia.wechat.models import WeChatFollower, WeChatMessage, mask_openid

from .models import PartyAnonymisation, PersonalDataAccess

# --- the access log ------------------------------------------------------------------------------


def access_log_for(user):
    """The access-log rows `user` may browse: none without ("privacy", "view_log"); group scope all of
    them; otherwise the accesses to the customers `parties_for(user)` holds, the exports of projects in
    scope, and, for a city company's scope, the company-wide exports. An area's scope adds only the
    reader's own exports: a project's export holds more than the area."""
    rows = PersonalDataAccess.objects.select_related("user", "party", "project")
    scope = scope_of(user)
    if not can(user, "privacy", "view_log") or scope.empty:
        return rows.none()
    if scope.everything:
        return rows
    visible = Q(party__in=parties_for(user).values("pk"))
    if scope.area_ids is not None:
        return rows.filter(visible | Q(party__isnull=True, user=user))
    visible |= Q(party__isnull=True, project_id__in=scope.project_ids)
    if user.scope_level == ScopeLevel.COMPANY:
        visible |= Q(party__isnull=True, project__isnull=True, company_id=user.company_id)
    return rows.filter(visible)


def is_anonymised(party: Party) -> bool:
    return PartyAnonymisation.objects.filter(party_id=party.pk).exists()


def anonymisation_of(party: Party) -> PartyAnonymisation | None:
    return PartyAnonymisation.objects.select_related("by").filter(party_id=party.pk).first()


# --- everything held about one person --------------------------------------------------------------


@dataclass
class Section:
    """One table of a person's data: a sheet of the workbook, a list of the JSON file."""

    key: str
    title: str
    columns: list[tuple[str, str]]  # (key, label)
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class PersonData:
    party: Party
    exported_at: datetime
    exported_by: str
    full_id_number: bool
    sections: list[Section]

    @property
    def row_count(self) -> int:
        return sum(len(s.rows) for s in self.sections)


def _label(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def _columns(model, *names: str) -> list[tuple[str, str]]:
    return [(name, _label(model, name)) for name in names]


def _when(moment: datetime | date | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    return moment.isoformat()


def party_phones(party: Party) -> list[str]:
    return [p for p in (party.phone, party.phone2) if p]


def own_phones(party: Party) -> list[str]:
    """The party's phones that no other party has: a number shared with a family member (a home
    landline) does not tell whose call or account it was, so it does not tie those to this party."""
    phones = party_phones(party)
    if not phones:
        return []
    others = Party.objects.exclude(pk=party.pk).filter(Q(phone__in=phones) | Q(phone2__in=phones))
    shared = {p for pair in others.values_list("phone", "phone2") for p in pair}
    return [p for p in phones if p not in shared]


def cases_of_party(cases, party: Party):
    """Requests where the party is the customer, or the caller (no customer chosen, one of its own phones)."""
    phones = own_phones(party)
    about = Q(party=party)
    if phones:
        about |= Q(party__isnull=True, caller_phone__in=phones)
    return cases.filter(about)


def portal_accounts_of(party: Party):
    """Owner-portal accounts of the person: bound as this party, or signed in with one of its phones."""
    about = Q(bindings__party=party)
    if phones := own_phones(party):
        about |= Q(phone__in=phones)
    return PortalAccount.objects.filter(about).distinct()


def calls_of_party(calls, party: Party):
    about = Q(party=party)
    if phones := own_phones(party):
        about |= Q(caller__in=phones)
    return calls.filter(about)


def person_data(user, party: Party, *, full_id_number: bool = False) -> PersonData:
    """Everything Guanjia holds about `party` that `user` may see, table by table.

    The party itself (phones whole: this is the person's own copy; the ID number masked unless
    `full_id_number`), its units, the contact log, the requests where it is the customer or the caller
    with their customer-visible progress, follow-up calls, owner-portal accounts, bindings and ratings,
    hotline calls and WeChat followers with their messages. Lists follow the reader's scope, as every
    export does: a group-scope reader gets everything.
    """
    sections = [
        _party_section(party, full_id_number),
        _occupancy_section(user, party),
        _contact_section(user, party),
    ]
    cases = list(
        cases_of_party(cases_for(user), party)
        .select_related("project", "category")
        .prefetch_related("units__building", "units__entrance")
        .order_by("received_at", "pk")
    )
    sections += [
        _case_section(cases),
        _event_section(cases),
        _follow_up_section(user, cases),
    ]
    sections += _portal_sections(user, party, cases)
    sections += [_call_section(user, party), *_wechat_sections(party)]
    return PersonData(
        party=party,
        exported_at=timezone.now(),
        exported_by=str(user),
        full_id_number=full_id_number,
        sections=sections,
    )


def _party_section(party: Party, full_id_number: bool) -> Section:
    id_number = party.id_number_masked
    if full_id_number and party.id_number_encrypted:
        id_number = reveal_id_number(party.id_number_encrypted)
    items = [
        (_label(Party, "name"), party.name),
        (_label(Party, "kind"), party.get_kind_display()),
        (_label(Party, "gender"), party.get_gender_display() if party.gender else ""),
        (_label(Party, "phone"), party.phone),
        (_label(Party, "phone2"), party.phone2),
        (_label(Party, "id_number_masked"), id_number),
        (_label(Party, "project"), party.project.name),
        (_label(Party, "tags"), "、".join(t.name for t in party.tags.all())),
        (_label(Party, "note"), party.note),
        (_label(Party, "created_at"), _when(party.created_at)),
    ]
    return Section(
        "party", _("Party"), [("field", _("Item")), ("value", _("Value"))], [[label, value] for label, value in items]
    )


def _occupancy_section(user, party: Party) -> Section:
    rows = [
        [o.unit.project.name, o.unit.label, o.get_role_display(), _when(o.start), _when(o.end), o.note]
        for o in occupancies_for(user).filter(party=party).order_by("start", "pk")
    ]
    columns = [("project", _("Project")), ("unit", _("Unit")), *_columns(Occupancy, "role", "start", "end", "note")]
    return Section("occupancies", _("Units"), columns, rows)


def _contact_section(user, party: Party) -> Section:
    rows = [
        [_when(c.time), c.get_channel_display(), c.unit.label if c.unit_id else "", str(c.staff or ""), c.summary]
        for c in contacts_for(user).filter(party=party).order_by("time", "pk")
    ]
    return Section(
        "contacts", _("Contact log"), _columns(ContactLog, "time", "channel", "unit", "staff", "summary"), rows
    )


def _case_section(cases: list[Case]) -> Section:
    rows = [
        [
            c.number,
            _when(c.received_at),
            c.project.name,
            c.get_case_type_display(),
            c.category.name if c.category_id else "",
            c.get_channel_display(),
            c.get_status_display(),
            "、".join(u.label for u in c.units.all()),
            c.caller_name,
            c.caller_phone,
            c.description,
            _when(c.closed_at),
        ]
        for c in cases
    ]
    columns = _columns(
        Case,
        "number",
        "received_at",
        "project",
        "case_type",
        "category",
        "channel",
        "status",
        "units",
        "caller_name",
        "caller_phone",
        "description",
        "closed_at",
    )
    return Section("cases", _("Service requests"), columns, rows)


def _event_section(cases: list[Case]) -> Section:
    numbers = {c.pk: c.number for c in cases}
    events = CaseEvent.objects.filter(case_id__in=numbers, visibility=Visibility.CUSTOMER).order_by("case_id", "seq")
    rows = [[numbers[e.case_id], _when(e.time), e.get_kind_display(), e.note] for e in events]
    columns = [("case", _("Request number")), *_columns(CaseEvent, "time", "kind", "note")]
    return Section("case_events", _("Progress told to the customer"), columns, rows)


def _follow_up_section(user, cases: list[Case]) -> Section:
    numbers = {c.pk: c.number for c in cases}
    follow_ups = follow_ups_for(user).filter(case_id__in=numbers).order_by("case_id", "due", "pk")
    rows = [
        [numbers[f.case_id], _when(f.due), _when(f.done_at), f.attempts, f.get_outcome_display(), f.note]
        for f in follow_ups
    ]
    columns = [("case", _("Request number")), *_columns(FollowUp, "due", "done_at", "attempts", "outcome", "note")]
    return Section("follow_ups", _("Follow-up calls"), columns, rows)


def _portal_sections(user, party: Party, cases: list[Case]) -> list[Section]:
    accounts = list(portal_accounts_of(party).order_by("created_at", "pk"))
    account_rows = [
        [a.phone, _when(a.created_at), _when(a.last_sign_in_at), _("Yes") if a.is_active else _("No")] for a in accounts
    ]
    account_columns = _columns(PortalAccount, "phone", "created_at", "last_sign_in_at", "is_active")
    bindings = (
        UnitBinding.objects.filter(Q(party=party) | Q(account__in=accounts))
        .filter(unit__in=units_for(user).values("pk"))
        .select_related("account", "unit__building", "unit__entrance", "unit__project")
        .order_by("created_at", "pk")
    )
    binding_rows = [
        [
            b.account.phone,
            b.unit.full_label,
            b.get_status_display(),
            b.get_method_display(),
            b.claimed_name,
            b.get_relation_display(),
            b.note,
            _when(b.created_at),
            _when(b.decided_at),
        ]
        for b in bindings
    ]
    binding_columns = [
        ("account", _label(PortalAccount, "phone")),
        *_columns(
            UnitBinding, "unit", "status", "method", "claimed_name", "relation", "note", "created_at", "decided_at"
        ),
    ]
    numbers = {c.pk: c.number for c in cases}
    ratings = CaseRating.objects.filter(account__in=accounts, case_id__in=numbers).order_by("created_at", "pk")
    rating_rows = [[numbers[r.case_id], r.stars, r.comment, _when(r.created_at)] for r in ratings]
    rating_columns = [("case", _("Request number")), *_columns(CaseRating, "stars", "comment", "created_at")]
    return [
        Section("portal_accounts", _("Owner accounts"), account_columns, account_rows),
        Section("portal_bindings", _("Unit bindings"), binding_columns, binding_rows),
        Section("ratings", _("Ratings"), rating_columns, rating_rows),
    ]


def _call_section(user, party: Party) -> Section:
    calls = calls_of_party(calls_for(user), party).order_by("started_at", "pk")
    rows = [
        [_when(c.started_at), c.caller, c.line.name if c.line_id else c.callee, c.get_state_display(), c.duration]
        for c in calls
    ]
    columns = [("started_at", _label(Call, "started_at")), *_columns(Call, "caller", "line", "state", "duration")]
    return Section("calls", _("Calls"), columns, rows)


def _wechat_sections(party: Party) -> list[Section]:
    followers = list(WeChatFollower.objects.filter(party=party).order_by("created_at", "pk"))
    follower_rows = [
        [mask_openid(f.openid), _when(f.bound_at), _("Yes") if f.subscribed else _("No")] for f in followers
    ]
    follower_columns = _columns(WeChatFollower, "openid", "bound_at", "subscribed")
    messages = WeChatMessage.objects.filter(follower__in=followers).order_by("sent_at", "pk")
    message_rows = [[_when(m.sent_at), m.msg_type, m.content] for m in messages]
    message_columns = _columns(WeChatMessage, "sent_at", "msg_type", "content")
    return [
        Section("wechat_followers", _("WeChat followers"), follower_columns, follower_rows),
        Section("wechat_messages", _("WeChat messages"), message_columns, message_rows),
    ]
