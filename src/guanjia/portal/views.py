"""Owner pages of the portal (/m/): sign-in, home, units, reporting, following, rating, notices.

Thin views: every id in a URL is resolved through `queries` for the signed-in account (another
owner's request, binding or notice is a 404), every write goes through one `services` function,
and every form posts with a CSRF token. Pages are small and built for a phone: no console CSS
bundle, one small stylesheet and one small script (`static/portal/`).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from guanjia.cases.models import Attachment
from guanjia.cases.queries import events_of
from guanjia.estate.identity import mask_phone

from . import presenters, services
from .choices import BindingStatus, NoticeKind
from .forms import (
    TYPE_LABELS,
    BindByIdentityForm,
    BindRequestForm,
    CodeForm,
    InformationForm,
    PhoneForm,
    RatingForm,
    ReportForm,
)
from .models import CaseRating
from .queries import (
    access_active_binding_for_account,
    access_binding_for_account,
    access_case_for_account,
    access_notice_for_account,
    active_bindings,
    bindings_of,
    cases_for_account,
    household_of,
    notices_for_account,
    rating_of,
    sharing_enabled,
)
from .sessions import client_ip, current_account, end_session, portal_login_required, start_session

CASE_PAGE = 20


def _not_found(request):
    response = render(request, "portal/not_found.html", {"tab": "cases"}, status=404)
    return response


def _owner_page(view):
    """Signed-in owners only; an id that resolves to nothing they may see renders the portal's 404."""
    view = portal_login_required(view)

    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return _not_found(request)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    home = reverse("portal:home")
    if target.startswith(home) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _decorate(cases) -> list:
    for case in cases:
        case.portal_status = presenters.status_label(case.status)
        case.portal_tone = presenters.status_tone(case.status)
        case.portal_type = TYPE_LABELS.get(case.case_type, case.get_case_type_display())
    return cases


# ------------------------------------------------------------------------------------------------ sign-in


def sign_in(request):
    """Step 1: the phone number, a code is sent. Step 2: the code, the owner is signed in."""
    if current_account(request) is not None:
        return redirect(_safe_next(request, reverse("portal:home")))
    next_url = _safe_next(request, "")
    step, form = "phone", PhoneForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "verify":
            form = CodeForm(request.POST)
            step = "code"
            if form.is_valid():
                try:
                    account = services.do_verify_sign_in_code(
                        form.cleaned_data["phone"], form.cleaned_data["code"], ip=client_ip(request)
                    )
                except ValidationError as exc:
                    form.add_service_errors(exc)
                    if "phone" in form.errors:
                        step = "phone"
                else:
                    response = redirect(next_url or reverse("portal:home"))
                    start_session(request, response, account)
                    return response
        else:
            form = PhoneForm(request.POST)
            if form.is_valid():
                raw_phone = form.cleaned_data["phone"]
                try:
                    services.do_send_sign_in_code(raw_phone, ip=client_ip(request))
                except ValidationError as exc:
                    form.add_service_errors(exc)
                    if request.POST.get("again") and services.has_live_code(raw_phone):
                        # "Send again" pressed too early: stay on the code step, the first code still works.
                        step = "code"
                        form = CodeForm(initial={"phone": services.clean_mobile(raw_phone)})
                        form.resend_errors = [m for ms in exc.message_dict.values() for m in ms]
                else:
                    step = "code"
                    form = CodeForm(initial={"phone": services.clean_mobile(raw_phone)})
    phone = form.data.get("phone") if form.is_bound else form.initial.get("phone", "")
    context = {
        "form": form,
        "step": step,
        "next": next_url,
        "phone": phone,
        "masked_phone": _masked(phone),
        "resend_errors": getattr(form, "resend_errors", []),
    }
    return render(request, "portal/sign_in.html", context)


def _masked(phone) -> str:
    try:
        return mask_phone(services.clean_mobile(phone or ""))
    except ValidationError:
        return ""


@require_POST
def sign_out(request):
    response = redirect("portal:sign_in")
    end_session(request, response)
    return response


# ------------------------------------------------------------------------------------------------ home


@_owner_page
def home(request):
    account = request.portal_account
    bindings = list(active_bindings(account))
    cases = _decorate(list(cases_for_account(account).order_by("-received_at", "-id")[:3]))
    notices = list(notices_for_account(account).order_by("-published_at", "-id")[:5])
    to_rate = [c for c in cases if c.status == "closed" and rating_of(c) is None]
    context = {
        "bindings": bindings,
        "pending": bindings_of(account).filter(status=BindingStatus.PENDING).exists(),
        "cases": cases,
        "notices": notices,
        "warnings": [n for n in notices if n.kind == NoticeKind.WEATHER and not n.is_read],
        "to_rate": to_rate,
        "masked_phone": mask_phone(account.phone),
        "tab": "home",
    }
    return render(request, "portal/home.html", context)


# ------------------------------------------------------------------------------------------------ units


@_owner_page
def unit_list(request):
    """My units and their households, waiting requests, and the sharing switch."""
    account = request.portal_account
    active = list(active_bindings(account))
    units = []
    for binding in active:
        household = list(household_of(binding.unit))
        others = bindings_of_unit(binding)
        units.append(
            {
                "binding": binding,
                "household": household,
                "accounts": others,
                "is_owner": services.is_unit_owner(binding),
                "shared": sharing_enabled(binding.unit_id),
            }
        )
    active_ids = {b.pk for b in active}
    others = [b for b in bindings_of(account).exclude(status=BindingStatus.REMOVED) if b.pk not in active_ids]
    context = {"units": units, "others": others, "tab": "units", "masked_phone": mask_phone(account.phone)}
    return render(request, "portal/units.html", context)


def bindings_of_unit(binding):
    """Other accounts bound to the same unit, shown by masked phone and the name they are bound as."""
    from .models import UnitBinding

    rows = (
        UnitBinding.objects.filter(unit_id=binding.unit_id, status=BindingStatus.ACTIVE)
        .exclude(pk=binding.pk)
        .select_related("account", "party")
    )
    return [{"phone": mask_phone(b.account.phone), "name": b.party.name if b.party_id else ""} for b in rows]


@_owner_page
def unit_bind(request):
    """Bind a unit: name + last six ID characters at once, or a request the butler approves."""
    account = request.portal_account
    mode = request.POST.get("mode") or request.GET.get("mode") or "identity"
    form_class = BindRequestForm if mode == "request" else BindByIdentityForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            unit = services.find_unit(data["project"], data["room"])
            if mode == "request":
                services.do_request_binding(
                    account, unit=unit, name=data["name"], relation=data["relation"], note=data["note"]
                )
            else:
                services.do_bind_unit_by_identity(account, unit=unit, name=data["name"], id_tail=data["id_tail"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect(f"{reverse('portal:unit_list')}?done={mode}")
    return render(request, "portal/unit_bind.html", {"form": form, "mode": mode, "tab": "units"})


@_owner_page
@require_POST
def unit_share(request, pk):
    binding = access_active_binding_for_account(request.portal_account, pk)
    try:
        services.do_set_household_sharing(request.portal_account, binding, enabled=request.POST.get("enabled") == "1")
    except PermissionDenied:
        raise Http404 from None
    return redirect("portal:unit_list")


@_owner_page
@require_POST
def unit_remove(request, pk):
    binding = access_binding_for_account(request.portal_account, pk)
    try:
        services.do_remove_binding(request.portal_account, binding)
    except ValidationError:
        pass
    return redirect("portal:unit_list")


# ------------------------------------------------------------------------------------------------ requests


@_owner_page
def case_list(request):
    account = request.portal_account
    cases = cases_for_account(account).order_by("-received_at", "-id")[:CASE_PAGE]
    cases = _decorate(list(cases))
    return render(request, "portal/case_list.html", {"cases": cases, "tab": "cases"})


@_owner_page
def case_new(request):
    account = request.portal_account
    bindings = list(active_bindings(account))
    if not bindings:
        return redirect(f"{reverse('portal:unit_bind')}?for=report")
    form = ReportForm(request.POST or None, request.FILES or None, bindings=bindings)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        binding = form.bindings.get(data["binding"])
        if binding is None:
            raise Http404
        try:
            case = services.do_report_case(
                account,
                binding=binding,
                case_type=data["case_type"],
                category=data["category"],
                description=data["description"],
                photos=request.FILES.getlist("photos"),
                idempotency_key=data["idempotency_key"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect(f"{reverse('portal:case_detail', args=[case.pk])}?new=1")
    return render(request, "portal/case_new.html", {"form": form, "tab": "new"})


DONE = ("closed", "followed_up", "archived")


def _detail_context(case, *, info_form=None, rating_form=None) -> dict:
    events = list(events_of(case, customer_only=True))
    ratings = list(CaseRating.objects.filter(case=case).order_by("created_at"))
    attachments = list(Attachment.objects.filter(case=case, owner_photo__isnull=False).order_by("uploaded_at", "id"))
    return {
        "case": _decorate([case])[0],
        "steps": presenters.progress(case),
        "promise": presenters.sla_promise(case, timezone.now()),
        "entries": presenters.timeline(case, events, ratings, attachments),
        "asked": presenters.needs_information(case, events),
        "may_rate": case.status in DONE and rating_of(case) is None and not case.merged_into_id,
        "may_add": case.status not in DONE,
        "rating_form": rating_form or RatingForm(),
        "info_form": info_form or InformationForm(),
        "tab": "cases",
    }


@_owner_page
def case_detail(request, pk):
    case = access_case_for_account(request.portal_account, pk)
    context = _detail_context(case)
    context["just_reported"] = request.GET.get("new") == "1"
    context["just_rated"] = request.GET.get("rated") == "1"
    return render(request, "portal/case_detail.html", context)


def _detail_with_errors(request, case, *, info_form=None, rating_form=None):
    context = _detail_context(case, info_form=info_form, rating_form=rating_form)
    return render(request, "portal/case_detail.html", context, status=400)


@_owner_page
@require_POST
def case_add_information(request, pk):
    account = request.portal_account
    case = access_case_for_account(account, pk)
    form = InformationForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.do_add_case_information(
                account, case, note=form.cleaned_data["note"], photos=request.FILES.getlist("photos")
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect(f"{reverse('portal:case_detail', args=[case.pk])}#timeline")
    return _detail_with_errors(request, case, info_form=form)


@_owner_page
@require_POST
def case_rate(request, pk):
    account = request.portal_account
    case = access_case_for_account(account, pk)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.do_rate_case(account, case, stars=form.cleaned_data["stars"], comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect(f"{reverse('portal:case_detail', args=[case.pk])}?rated=1")
    return _detail_with_errors(request, case, rating_form=form)


@_owner_page
def case_photo(request, pk, attachment_pk):
    """A photo of a request the owner may see; served through this check, never from a public URL."""
    case = access_case_for_account(request.portal_account, pk)
    attachment = Attachment.objects.filter(case=case, pk=attachment_pk, owner_photo__isnull=False).first()
    if attachment is None or not attachment.file:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ------------------------------------------------------------------------------------------------ notices


@_owner_page
def notice_list(request):
    notices = list(notices_for_account(request.portal_account).order_by("-published_at", "-id")[:50])
    return render(request, "portal/notice_list.html", {"notices": notices, "tab": "home"})


@_owner_page
def notice_detail(request, pk):
    notice = access_notice_for_account(request.portal_account, pk)
    services.do_mark_notice_read(request.portal_account, notice)
    return render(request, "portal/notice_detail.html", {"notice": notice, "tab": "home"})
