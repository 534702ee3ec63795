"""Console pages of the portal, for staff: binding requests to approve, notices, the developer outbox."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanjia.core.paging import CappedPaginator
from guanjia.estate.identity import mask_phone
from guanjia.org.permissions import can

from . import services
from .forms import ApproveBindingForm, NoticeForm, RejectBindingForm
from .models import DevOutboxMessage
from .permissions import may
from .queries import (
    access_notice_by_id,
    access_pending_binding_by_id,
    audience_of,
    decided_bindings_for,
    household_of,
    notices_for,
    pending_bindings_for,
    readers_of,
)


def _require(user, action: str) -> None:
    if not may(user, action):
        raise PermissionDenied(_("You may not do this."))


def _phone(user, phone: str) -> str:
    return phone if can(user, "phone", "view_full") else mask_phone(phone)


# ------------------------------------------------------------------------------------------------ bindings


@login_required
def binding_review(request):
    """Binding requests waiting in my scope (units of my areas for butlers), oldest first."""
    _require(request.user, "review_bindings")
    rows = []
    for binding in pending_bindings_for(request.user)[:100]:
        occupancies = list(household_of(binding.unit))
        rows.append(
            {
                "binding": binding,
                "phone": _phone(request.user, binding.account.phone),
                "occupancies": occupancies,
                "approve_form": ApproveBindingForm(
                    prefix=f"b{binding.pk}",
                    occupancies=occupancies,
                    initial={"party": _likely_party(binding, occupancies)},
                ),
                "reject_form": RejectBindingForm(prefix=f"r{binding.pk}"),
            }
        )
    decided = list(decided_bindings_for(request.user)[:20])
    for binding in decided:
        binding.phone_shown = _phone(request.user, binding.account.phone)
    return render(request, "portal/console/binding_review.html", {"rows": rows, "decided": decided})


def _likely_party(binding, occupancies):
    for occupancy in occupancies:
        if occupancy.party.name.replace(" ", "") == binding.claimed_name.replace(" ", ""):
            return occupancy.party_id
    return None


@login_required
@require_POST
def binding_decide(request, pk):
    _require(request.user, "review_bindings")
    binding = access_pending_binding_by_id(request.user, pk)
    try:
        if request.POST.get("decision") == "approve":
            occupancies = list(household_of(binding.unit))
            form = ApproveBindingForm(request.POST, prefix=f"b{binding.pk}", occupancies=occupancies)
            if not form.is_valid():
                raise ValidationError(_("Choose who the applicant is."))
            party = form.occupancies[form.cleaned_data["party"]].party
            services.do_approve_binding(request.user, binding, party=party)
            messages.success(request, _("Approved: %(unit)s.") % {"unit": binding.unit.full_label})
        else:
            services.do_reject_binding(request.user, binding, reason=request.POST.get(f"r{binding.pk}-reason", ""))
            messages.success(request, _("Not approved: %(unit)s.") % {"unit": binding.unit.full_label})
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("portal_console:binding_review")


# ------------------------------------------------------------------------------------------------ notices


@login_required
def notice_list(request):
    _require(request.user, "write_notices")
    notices = notices_for(request.user).order_by("-published_at", "-id")
    page = CappedPaginator(notices, 25).get_page(request.GET.get("page"))
    for notice in page:
        notice.audience_count = audience_of(notice).count()
    return render(request, "portal/console/notice_list.html", {"page": page, "now": timezone.now()})


@login_required
def notice_new(request):
    _require(request.user, "write_notices")
    form = NoticeForm(request.POST or None, user=request.user, initial={"project": request.current_project_id})
    if request.method == "POST" and form.is_valid():
        try:
            notice = services.do_publish_notice(request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The notice is published."))
            return redirect("portal_console:notice_detail", pk=notice.pk)
    return render(request, "portal/console/notice_form.html", {"form": form})


@login_required
def notice_detail(request, pk):
    _require(request.user, "write_notices")
    notice = access_notice_by_id(request.user, pk)
    reads = list(readers_of(notice)[:500])
    account_ids = [r.account_id for r in reads]
    # Who each reader is: the names and units of their bindings in this notice's project.
    bound = {}
    for binding in bindings_of_accounts(account_ids).filter(unit__project_id=notice.project_id).select_related("party"):
        bound.setdefault(binding.account_id, []).append(
            f"{binding.unit.label} {binding.party.name if binding.party_id else binding.claimed_name}"
        )
    for read in reads:
        read.who = "、".join(bound.get(read.account_id, [])) or "—"
        read.phone_shown = _phone(request.user, read.account.phone)
    context = {
        "notice": notice,
        "reads": reads,
        "audience_count": audience_of(notice).count(),
        "buildings": list(notice.buildings.all()),
        "tags": list(notice.tags.all()),
    }
    return render(request, "portal/console/notice_detail.html", context)


def bindings_of_accounts(account_ids):
    from .choices import BindingStatus
    from .models import UnitBinding

    return UnitBinding.objects.filter(account_id__in=account_ids, status=BindingStatus.ACTIVE).select_related(
        "unit__building", "unit__entrance"
    )


@login_required
@require_POST
def notice_withdraw(request, pk):
    _require(request.user, "write_notices")
    notice = access_notice_by_id(request.user, pk)
    try:
        services.do_withdraw_notice(request.user, notice)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("The notice is withdrawn from the portal."))
    return redirect("portal_console:notice_detail", pk=notice.pk)


# ------------------------------------------------------------------------------------------------ developer


@login_required
def dev_outbox(request):
    """Demo sign-in codes (administrators; only while no real SMS gateway is configured, or in DEBUG)."""
    if not may(request.user, "view_dev_outbox"):
        raise Http404
    rows = list(DevOutboxMessage.objects.order_by("-created_at", "-id")[:20])
    for row in rows:
        row.phone_shown = mask_phone(row.phone)
    return render(request, "portal/console/dev_outbox.html", {"rows": rows})
