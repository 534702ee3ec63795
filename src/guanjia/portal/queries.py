"""Scoped reads of the portal. Owners see through their active bindings; staff through their scope.

What an owner account sees:

* its bindings (`bindings_of`), and of them the active ones whose party still lives in the unit
  (`active_bindings`): moving out ends what a binding shows without anyone touching it;
* requests (`cases_for_account`) on a unit it is actively bound to, recorded for the party it is
  bound as; when the unit's household sharing is on, also those of the other current occupants of
  that unit. Nothing else: not other units' requests, not requests of earlier occupants;
* notices (`notices_for_account`) of the projects of its active bindings that target its units.

Every owner page takes ids and resolves them through these (`access_…_for_account`): an id
outside them is a 404, the same answer as an id that does not exist.
"""

from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from guanjia.cases.models import Case
from guanjia.estate.choices import OccupancyRole
from guanjia.estate.models import Occupancy, Party
from guanjia.estate.queries import units_for
from guanjia.org.scope import scope_of

from .choices import BindingStatus
from .models import CaseRating, HouseholdSharing, Notice, NoticeRead, PortalAccount, UnitBinding

# Who may bind by the name-and-ID check: people the ledger knows live there (tenants ask for approval).
SELF_BINDING_ROLES = (OccupancyRole.OWNER, OccupancyRole.RESIDENT)


def _current_occupancy(party_ref, unit_ref):
    today = timezone.localdate()
    return Occupancy.objects.filter(party_id=party_ref, unit_id=unit_ref, start__lte=today).filter(
        Q(end__isnull=True) | Q(end__gte=today)
    )


def bindings_of(account: PortalAccount):
    return UnitBinding.objects.filter(account=account).select_related(
        "unit__project", "unit__building", "unit__entrance", "party"
    )


def active_bindings(account: PortalAccount):
    """Active bindings whose party still has a current occupancy of the unit."""
    return (
        bindings_of(account)
        .filter(status=BindingStatus.ACTIVE)
        .filter(Exists(_current_occupancy(OuterRef("party_id"), OuterRef("unit_id"))))
    )


def access_binding_for_account(account: PortalAccount, binding_id) -> UnitBinding:
    return get_object_or_404(bindings_of(account), pk=binding_id)


def access_active_binding_for_account(account: PortalAccount, binding_id) -> UnitBinding:
    return get_object_or_404(active_bindings(account), pk=binding_id)


def household_of(unit):
    """Current occupancies of a unit: the household the sharing switch is about."""
    return Occupancy.objects.current().filter(unit=unit).select_related("party").order_by("role", "id")


def sharing_enabled(unit_id) -> bool:
    return HouseholdSharing.objects.filter(unit_id=unit_id, enabled=True).exists()


def cases_for_account(account: PortalAccount):
    """The requests this account may see (see the module docstring); none without active bindings."""
    units_through = Case.units.through.objects
    visible = Q(pk__in=[])
    for binding in active_bindings(account).only("unit_id", "party_id"):
        on_unit = Exists(units_through.filter(case_id=OuterRef("pk"), unit_id=binding.unit_id))
        parties = Q(party_id=binding.party_id)
        if sharing_enabled(binding.unit_id):
            household = _current_occupancy(OuterRef("party_id"), binding.unit_id)
            parties |= Exists(household)
        visible |= on_unit & parties
    return Case.objects.select_related("project", "category", "party").filter(visible)


def access_case_for_account(account: PortalAccount, case_id) -> Case:
    return get_object_or_404(cases_for_account(account), pk=case_id)


def rating_of(case: Case) -> CaseRating | None:
    """The rating of the case's current round (a reopened and closed again request is rated again)."""
    return CaseRating.objects.filter(case=case, round=case.reopened_count).first()


def notices_for_account(account: PortalAccount, now=None):
    """Published notices (not withdrawn, not expired) of the account's projects that target its units."""
    now = now or timezone.now()
    bound = active_bindings(account)
    projects = bound.values("unit__project_id")
    buildings = bound.values("unit__building_id")
    tags = Party.tags.through.objects.filter(party_id__in=bound.values("party_id")).values("tag_id")
    building_rows = Notice.buildings.through.objects.filter(notice_id=OuterRef("pk"))
    tag_rows = Notice.tags.through.objects.filter(notice_id=OuterRef("pk"))
    reads = NoticeRead.objects.filter(notice_id=OuterRef("pk"), account=account)
    return (
        Notice.objects.filter(project_id__in=projects, published_at__lte=now, withdrawn_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .filter(~Exists(building_rows) | Exists(building_rows.filter(building_id__in=buildings)))
        .filter(~Exists(tag_rows) | Exists(tag_rows.filter(tag_id__in=tags)))
        .annotate(is_read=Exists(reads))
        .select_related("project")
    )


def access_notice_for_account(account: PortalAccount, notice_id) -> Notice:
    return get_object_or_404(notices_for_account(account), pk=notice_id)


# ------------------------------------------------------------------------------------------------ staff side


def pending_bindings_for(user):
    """Binding requests waiting for approval on units in the staff member's scope, oldest first."""
    return (
        UnitBinding.objects.filter(status=BindingStatus.PENDING, unit__in=units_for(user).values("pk"))
        .select_related("account", "unit__project", "unit__building", "unit__entrance")
        .order_by("created_at", "id")
    )


def decided_bindings_for(user):
    return (
        UnitBinding.objects.filter(unit__in=units_for(user).values("pk"), decided_at__isnull=False)
        .select_related("account", "unit__project", "unit__building", "unit__entrance", "party", "decided_by")
        .order_by("-decided_at", "-id")
    )


def access_pending_binding_by_id(user, binding_id) -> UnitBinding:
    return get_object_or_404(pending_bindings_for(user), pk=binding_id)


def notices_for(user):
    """Notices of the projects in the staff member's scope; area staff see those of their buildings
    and the project-wide ones of their projects."""
    scope = scope_of(user)
    notices = Notice.objects.select_related("project", "created_by").annotate(read_count=Count("reads"))
    if scope.everything:
        return notices
    if scope.empty:
        return notices.none()
    return notices.filter(project_id__in=scope.project_ids)


def access_notice_by_id(user, notice_id) -> Notice:
    return get_object_or_404(notices_for(user), pk=notice_id)


def audience_of(notice: Notice):
    """The accounts a notice reaches now: actively bound to a targeted unit of its project."""
    today = timezone.localdate()
    bindings = UnitBinding.objects.filter(
        account=OuterRef("pk"), status=BindingStatus.ACTIVE, unit__project_id=notice.project_id
    ).filter(
        Exists(
            Occupancy.objects.filter(
                party_id=OuterRef("party_id"), unit_id=OuterRef("unit_id"), start__lte=today
            ).filter(Q(end__isnull=True) | Q(end__gte=today))
        )
    )
    building_ids = list(notice.buildings.values_list("pk", flat=True))
    tag_ids = list(notice.tags.values_list("pk", flat=True))
    if building_ids:
        bindings = bindings.filter(unit__building_id__in=building_ids)
    if tag_ids:
        bindings = bindings.filter(party__tags__in=tag_ids)
    return PortalAccount.objects.filter(is_active=True).filter(Exists(bindings))


def readers_of(notice: Notice):
    """Read receipts with, for each reader, the bindings that explain who they are."""
    return NoticeRead.objects.filter(notice=notice).select_related("account").order_by("-read_at")
