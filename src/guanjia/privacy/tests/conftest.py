"""A person with data in every corner of Guanjia, staff of every role, and the reports' hand-counted October.

`person` is 张伟 (owner of 1栋1单元501 in 绿色家园, area A): two phones, an ID number, a tag and a note,
a contact, a request as the customer (with a customer-visible and an internal note, closed and
followed up), a request as an unregistered caller with his phone, an owner-portal account with a
binding, a session and a rating, a hotline call, and a WeChat follower with a message.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from guanjia.cases import services as cs
from guanjia.cases.choices import CaseType, Channel, FollowUpOutcome, Visibility
from guanjia.estate import services as es
from guanjia.estate.identity import id_check_digit
from guanjia.estate.models import Tag
from guanjia.org.choices import Role, ScopeLevel
from guanjia.portal.models import CaseRating, PortalAccount, PortalSession, UnitBinding

# The reports' October (cases c1…c8 around 张伟 and 李娜) for the "counts stay the same" tests.
from guanjia.reports.tests.conftest import _no_cached_dashboards, clock, october  # noqa: F401
from guanjia.telephony.models import Call
from guanjia.testing import PASSWORD, make_staff
from guanjia.wechat.models import WeChatFollower, WeChatMessage

ID_NUMBER = "11010519800101123" + id_check_digit("11010519800101123")
PHONE2 = "13600001111"


def id_number_masked() -> str:
    return ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:]


@pytest.fixture
def staff(world):
    """One member of every role whose scope holds 张伟: project 绿色家园, or area A for a butler."""
    w = world
    members = {}
    for role in Role.values:
        if role == Role.BUTLER:
            members[role] = make_staff(f"p_{role}", role, ScopeLevel.AREA, project=w.project, areas=[w.area_a])
        else:
            members[role] = make_staff(f"p_{role}", role, ScopeLevel.PROJECT, project=w.project)
    return members


@pytest.fixture
def sign_in(client):
    def signed_in(user):
        client.logout()
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return signed_in


@pytest.fixture
def person(world):
    w = world
    sp = w.specialist
    party = es.do_update_party(
        w.admin,
        w.owner_a,
        {
            "phone2": PHONE2,
            "id_number": ID_NUMBER,
            "note": "张伟腿脚不便，上门请提前打电话",
            "tags": es.get_or_create_tags(["孤寡老人"]),
        },
    )
    es.do_record_contact(sp, party, "phone", "张伟来电询问停车位", unit=w.unit_a)
    own = cs.do_record_case(
        sp,
        project=w.project,
        case_type=CaseType.REPAIR,
        channel=Channel.HOTLINE,
        description="张伟家卫生间漏水",
        party=party,
        units=[w.unit_a],
        route=False,
    )
    cs.do_add_note(sp, own, note="师傅下午上门，张先生请在家", visibility=Visibility.CUSTOMER)
    cs.do_add_note(sp, own, note="内部：张伟上次投诉过物业", visibility=Visibility.INTERNAL)
    own.refresh_from_db()
    own = cs.do_close_case(sp, own, expected_version=own.version, note="已修好")
    pending = own.follow_ups.get(done_at__isnull=True)
    own.refresh_from_db()
    cs.do_record_follow_up(
        sp, pending, expected_version=own.version, outcome=FollowUpOutcome.SATISFIED, note="张伟满意"
    )
    as_caller = cs.do_record_case(
        sp,
        project=w.project,
        case_type=CaseType.INQUIRY,
        channel=Channel.HOTLINE,
        description="物业费怎么交",
        caller_name="张先生",
        caller_phone=PHONE2,
        route=False,
    )
    account = PortalAccount.objects.create(phone=party.phone, last_sign_in_at=timezone.now())
    binding = UnitBinding.objects.create(
        account=account,
        unit=w.unit_a,
        party=party,
        status="active",
        method="identity",
        claimed_name="张伟",
        relation="owner",
        note="我是业主张伟",
    )
    PortalSession.objects.create(account=account, key_digest="x" * 64, expires_at=timezone.now() + timedelta(days=1))
    rating = CaseRating.objects.create(case=own, account=account, stars=4, comment="师傅很好，张伟")
    call = Call.objects.create(
        provider_call_id="call-1",
        caller=party.phone,
        caller_raw="+86 138 1234 5678",
        party=party,
        project=w.project,
        company=w.company,
        agent=sp,
        state="ended",
        duration=95,
    )
    follower = WeChatFollower.objects.create(openid="oAbCdEfGhIjKlMn0", party=party, bound_at=timezone.now())
    WeChatMessage.objects.create(
        follower=follower, msg_id=1001, msg_type="text", content="我是3栋的张伟", sent_at=timezone.now()
    )
    party.refresh_from_db()
    return SimpleNamespace(
        party=party,
        own=own,
        as_caller=as_caller,
        account=account,
        binding=binding,
        rating=rating,
        call=call,
        follower=follower,
        tag=Tag.objects.get(name="孤寡老人"),
    )
