"""WeChat data for the demo: two followers' messages waiting as drafts, one from a follower already
bound to an owner (the draft lands in that owner's project), one from a new follower."""

import time

from guanjia.estate.choices import OccupancyRole
from guanjia.estate.models import Occupancy
from guanjia.org.choices import Role
from guanjia.org.models import Project, Staff

from . import services
from .models import WeChatFollower
from .protocol import Message

ACCOUNT = "gh_guanjia_demo"


def load_demo_wechat() -> int:
    """Receive the messages through the bridge's own service; returns how many drafts are waiting."""
    project = Project.objects.order_by("id").first()
    specialist = Staff.objects.filter(role=Role.SPECIALIST, project=project).order_by("id").first()
    if project is None or specialist is None:
        return 0
    owner = (
        Occupancy.objects.current()
        .filter(unit__project=project, role=OccupancyRole.OWNER)
        .select_related("party")
        .order_by("-id")[10]
    )
    now = int(time.time())
    bound = "oDemoFollower0000000000000001"
    services.do_receive_message(Message(ACCOUNT, bound, now - 3600, "event", event="subscribe"))
    services.do_bind_follower(specialist, WeChatFollower.objects.get(openid=bound), owner.party)
    messages = [
        (bound, now - 1800, "text", "你好，我家楼下的路灯坏了好几天了，晚上回家特别黑，能不能尽快修一下？"),
        (bound, now - 1790, "image", ""),
        ("oDemoFollower0000000000000002", now - 600, "text", "请问小区停车月卡怎么办理？需要带什么材料？"),
    ]
    for n, (openid, sent, kind, text) in enumerate(messages, start=1):
        services.do_receive_message(
            Message(
                ACCOUNT,
                openid,
                sent,
                kind,
                msg_id=9_000_000_000 + n,
                content=text,
                pic_url="https://mmbiz.qpic.cn/demo/streetlight.jpg" if kind == "image" else "",
                media_id=f"demo-media-{n}" if kind == "image" else "",
            )
        )
    return 2
