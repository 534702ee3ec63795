"""The WeChat callback (the Official Account's server URL) and the console pages for WeChat drafts.

The callback refuses before it reads anything: no token configured → 404; wrong or missing
signature, or a timestamp too far from our clock → 403; a body over `WECHAT_MAX_BODY` → 413;
XML that is not a WeChat message → 400. In each case nothing is stored.
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from guanjia.cases.views import STATUS_COLOURS
from guanjia.core.paging import CappedPaginator
from guanjia.org.permissions import can

from . import config, protocol, services
from .forms import DismissForm, DraftCaseForm
from .models import DraftStatus
from .queries import access_draft_by_id, drafts_for, messages_of

logger = logging.getLogger(__name__)

XML = "application/xml; charset=utf-8"


def _refuse(status: int, reason: str) -> HttpResponse:
    logger.warning("WeChat callback refused (%s): %s", status, reason)
    return HttpResponse(reason, status=status, content_type="text/plain; charset=utf-8")


def _body(request) -> bytes | None:
    """The request body, or None when it is larger than allowed (read no further than the limit)."""
    limit = config.max_body()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


@csrf_exempt
def callback(request):
    token = config.token()
    if not token:
        raise Http404
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    params = request.GET
    timestamp, nonce = params.get("timestamp", ""), params.get("nonce", "")
    if not protocol.check_signature(token, params.get("signature", ""), timestamp, nonce):
        return _refuse(403, "signature")
    if not protocol.is_fresh(timestamp, config.max_clock_skew()):
        return _refuse(403, "timestamp")
    if request.method == "GET":
        # The server-URL check in the WeChat admin: answer the echo string.
        return HttpResponse(params.get("echostr", ""), content_type="text/plain; charset=utf-8")
    body = _body(request)
    if body is None:
        return _refuse(413, "body too large")
    safe_mode = params.get("encrypt_type", "raw") == "aes"
    try:
        fields = protocol.parse_xml(body)
        if safe_mode:
            fields = _decrypt(fields, token, timestamp, nonce, params.get("msg_signature", ""))
            if fields is None:
                return _refuse(403, "msg_signature")
        message = protocol.parse_message(fields)
    except protocol.ProtocolError as exc:
        return _refuse(400, str(exc))
    reply = services.do_receive_message(message)
    if not reply:
        return HttpResponse("success", content_type="text/plain; charset=utf-8")
    xml = protocol.text_reply(message, reply)
    if safe_mode:
        xml = protocol.encrypted_reply(token, config.encoding_aes_key(), config.app_id(), xml, timestamp, nonce)
    return HttpResponse(xml, content_type=XML)


def _decrypt(fields: dict, token: str, timestamp: str, nonce: str, msg_signature: str) -> dict | None:
    """The plain message of a safe-mode request; None when `msg_signature` does not match."""
    encrypted = fields.get("Encrypt", "")
    if not encrypted or not config.encoding_aes_key():
        raise protocol.ProtocolError("safe mode needs Encrypt and WECHAT_ENCODING_AES_KEY")
    if not msg_signature or protocol.signature(token, timestamp, nonce, encrypted) != msg_signature.lower():
        return None
    return protocol.parse_xml(protocol.decrypt(config.encoding_aes_key(), config.app_id(), encrypted))


# ------------------------------------------------------------------------------------------------ console


def _may_handle(user) -> None:
    if not can(user, "wechat", "convert"):
        raise PermissionDenied


@login_required
def draft_list(request):
    """Messages from followers waiting to be recorded (or, with ?status=, the handled ones)."""
    _may_handle(request.user)
    status = request.GET.get("status", DraftStatus.OPEN)
    if status not in DraftStatus.values:
        status = DraftStatus.OPEN
    drafts = drafts_for(request.user).filter(status=status)
    if request.current_project_id:
        # The project switcher narrows to that project; drafts not yet placed in a project stay in view.
        drafts = drafts.filter(Q(project_id=request.current_project_id) | Q(project__isnull=True))
    order = "-last_at" if status == DraftStatus.OPEN else "-handled_at"
    page = CappedPaginator(drafts.order_by(order, "-id"), 25).get_page(request.GET.get("page"))
    for draft in page:
        if draft.case_id:
            draft.case.status_colour = STATUS_COLOURS.get(draft.case.status, "secondary")
    return render(request, "wechat/draft_list.html", {"page": page, "status": status, "statuses": DraftStatus.choices})


@login_required
def draft_detail(request, pk):
    """One draft: the follower's messages and photos, and the form that records a request from them."""
    user = request.user
    _may_handle(user)
    draft = access_draft_by_id(user, pk)
    initial = {"description": draft.text, "project": draft.project_id, "channel": "wechat"}
    party = draft.follower.party if draft.follower.party_id else None
    if party is None:
        initial["caller_name"] = _("WeChat follower %(tail)s") % {"tail": draft.follower.openid[-4:]}
    form = DraftCaseForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST":
        if draft.status != DraftStatus.OPEN:
            messages.error(request, _("This message was handled already."))
            return redirect("wechat:draft_detail", pk=draft.pk)
        if form.is_valid():
            d = form.cleaned_data
            try:
                result = services.do_convert_draft(
                    user,
                    draft,
                    bind=d["bind"],
                    idempotency_key=d["idempotency_key"],
                    project=d["project"],
                    case_type=d["case_type"],
                    description=d["description"],
                    category=d["category"],
                    severity=d["severity"],
                    units=d["units"],
                    party=d["party"],
                    caller_name=d["caller_name"],
                    caller_phone=d["caller_phone"],
                    risk_major=d["risk_major"],
                    risk_group=d["risk_group"],
                    risk_media=d["risk_media"],
                    risk_government=d["risk_government"],
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Request %(number)s recorded.") % {"number": result.case.number})
                return redirect("cases:case_detail", pk=result.case.pk)
    picked = _picked(form, party)
    context = {
        "draft": draft,
        "messages_": messages_of(draft),
        "form": form,
        "dismiss_form": DismissForm(),
        "picked": picked,
        "open": draft.status == DraftStatus.OPEN,
    }
    return render(request, "wechat/draft_detail.html", context)


def _picked(form, bound_party) -> dict | None:
    """The customer and units shown as picked: what was posted before a failed submit, else the bound customer."""
    data = getattr(form, "cleaned_data", None) if form.is_bound else None
    party = data.get("party") if data is not None else bound_party
    units = (data.get("units") if data is not None else None) or []
    if party is None and not units:
        return None
    return {
        "party": party.pk if party else "",
        "party_label": party.name if party else "",
        "units": ",".join(str(u.pk) for u in units),
        "unit_label": "、".join(u.label for u in units),
    }


@login_required
def draft_dismiss(request, pk):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    user = request.user
    _may_handle(user)
    draft = access_draft_by_id(user, pk)
    form = DismissForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get("note") or _("Say why this is not a request."))
        services.do_dismiss_draft(user, draft, note=form.cleaned_data["note"])
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("wechat:draft_detail", pk=draft.pk)
    messages.success(request, _("Message dismissed."))
    return redirect("wechat:draft_list")
