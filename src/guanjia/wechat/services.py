"""Every write of the WeChat bridge: incoming messages, drafts turned into requests, bindings, template messages.

Incoming messages become draft requests (`DraftCase`): what a follower sends within
`DRAFT_WINDOW` joins their open draft, so a text and the three photos after it are one draft.
Staff record a request from the draft (`do_convert_draft`, channel WeChat, through
`cases.services.do_record_case`) or dismiss it.

Template messages follow the notification layer's pattern: rows are written after the case
change committed (`queue_case_event_messages`, from the hook in `signals.py`), one per follower
and occasion (unique), and a background job claims and sends them through the gateway, so a
retried job sends nothing twice.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from guanjia.cases import services as case_services
from guanjia.cases.choices import Channel, EventKind, Visibility
from guanjia.core.errors import require
from guanjia.core.history import record_change, snapshot
from guanjia.org.permissions import can

from . import config
from .gateway import get_gateway
from .models import DraftCase, DraftStatus, TemplateMessage, WeChatFollower, WeChatMessage
from .protocol import Message
from .queries import drafts_for

logger = logging.getLogger(__name__)

DRAFT_WINDOW = timedelta(hours=2)
MAX_TEXT = 4000
DELIVERY_BATCH = 200
_http_url = URLValidator(schemes=["http", "https"])


def received_reply() -> str:
    return _("Received. Customer service will handle it as soon as possible and keep you informed here.")


def welcome_reply() -> str:
    return _(
        "Welcome! To report a repair, a complaint or a suggestion, send us a message, with photos if they help; "
        "customer service will handle it."
    )


def unsupported_reply() -> str:
    return _("We can only read text and photos here. Please type what happened, or call the service centre.")


# ------------------------------------------------------------------------------------------------ incoming


def _follower(openid: str) -> WeChatFollower:
    follower = WeChatFollower.objects.filter(openid=openid).first()
    if follower is not None:
        return follower
    try:
        with transaction.atomic():
            return WeChatFollower.objects.create(openid=openid)
    except IntegrityError:
        return WeChatFollower.objects.get(openid=openid)


def _sent_at(message: Message, now: datetime) -> datetime:
    try:
        sent = datetime.fromtimestamp(message.create_time, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return now
    return min(sent, now)


def _draft_for(follower: WeChatFollower, now: datetime) -> tuple[DraftCase, bool]:
    """The follower's open draft of the last `DRAFT_WINDOW` (locked), or a new one; True when new."""
    draft = (
        DraftCase.objects.select_for_update()
        .filter(follower=follower, status=DraftStatus.OPEN, last_at__gte=now - DRAFT_WINDOW)
        .order_by("-last_at")
        .first()
    )
    if draft is not None:
        return draft, False
    project_id = follower.party.project_id if follower.party_id else None
    return DraftCase.objects.create(follower=follower, project_id=project_id, first_at=now, last_at=now), True


def do_receive_message(message: Message) -> str:
    """Store a follower's message (once per MsgId) and answer with the passive reply text ("" for none).

    Text and photos join the follower's draft; the first message of a draft gets the
    "received" reply, the rest none, so five photos do not bring five replies. A message
    WeChat sends again gets the answer it got the first time and changes nothing.
    """
    with translation.override("zh-hans"):
        if message.msg_type == "event":
            return _on_event(message)
        if message.msg_type not in ("text", "image"):
            return unsupported_reply()
        now = timezone.now()
        pic_url = message.pic_url
        try:
            if pic_url:
                _http_url(pic_url)
        except ValidationError:
            pic_url = ""
        existing = WeChatMessage.objects.filter(msg_id=message.msg_id).only("reply").first()
        if existing is not None:
            return existing.reply
        try:
            with transaction.atomic():
                follower = _follower(message.openid)
                # One follower's messages arrive in bursts (a text, then photos): taken one at a time,
                # they join one draft instead of each starting its own.
                follower = (
                    WeChatFollower.objects.select_for_update(of=("self",)).select_related("party").get(pk=follower.pk)
                )
                draft, new = _draft_for(follower, now)
                reply = received_reply() if new else ""
                WeChatMessage.objects.create(
                    msg_id=message.msg_id,
                    follower=follower,
                    draft=draft,
                    account=message.to_user,
                    msg_type=message.msg_type,
                    content=message.content[:MAX_TEXT],
                    pic_url=pic_url,
                    media_id=message.media_id[:128],
                    sent_at=_sent_at(message, now),
                    received_at=now,
                    reply=reply,
                )
                text = message.content.strip()
                if message.msg_type == "text" and text:
                    draft.text = "\n".join(filter(None, [draft.text, text]))[:MAX_TEXT]
                if message.msg_type == "image":
                    draft.images += 1
                draft.last_at = now
                draft.save(update_fields=["text", "images", "last_at"])
        except IntegrityError:
            # The same MsgId arrived twice at once (WeChat's retry overtook our answer): the other one stored it.
            existing = WeChatMessage.objects.filter(msg_id=message.msg_id).only("reply").first()
            return existing.reply if existing is not None else ""
        return reply


def _on_event(message: Message) -> str:
    if message.event == "subscribe":
        follower = _follower(message.openid)
        if not follower.subscribed:
            WeChatFollower.objects.filter(pk=follower.pk).update(subscribed=True)
        return welcome_reply()
    if message.event == "unsubscribe":
        # Template messages to someone who left are refused by WeChat; stop sending them.
        WeChatFollower.objects.filter(openid=message.openid).update(subscribed=False)
    return ""


# ------------------------------------------------------------------------------------------------ drafts


def _lock_draft(actor, draft_or_id) -> DraftCase:
    require(can(actor, "wechat", "convert"), _("Your role may not handle WeChat messages."))
    draft_id = getattr(draft_or_id, "pk", draft_or_id)
    if not drafts_for(actor).filter(pk=draft_id).exists():
        raise PermissionDenied(_("This message does not exist or is outside your scope."))
    return DraftCase.objects.select_for_update().select_related("follower").get(pk=draft_id)


def do_bind_follower(actor, follower: WeChatFollower, party) -> WeChatFollower:
    """Bind a follower to a customer the actor may see; kept in the change history."""
    from guanjia.estate.queries import sees_party

    if party is None or not sees_party(actor, party):
        raise ValidationError({"party": _("Choose a customer you can see.")})
    if follower.party_id == party.pk:
        return follower
    before = snapshot(follower)
    follower.party = party
    follower.bound_by = actor
    follower.bound_at = timezone.now()
    follower.save(update_fields=["party", "bound_by", "bound_at", "updated_at"])
    record_change(follower, actor, before, source="wechat")
    # The follower's open drafts now belong to the customer's project.
    DraftCase.objects.filter(follower=follower, status=DraftStatus.OPEN).update(project_id=party.project_id)
    return follower


@dataclass
class Converted:
    case: object
    draft: DraftCase


def do_convert_draft(actor, draft, *, bind: bool = False, idempotency_key: str = "", **case_fields) -> Converted:
    """Record a request (channel WeChat, received when the follower wrote) from an open draft.

    `case_fields` are `do_record_case`'s (project, case_type, description, category, severity,
    units, party, caller_name, caller_phone, risk flags). With `bind` and a `party`, the follower
    is bound to that customer. Photos are listed in an internal note and attached after commit
    when the gateway can fetch them. A draft already recorded returns its request again.
    """
    with transaction.atomic():
        draft = _lock_draft(actor, draft)
        if draft.status == DraftStatus.CONVERTED and draft.case_id:
            return Converted(case=draft.case, draft=draft)
        if draft.status != DraftStatus.OPEN:
            raise ValidationError(_("This message was dismissed; it cannot be recorded."))
        case = case_services.do_record_case(
            actor,
            channel=Channel.WECHAT,
            received_at=draft.first_at,
            idempotency_key=idempotency_key or f"wechat-draft-{draft.pk}",
            **case_fields,
        )
        draft.status = DraftStatus.CONVERTED
        draft.case = case
        draft.handled_by = actor
        draft.handled_at = timezone.now()
        draft.project_id = case.project_id
        draft.save(update_fields=["status", "case", "handled_by", "handled_at", "project"])
        party = case_fields.get("party")
        if bind and party is not None:
            do_bind_follower(actor, draft.follower, party)
        photos = list(draft.messages.filter(msg_type="image").values_list("pic_url", "media_id"))
        if photos:
            lines = "\n".join(url or media for url, media in photos)
            case_services.do_add_note(actor, case, note=_("Photos sent on WeChat:") + "\n" + lines)
            media_ids = [media for _url, media in photos if media]
            if media_ids:
                transaction.on_commit(partial(_attach_photos, actor.pk, case.pk, media_ids))
    return Converted(case=case, draft=draft)


def _attach_photos(actor_id: int, case_id: int, media_ids: list[str]) -> None:
    """Fetch the follower's photos from WeChat and attach them (best effort: the links are in the note)."""
    from guanjia.cases.models import Case
    from guanjia.org.models import Staff

    actor = Staff.objects.filter(pk=actor_id).first()
    case = Case.objects.filter(pk=case_id).first()
    if actor is None or case is None:
        return
    gateway = get_gateway()
    for number, media_id in enumerate(media_ids, 1):
        try:
            fetched = gateway.fetch_media(media_id)
            if fetched is None:
                return
            content, content_type = fetched
            if not content_type.startswith("image/"):
                logger.warning("WeChat media %s of case %s is %s, not an image", media_id, case_id, content_type)
                continue
            extension = {"image/png": "png", "image/gif": "gif"}.get(content_type, "jpg")
            name = f"wechat-{case.number}-{number}.{extension}"
            case_services.do_add_attachment(actor, case, file=ContentFile(content, name=name), name=name)
        except Exception:
            logger.exception("attaching WeChat photo %s to case %s failed", media_id, case_id)


@transaction.atomic
def do_dismiss_draft(actor, draft, *, note: str) -> DraftCase:
    """Close a draft that is not a request (an advertisement, a thank-you); the reason is required."""
    draft = _lock_draft(actor, draft)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why this is not a request.")})
    if draft.status != DraftStatus.OPEN:
        raise ValidationError(_("This message was handled already."))
    draft.status = DraftStatus.DISMISSED
    draft.note = note[:200]
    draft.handled_by = actor
    draft.handled_at = timezone.now()
    draft.save(update_fields=["status", "note", "handled_by", "handled_at"])
    return draft


# ------------------------------------------------------------------------------------------------ template messages

# Case events a customer hears about, and the template message kind of each.
EVENT_KINDS = {
    EventKind.RECORDED: "case_recorded",
    EventKind.DISPATCHED: "case_dispatched",
    EventKind.CLOSED: "case_closed",
    EventKind.REOPENED: "case_reopened",
}


def message_kind(event) -> str | None:
    """The template message a case event gives its customer, if any (customer-visible notes: progress)."""
    if event.kind == EventKind.NOTE:
        return "case_progress" if event.visibility == Visibility.CUSTOMER else None
    return EVENT_KINDS.get(event.kind)


def followers_of_case(case) -> list[WeChatFollower]:
    """Subscribed followers bound to the case's customer, or whose WeChat message became the case."""
    about = Q(drafts__case_id=case.pk)
    if case.party_id:
        about |= Q(party_id=case.party_id)
    return list(WeChatFollower.objects.filter(about, subscribed=True).distinct())


def queue_case_event_messages(event_id: int) -> int:
    """Write the template messages of one committed case event and have them sent; returns how many."""
    from guanjia.cases.models import CaseEvent

    event = CaseEvent.objects.select_related("case__project").filter(pk=event_id).first()
    kind = message_kind(event) if event is not None else None
    if kind is None:
        return 0
    case = event.case
    followers = followers_of_case(case)
    if not followers:
        return 0
    with translation.override("zh-hans"):
        params = {
            "number": case.number,
            "status": str(case.get_status_display()),
            "summary": Truncator(case.description).chars(20),
            "time": timezone.localtime(event.time).strftime("%Y-%m-%d %H:%M"),
            "project": case.project.name,
            "note": Truncator(event.note).chars(20) if event.visibility == Visibility.CUSTOMER else "",
        }
    url = config.template_url().format(case_id=case.pk, number=case.number) if config.template_url() else ""
    rows = [
        TemplateMessage(
            follower=follower, kind=kind, case=case, params=params, url=url[:300], dedupe_key=f"event:{event.pk}"
        )
        for follower in followers
    ]
    TemplateMessage.objects.bulk_create(rows, ignore_conflicts=True)
    from . import tasks

    transaction.on_commit(tasks.deliver_template_messages)
    return len(rows)


def _claim(batch: int) -> list[int]:
    """Take up to `batch` unsent template messages for this worker (others skip the locked rows)."""
    with transaction.atomic():
        ids = list(
            TemplateMessage.objects.filter(delivered_at__isnull=True)
            .order_by("created_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch]
        )
        if ids:
            TemplateMessage.objects.filter(pk__in=ids).update(delivered_at=timezone.now())
    return ids


@dataclass
class DeliveryResult:
    claimed: int = 0
    sent: int = 0
    failures: int = 0


def deliver_template_messages(batch: int = DELIVERY_BATCH) -> DeliveryResult:
    """Send every template message not yet claimed, batch by batch; failures are kept on the row."""
    result = DeliveryResult()
    gateway = get_gateway()
    while ids := _claim(batch):
        result.claimed += len(ids)
        for message in TemplateMessage.objects.filter(pk__in=ids).select_related("follower").order_by("id"):
            try:
                message_id = gateway.send_template(message.follower.openid, message.kind, message.params, message.url)
            except Exception as exc:
                logger.warning("WeChat template message %s failed: %s", message.pk, exc)
                TemplateMessage.objects.filter(pk=message.pk).update(delivery_error=str(exc)[:1000])
                result.failures += 1
            else:
                TemplateMessage.objects.filter(pk=message.pk).update(provider_msg_id=str(message_id)[:64])
                result.sent += 1
    return result
