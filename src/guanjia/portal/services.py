"""Every write of the owner portal: sign-in codes, sessions' accounts, unit bindings, reports, added
information, ratings and notices. Views parse input, call one of these, and render.

Requests themselves are written only by `guanjia.cases.services`: a report is `do_record_case`
(channel owner portal) plus `do_add_attachment` per photo, added information is
`do_add_customer_note`, and a rating completes the pending follow-up through `do_record_follow_up`,
the same function a phoned-in follow-up uses. Those services need a staff actor; the portal acts as
the request's first-contact owner, chosen for a new report by `first_contact_staff` (the rule is
written there).
"""

import hashlib
import hmac
import math
import re
import secrets
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guanjia.cases import services as case_services
from guanjia.cases.choices import DONE_STATUSES, CaseStatus, CaseType, Channel, DissatisfiedAction, FollowUpOutcome
from guanjia.cases.models import Case, Category, FollowUp
from guanjia.core.history import record_change, snapshot
from guanjia.estate.choices import OccupancyRole
from guanjia.estate.identity import normalize_phone, reveal_id_number
from guanjia.estate.models import Occupancy, Unit
from guanjia.estate.queries import buildings_for, units_matching_room
from guanjia.notifications.sms import SmsError
from guanjia.org.choices import Role, ScopeLevel
from guanjia.org.models import Staff
from guanjia.org.scope import scope_of, sees_project

from . import conf, throttle
from .choices import LIVE_BINDING_STATUSES, STARS, BindingMethod, BindingStatus, NoticeKind, Relation
from .models import (
    CaseRating,
    HouseholdSharing,
    Notice,
    NoticeRead,
    OwnerPhoto,
    PortalAccount,
    SignInCode,
    UnitBinding,
)
from .permissions import may
from .photos import clean_photos
from .queries import SELF_BINDING_ROLES, access_pending_binding_by_id, rating_of
from .sms import send_sign_in_code

# The request types an owner reports (praise and help are recorded by staff).
PORTAL_CASE_TYPES = (CaseType.REPAIR, CaseType.COMPLAINT, CaseType.INQUIRY, CaseType.SUGGESTION)
MAX_DESCRIPTION = 2000
MAX_PENDING_REQUESTS = 5


# ------------------------------------------------------------------------------------------------ helpers


def _wait_text(wait: timedelta) -> str:
    seconds = max(math.ceil(wait.total_seconds()), 1)
    if seconds <= 60:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    minutes = -(-seconds // 60)
    return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}


def clean_mobile(raw: str) -> str:
    """A mainland mobile number (11 digits) or a ValidationError on `phone`."""
    message = _("Enter a valid mainland mobile number.")
    try:
        phone = normalize_phone(raw)
    except ValidationError:
        raise ValidationError({"phone": message}) from None
    if not phone or "-" in phone:
        raise ValidationError({"phone": message})
    return phone


def _code_digest(phone: str, code: str) -> str:
    # Keyed, so that a copy of the table alone does not give the codes away by trying all million.
    key = hashlib.sha256(("guanjia-portal-sign-in-code:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _lockout_left(phone: str, now) -> timedelta | None:
    return throttle.exceeded(throttle.LOCKOUT, phone, [(1, conf.get("GUANJIA_PORTAL_LOCKOUT"))], now)


def _locked_error(field: str, wait: timedelta) -> ValidationError:
    return ValidationError({field: _("Too many wrong codes. Try again in %(wait)s.") % {"wait": _wait_text(wait)}})


# ------------------------------------------------------------------------------------------------ sign-in


def do_send_sign_in_code(raw_phone: str, *, ip: str | None) -> SignInCode:
    """Send a one-time code to the phone, within the rate limits (per phone and per address)."""
    phone = clean_mobile(raw_phone)
    now = timezone.now()
    wait = _lockout_left(phone, now)
    if wait:
        raise _locked_error("phone", wait)
    wait = throttle.exceeded(throttle.CODE_PHONE, phone, conf.get("GUANJIA_PORTAL_CODE_LIMITS_PER_PHONE"), now)
    if wait:
        raise ValidationError(
            {"phone": _("A code was sent to this number recently. Ask again in %(wait)s.") % {"wait": _wait_text(wait)}}
        )
    if ip:
        wait = throttle.exceeded(throttle.CODE_IP, ip, conf.get("GUANJIA_PORTAL_CODE_LIMITS_PER_IP"), now)
        if wait:
            raise ValidationError(
                {
                    "phone": _("Too many codes were asked for from your network. Try again in %(wait)s.")
                    % {"wait": _wait_text(wait)}
                }
            )
    length = conf.get("GUANJIA_PORTAL_CODE_LENGTH")
    code = "".join(secrets.choice("0123456789") for _ in range(length))
    with transaction.atomic():
        record = SignInCode.objects.create(
            phone=phone,
            code_digest=_code_digest(phone, code),
            created_at=now,
            expires_at=now + conf.get("GUANJIA_PORTAL_CODE_TTL"),
            ip=ip,
        )
        throttle.hit(throttle.CODE_PHONE, phone, now)
        if ip:
            throttle.hit(throttle.CODE_IP, ip, now)
    # Sent after the commit: the provider may take seconds, and no row should wait on it.
    try:
        message_id = send_sign_in_code(phone, code)
    except SmsError:
        SignInCode.objects.filter(pk=record.pk).delete()
        raise ValidationError({"phone": _("The text message could not be sent. Please try again later.")}) from None
    SignInCode.objects.filter(pk=record.pk).update(message_id=str(message_id)[:100])
    return record


def has_live_code(raw_phone: str) -> bool:
    """The phone's newest code can still be used (unused and not expired)."""
    try:
        phone = clean_mobile(raw_phone)
    except ValidationError:
        return False
    latest = SignInCode.objects.filter(phone=phone).order_by("-created_at", "-id").first()
    return latest is not None and latest.used_at is None and latest.expires_at > timezone.now()


def do_verify_sign_in_code(raw_phone: str, raw_code: str, *, ip: str | None) -> PortalAccount:
    """The account of the phone when `raw_code` is its newest code, unexpired and unused (then used up).

    A wrong code counts towards the lockout of the phone and the limit of the address.
    """
    phone = clean_mobile(raw_phone)
    length = conf.get("GUANJIA_PORTAL_CODE_LENGTH")
    code = re.sub(r"\s", "", raw_code or "")
    if not re.fullmatch(rf"\d{{{length}}}", code):
        raise ValidationError({"code": _("Enter the %(n)s-digit code from the text message.") % {"n": length}})
    now = timezone.now()
    wait = _lockout_left(phone, now)
    if wait:
        raise _locked_error("code", wait)
    window = conf.get("GUANJIA_PORTAL_SIGN_IN_WINDOW")
    if ip and throttle.count(throttle.FAIL_IP, ip, window, now) >= conf.get("GUANJIA_PORTAL_SIGN_IN_FAILURES_PER_IP"):
        raise ValidationError({"code": _("Too many wrong codes from your network. Try again later.")})
    latest = SignInCode.objects.filter(phone=phone).order_by("-created_at", "-id").first()
    if latest is None:
        raise ValidationError({"code": _("Ask for a code first.")})
    if not hmac.compare_digest(latest.code_digest, _code_digest(phone, code)):
        raise _wrong_code(phone, ip, now)
    if latest.used_at is not None:
        raise ValidationError({"code": _("This code has been used already. Ask for a new one.")})
    if latest.expires_at <= now:
        raise ValidationError({"code": _("This code has expired. Ask for a new one.")})
    with transaction.atomic():
        # Two sign-ins racing with the same code: only one claims it.
        if not SignInCode.objects.filter(pk=latest.pk, used_at__isnull=True).update(used_at=now):
            raise ValidationError({"code": _("This code has been used already. Ask for a new one.")})
        account, _created = PortalAccount.objects.get_or_create(phone=phone)
        if not account.is_active:
            raise ValidationError({"phone": _("This account is disabled. Please call the service centre.")})
        account.last_sign_in_at = now
        account.save(update_fields=["last_sign_in_at"])
        throttle.clear(throttle.FAIL_PHONE, phone)
    return account


def _wrong_code(phone: str, ip: str | None, now) -> ValidationError:
    throttle.hit(throttle.FAIL_PHONE, phone, now)
    if ip:
        throttle.hit(throttle.FAIL_IP, ip, now)
    allowed = conf.get("GUANJIA_PORTAL_SIGN_IN_FAILURES")
    failures = throttle.count(throttle.FAIL_PHONE, phone, conf.get("GUANJIA_PORTAL_SIGN_IN_WINDOW"), now)
    if failures >= allowed:
        # Locked: the codes sent so far are spent, and counting starts afresh after the lockout.
        throttle.hit(throttle.LOCKOUT, phone, now)
        throttle.clear(throttle.FAIL_PHONE, phone)
        SignInCode.objects.filter(phone=phone, used_at__isnull=True).update(used_at=now)
        return _locked_error("code", conf.get("GUANJIA_PORTAL_LOCKOUT"))
    left = allowed - failures
    message = ngettext("The code is wrong; %(n)s try left.", "The code is wrong; %(n)s tries left.", left)
    return ValidationError({"code": message % {"n": left}})


# ------------------------------------------------------------------------------------------------ bindings


def _norm_name(name: str) -> str:
    return re.sub(r"[\s·•.]", "", unicodedata.normalize("NFKC", name or "")).lower()


def find_unit(project, room: str) -> Unit:
    """The unit of `project` written as 3栋2单元1502 / 3-2-1502, or a ValidationError on `room`."""
    if project is None:
        raise ValidationError({"project": _("Choose your community.")})
    units = units_matching_room(
        Unit.objects.filter(project=project).select_related("project", "building__area", "entrance"),
        (room or "").strip(),
    )
    if units is None:
        raise ValidationError({"room": _("Write the unit like 3栋2单元1502 or 3-2-1502.")})
    found = list(units[:2])
    if not found:
        raise ValidationError({"room": _("There is no such unit in this community.")})
    if len(found) > 1:
        raise ValidationError({"room": _("Several units match; add the entrance, e.g. 3栋2单元1502.")})
    return found[0]


def _live_binding(account, unit):
    return UnitBinding.objects.filter(account=account, unit=unit, status__in=LIVE_BINDING_STATUSES).first()


def _stored_id_tail(party) -> str:
    if not party.id_number_encrypted:
        return ""
    try:
        return reveal_id_number(party.id_number_encrypted)[-6:]
    except Exception:
        # Encrypted under another key (a restored backup): this party cannot be checked by ID.
        return ""


def do_bind_unit_by_identity(account: PortalAccount, *, unit: Unit, name: str, id_tail: str) -> UnitBinding:
    """Bind at once when name and last six ID characters match an owner or resident living in the unit.

    The answer never says which of the two was wrong. Failures are limited per account and per unit,
    so that nobody can try ID digits until one fits.
    """
    errors = {}
    name = (name or "").strip()
    tail = (id_tail or "").strip().upper()
    if not name:
        errors["name"] = _("Enter your name as registered with the property.")
    if not re.fullmatch(r"\d{5}[\dX]", tail):
        errors["id_tail"] = _("Enter the last six characters of your ID card number.")
    if errors:
        raise ValidationError(errors)
    existing = _live_binding(account, unit)
    if existing is not None and existing.status == BindingStatus.ACTIVE:
        raise ValidationError({"room": _("You are already bound to this unit.")})
    now = timezone.now()
    window = conf.get("GUANJIA_PORTAL_BIND_WINDOW")
    per_account = [(conf.get("GUANJIA_PORTAL_BIND_FAILURES_PER_ACCOUNT"), window)]
    per_unit = [(conf.get("GUANJIA_PORTAL_BIND_FAILURES_PER_UNIT"), window)]
    if throttle.exceeded(throttle.BIND_ACCOUNT, account.pk, per_account, now) or throttle.exceeded(
        throttle.BIND_UNIT, unit.pk, per_unit, now
    ):
        raise ValidationError(_("Too many failed checks. Please ask your butler to approve the binding instead."))
    match = None
    for occupancy in Occupancy.objects.current().filter(unit=unit, role__in=SELF_BINDING_ROLES).select_related("party"):
        # Both comparisons always run, in constant time, so the answer's timing tells nothing either.
        same_name = hmac.compare_digest(_norm_name(occupancy.party.name).encode(), _norm_name(name).encode())
        stored = _stored_id_tail(occupancy.party)
        same_id = hmac.compare_digest(stored.encode(), tail.encode()) and bool(stored)
        if same_name and same_id and match is None:
            match = occupancy
    if match is None:
        throttle.hit(throttle.BIND_ACCOUNT, account.pk, now)
        throttle.hit(throttle.BIND_UNIT, unit.pk, now)
        raise ValidationError(
            _(
                "The name and ID number do not match our records for this unit. Check them, "
                "or ask your butler to approve the binding."
            )
        )
    # A waiting approval request for the same unit is settled by the check.
    binding = existing or UnitBinding(account=account, unit=unit, created_at=now)
    binding.party = match.party
    binding.status = BindingStatus.ACTIVE
    binding.method = BindingMethod.IDENTITY
    binding.claimed_name = name[:50]
    binding.relation = Relation.OWNER if match.role == OccupancyRole.OWNER else Relation.RESIDENT
    binding.decided_at = now
    try:
        with transaction.atomic():
            binding.save()
    except IntegrityError:
        raise ValidationError({"room": _("You are already bound to this unit.")}) from None
    return binding


@transaction.atomic
def do_request_binding(account: PortalAccount, *, unit: Unit, name: str, relation: str, note: str = "") -> UnitBinding:
    """Ask the staff serving the unit to approve a binding (no ID digits, tenants, family members)."""
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Enter your name as registered with the property.")
    if relation not in Relation.values:
        errors["relation"] = _("Choose how you are related to the unit.")
    if errors:
        raise ValidationError(errors)
    existing = _live_binding(account, unit)
    if existing is not None:
        if existing.status == BindingStatus.ACTIVE:
            raise ValidationError({"room": _("You are already bound to this unit.")})
        raise ValidationError({"room": _("Your request for this unit is waiting for approval.")})
    if UnitBinding.objects.filter(account=account, status=BindingStatus.PENDING).count() >= MAX_PENDING_REQUESTS:
        raise ValidationError(_("You have too many requests waiting. Wait for the butler's answer first."))
    return UnitBinding.objects.create(
        account=account,
        unit=unit,
        status=BindingStatus.PENDING,
        method=BindingMethod.APPROVAL,
        claimed_name=name[:50],
        relation=relation,
        note=(note or "").strip()[:200],
    )


def _locked_pending(user, binding_or_id) -> UnitBinding:
    binding_id = getattr(binding_or_id, "pk", binding_or_id)
    if not may(user, "review_bindings"):
        raise PermissionDenied(_("You may not do this."))
    try:
        access_pending_binding_by_id(user, binding_id)
    except Exception:
        raise PermissionDenied(_("This request does not exist, is decided already or is outside your scope.")) from None
    return UnitBinding.objects.select_for_update().select_related("unit").get(pk=binding_id)


@transaction.atomic
def do_approve_binding(user, binding, *, party) -> UnitBinding:
    """Approve a binding request as `party`, who must live in the unit now (ledger first, then approve)."""
    binding = _locked_pending(user, binding)
    if party is None or not Occupancy.objects.current().filter(unit=binding.unit, party=party).exists():
        raise ValidationError({"party": _("Choose a person who lives in this unit now.")})
    before = snapshot(binding)
    binding.party = party
    binding.status = BindingStatus.ACTIVE
    binding.decided_by = user
    binding.decided_at = timezone.now()
    binding.save()
    record_change(binding, user, before)
    return binding


@transaction.atomic
def do_reject_binding(user, binding, *, reason: str) -> UnitBinding:
    binding = _locked_pending(user, binding)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tell the applicant why (they will see it).")})
    before = snapshot(binding)
    binding.status = BindingStatus.REJECTED
    binding.reject_reason = reason[:200]
    binding.decided_by = user
    binding.decided_at = timezone.now()
    binding.save()
    record_change(binding, user, before)
    return binding


@transaction.atomic
def do_remove_binding(account: PortalAccount, binding: UnitBinding) -> UnitBinding:
    """The owner unbinds a unit (or withdraws a waiting request)."""
    binding = UnitBinding.objects.select_for_update().get(pk=binding.pk, account=account)
    if binding.status not in LIVE_BINDING_STATUSES:
        raise ValidationError(_("This binding is not in use."))
    binding.status = BindingStatus.REMOVED
    binding.save(update_fields=["status"])
    return binding


def is_unit_owner(binding: UnitBinding) -> bool:
    """The binding's party is a current owner of the unit (only owners switch household sharing)."""
    return (
        binding.status == BindingStatus.ACTIVE
        and Occupancy.objects.current()
        .filter(unit_id=binding.unit_id, party_id=binding.party_id, role=OccupancyRole.OWNER)
        .exists()
    )


@transaction.atomic
def do_set_household_sharing(account: PortalAccount, binding: UnitBinding, *, enabled: bool) -> HouseholdSharing:
    """Let everyone bound to the unit see the household's requests on it (or stop it). Owners only."""
    if binding.account_id != account.pk or not is_unit_owner(binding):
        raise PermissionDenied(_("Only the owner of the unit can change this."))
    sharing, _created = HouseholdSharing.objects.select_for_update().get_or_create(unit_id=binding.unit_id)
    sharing.enabled = bool(enabled)
    sharing.changed_by = account
    sharing.changed_at = timezone.now()
    sharing.save()
    return sharing


# ------------------------------------------------------------------------------------------------ reports


def first_contact_staff(unit: Unit) -> Staff | None:
    """The first-contact owner (首问负责人) of a request an owner reports in the portal.

    The rule, in order; only active staff count, and among several the earliest account (lowest
    id) is taken so that the choice is stable:

    1. a butler serving the area (片区) of the unit's building, who knows the household;
    2. else a customer-service specialist of the unit's project (project scope before company scope);
    3. else a team lead of the project (project scope before company scope).

    None when the project has none of them; the portal then asks the owner to call instead.
    """
    project = unit.project
    area_id = unit.building.area_id
    if area_id:
        butler = Staff.objects.filter(is_active=True, role=Role.BUTLER, areas__id=area_id).order_by("id").first()
        if butler is not None:
            return butler
    for role in (Role.SPECIALIST, Role.TEAM_LEAD):
        for scope in (
            Q(scope_level=ScopeLevel.PROJECT, project_id=project.pk),
            Q(scope_level=ScopeLevel.COMPANY, company_id=project.company_id),
        ):
            staff = Staff.objects.filter(scope, is_active=True, role=role).order_by("id").first()
            if staff is not None:
                return staff
    return None


def _acting_staff(case: Case) -> Staff:
    """Who the portal acts as on an existing request: its first-contact owner while active, else the rule."""
    if case.owner.is_active:
        return case.owner
    unit = case.units.select_related("project", "building").first()
    staff = first_contact_staff(unit) if unit is not None else None
    if staff is None:
        raise ValidationError(_("Nobody can take this right now. Please call the service centre."))
    return staff


def do_report_case(
    account: PortalAccount,
    *,
    binding: UnitBinding,
    case_type: str,
    description: str,
    category: Category | None = None,
    photos=(),
    idempotency_key: str = "",
) -> Case:
    """Record a request from the owner portal for the bound unit, with up to 9 photos.

    Every photo is checked and re-encoded before anything is written, so a bad photo stores
    nothing. The same `idempotency_key` sent twice by the account records one request.
    """
    if binding.account_id != account.pk or binding.status != BindingStatus.ACTIVE:
        raise PermissionDenied(_("Bind the unit first."))
    errors: dict[str, list[str]] = {}
    description = (description or "").strip()
    if not description:
        errors["description"] = [_("Describe the problem.")]
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = [_("Keep it under %(n)s characters.") % {"n": MAX_DESCRIPTION}]
    if case_type not in PORTAL_CASE_TYPES:
        errors["case_type"] = [_("Choose what kind of request this is.")]
    if category is not None and not category.active:
        errors["category"] = [_("This category is no longer in use.")]
    try:
        cleaned = clean_photos(photos)
    except ValidationError as exc:
        errors.update({k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()})
        cleaned = []
    if errors:
        raise ValidationError(errors)
    unit = Unit.objects.select_related("project__company", "building__area", "entrance").get(pk=binding.unit_id)
    staff = first_contact_staff(unit)
    if staff is None:
        raise ValidationError(_("Online reporting is not open for this community yet. Please call the service centre."))
    key = f"portal:{account.pk}:{(idempotency_key or '').strip()}"[:64] if idempotency_key else ""
    case = case_services.do_record_case(
        staff,
        project=unit.project,
        case_type=case_type,
        channel=Channel.PORTAL,
        description=description,
        category=category,
        units=[unit],
        party=binding.party,
        caller_phone=account.phone,
        idempotency_key=key,
    )
    if getattr(case, "recorded_now", False):
        with transaction.atomic():
            _attach(account, staff, case, cleaned)
        _tell_first_contact_owner(staff, case)
    return case


def _attach(account: PortalAccount, staff, case: Case, photos) -> None:
    for photo in photos:
        attachment = case_services.do_add_attachment(staff, case, file=photo, name=photo.name)
        OwnerPhoto.objects.create(attachment=attachment, account=account)


def _tell_first_contact_owner(staff, case: Case) -> None:
    """Nobody at the company typed this request in: tell its first-contact owner it has arrived."""
    from guanjia.notifications.choices import NotificationKind
    from guanjia.notifications.services import do_notify

    do_notify(
        [staff],
        NotificationKind.CASE_ASSIGNED,
        title=_("%(number)s: new request from the owner portal") % {"number": case.number},
        body=case.description[:200],
        key=f"portal:recorded:{case.pk}",
        case=case,
    )


def do_add_case_information(account: PortalAccount, case: Case, *, note: str, photos=()) -> None:
    """Add what the owner was asked for (text, photos) to an open request's customer-visible timeline."""
    if case.status in DONE_STATUSES:
        raise ValidationError({"note": _("This request is completed. Rate it, or report a new one.")})
    note = (note or "").strip()
    cleaned = clean_photos(photos)
    if not note and not cleaned:
        raise ValidationError({"note": _("Write what you want to add, or add photos.")})
    if len(note) > MAX_DESCRIPTION:
        raise ValidationError({"note": _("Keep it under %(n)s characters.") % {"n": MAX_DESCRIPTION}})
    if not note:
        note = ngettext("Added %(n)s photo.", "Added %(n)s photos.", len(cleaned)) % {"n": len(cleaned)}
    staff = _acting_staff(case) if cleaned else None
    with transaction.atomic():
        case_services.do_add_customer_note(case, note=note, source="portal", data={"portal_account": account.pk})
        _attach(account, staff, case, cleaned)


# ------------------------------------------------------------------------------------------------ ratings


def outcome_for(stars: int) -> str:
    """4–5 stars: satisfied; 3: basically satisfied; 1–2: dissatisfied."""
    if stars >= 4:
        return FollowUpOutcome.SATISFIED
    if stars == 3:
        return FollowUpOutcome.BASICALLY_SATISFIED
    return FollowUpOutcome.DISSATISFIED


def low_rating_action() -> str:
    action = conf.get("GUANJIA_PORTAL_LOW_RATING")
    if action not in DissatisfiedAction.values:
        raise ImproperlyConfigured(f"GUANJIA_PORTAL_LOW_RATING must be one of {DissatisfiedAction.values}")
    return action


def do_rate_case(account: PortalAccount, case: Case, *, stars, comment: str = "") -> CaseRating:
    """Rate a completed request. When its follow-up is still pending, the rating completes it.

    The follow-up is recorded through `do_record_follow_up` as the request's first-contact owner:
    4–5 stars satisfied, 3 basically satisfied, 1–2 dissatisfied, which reopens the request (or
    reopens and escalates it, `GUANJIA_PORTAL_LOW_RATING`), exactly as a phoned-in dissatisfied
    follow-up does. When the follow-up call was recorded first, the rating is only stored.
    """
    try:
        stars = int(stars)
    except (TypeError, ValueError):
        stars = 0
    if stars not in STARS:
        raise ValidationError({"stars": _("Choose 1 to 5 stars.")})
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise ValidationError({"comment": _("Keep it under %(n)s characters.") % {"n": 500}})
    if case.status not in DONE_STATUSES or case.merged_into_id:
        raise ValidationError({"stars": _("You can rate a request once it is completed.")})
    outcome = outcome_for(stars)
    then = low_rating_action() if outcome == FollowUpOutcome.DISSATISFIED else None
    note = _("Rated %(stars)s of 5 stars in the owner portal.") % {"stars": stars}
    if comment:
        note = f"{note}\n{comment}"
    with transaction.atomic():
        if rating_of(case) is not None:
            raise ValidationError({"stars": _("You have rated this request already.")})
        try:
            with transaction.atomic():
                rating = CaseRating.objects.create(
                    case=case, account=account, round=case.reopened_count, stars=stars, comment=comment
                )
        except IntegrityError:
            raise ValidationError({"stars": _("You have rated this request already.")}) from None
        pending = (
            FollowUp.objects.filter(case=case, done_at__isnull=True).order_by("-id").first()
            if case.status == CaseStatus.CLOSED
            else None
        )
        if pending is not None:
            case_services.do_record_follow_up(
                _acting_staff(case), pending, expected_version=None, outcome=outcome, note=note, then=then
            )
            rating.follow_up = pending
            rating.save(update_fields=["follow_up"])
    return rating


# ------------------------------------------------------------------------------------------------ notices


@transaction.atomic
def do_publish_notice(
    user,
    *,
    project,
    kind: str,
    title: str,
    body: str,
    buildings=(),
    tags=(),
    expires_at=None,
) -> Notice:
    """Publish a notice to the owners of a project, optionally only some buildings and/or tagged parties.

    Area-scoped staff (butlers) publish to buildings of their areas only.
    """
    if not may(user, "write_notices"):
        raise PermissionDenied(_("You may not do this."))
    errors: dict[str, str] = {}
    buildings, tags = list(buildings or []), list(tags or [])
    title, body = (title or "").strip(), (body or "").strip()
    if project is None or not sees_project(user, project.pk):
        errors["project"] = _("Choose a project in your scope.")
    else:
        visible = set(buildings_for(user).filter(project=project).values_list("pk", flat=True))
        if any(b.pk not in visible for b in buildings):
            errors["buildings"] = _("Choose buildings of this project in your scope.")
        elif scope_of(user).area_ids is not None and not buildings:
            errors["buildings"] = _("Choose the buildings of your areas.")
    if kind not in NoticeKind.values:
        errors["kind"] = _("Choose the kind of notice.")
    if not title:
        errors["title"] = _("Give the notice a title.")
    if not body:
        errors["body"] = _("Write the notice.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("Enter a time in the future.")
    if errors:
        raise ValidationError(errors)
    notice = Notice.objects.create(
        project=project, kind=kind, title=title[:100], body=body, expires_at=expires_at, created_by=user
    )
    notice.buildings.set(buildings)
    notice.tags.set(tags)
    record_change(
        notice,
        user,
        extra={
            "buildings": [None, "、".join(b.name for b in buildings) or None],
            "tags": [None, "、".join(t.name for t in tags) or None],
        },
    )
    return notice


@transaction.atomic
def do_withdraw_notice(user, notice: Notice) -> Notice:
    """Take a notice out of the portal (it stays in the console with its read receipts)."""
    if not may(user, "write_notices"):
        raise PermissionDenied(_("You may not do this."))
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if notice.withdrawn_at is not None:
        raise ValidationError(_("This notice was withdrawn already."))
    scope = scope_of(user)
    if scope.area_ids is not None:
        visible = set(buildings_for(user).values_list("pk", flat=True))
        if not set(notice.buildings.values_list("pk", flat=True)) <= visible or not notice.buildings.exists():
            raise PermissionDenied(_("This notice reaches beyond your areas."))
    before = snapshot(notice)
    notice.withdrawn_at = timezone.now()
    notice.save(update_fields=["withdrawn_at"])
    record_change(notice, user, before)
    return notice


def do_mark_notice_read(account: PortalAccount, notice: Notice) -> None:
    """Record the read receipt once; reading again changes nothing."""
    if NoticeRead.objects.filter(notice=notice, account=account).exists():
        return
    try:
        with transaction.atomic():
            NoticeRead.objects.create(notice=notice, account=account)
    except IntegrityError:
        pass  # Read twice at the same moment: one receipt is enough.
