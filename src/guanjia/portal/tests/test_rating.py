"""Rating a closed request: the rating completes the pending follow-up through the cases service,
a low rating reopens (or escalates) as a phoned-in dissatisfied follow-up does; after a recorded
call the rating is only stored."""

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from guanjia.cases import services as cs
from guanjia.cases.choices import CaseStatus, CaseType, EventKind, FollowUpOutcome
from guanjia.cases.models import CaseEvent, FollowUp
from guanjia.notifications.models import Notification
from guanjia.portal import services
from guanjia.portal.models import CaseRating
from guanjia.portal.queries import active_bindings

from .conftest import portal_login

S = CaseStatus


def closed_leak(w, account):
    case = services.do_report_case(
        account,
        binding=active_bindings(account).get(),
        case_type=CaseType.REPAIR,
        category=w.leak,
        description="卫生间漏水",
    )
    case = cs.do_dispatch_case(w.butler, case, expected_version=None, department=w.dept)
    return cs.do_close_case(w.butler, case, expected_version=None, note="已更换防水层")


@pytest.mark.parametrize(
    "stars,outcome,status",
    [
        (5, FollowUpOutcome.SATISFIED, S.FOLLOWED_UP),
        (4, FollowUpOutcome.SATISFIED, S.FOLLOWED_UP),
        (3, FollowUpOutcome.BASICALLY_SATISFIED, S.FOLLOWED_UP),
        (2, FollowUpOutcome.DISSATISFIED, S.REOPENED),
        (1, FollowUpOutcome.DISSATISFIED, S.REOPENED),
    ],
)
def test_rating_completes_the_pending_follow_up(pw, owner_b, stars, outcome, status):
    case = closed_leak(pw, owner_b)
    rating = services.do_rate_case(owner_b, case, stars=stars, comment="师傅很负责" if stars > 2 else "")
    follow_up = FollowUp.objects.get(case=case)
    case.refresh_from_db()
    assert (follow_up.outcome, follow_up.agent, case.status) == (outcome, pw.butler, status)
    assert follow_up.done_at is not None and rating.follow_up == follow_up
    event = CaseEvent.objects.filter(case=case, kind=EventKind.FOLLOWED_UP).get()
    assert f"Rated {stars} of 5 stars" in event.note
    if outcome == FollowUpOutcome.DISSATISFIED:
        assert event.data["then"] == "reopen" and case.reopened_count == 1 and not case.risk_major


def test_low_rating_reopens_and_tells_the_owner_and_team_leads(pw, owner_b, django_capture_on_commit_callbacks):
    from guanjia.org.choices import Role, ScopeLevel
    from guanjia.testing import make_staff

    lead = make_staff("lead", Role.TEAM_LEAD, ScopeLevel.PROJECT, project=pw.project)
    case = closed_leak(pw, owner_b)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_rate_case(owner_b, case, stars=2, comment="还是漏水")
    case.refresh_from_db()
    assert case.status == S.REOPENED and case.resolved_at is None
    follow_up = FollowUp.objects.get(case=case)
    assert "还是漏水" in follow_up.note
    # The butler acted (as first-contact owner), so only the team lead is told.
    assert Notification.objects.filter(case=case, kind="case_reopened", recipient=lead).exists()


def test_low_rating_escalates_when_the_setting_says_so(pw, owner_b, settings):
    settings.GUANJIA_PORTAL_LOW_RATING = "escalate"
    case = closed_leak(pw, owner_b)
    services.do_rate_case(owner_b, case, stars=1, comment="态度差")
    case.refresh_from_db()
    assert case.status == S.REOPENED and case.risk_major
    kinds = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("kind", flat=True))
    assert kinds[-2:] == [EventKind.FOLLOWED_UP, EventKind.ESCALATED]


def test_a_wrong_setting_fails_loudly(pw, owner_b, settings):
    settings.GUANJIA_PORTAL_LOW_RATING = "ignore"
    case = closed_leak(pw, owner_b)
    with pytest.raises(ImproperlyConfigured):
        services.do_rate_case(owner_b, case, stars=1)
    assert not CaseRating.objects.exists()


def test_after_a_recorded_call_the_rating_is_only_stored(pw, owner_b):
    case = closed_leak(pw, owner_b)
    follow_up = FollowUp.objects.get(case=case)
    cs.do_record_follow_up(pw.butler, follow_up, expected_version=None, outcome=FollowUpOutcome.SATISFIED)
    rating = services.do_rate_case(owner_b, case, stars=1, comment="其实不满意")
    case.refresh_from_db()
    follow_up.refresh_from_db()
    assert case.status == S.FOLLOWED_UP and follow_up.outcome == FollowUpOutcome.SATISFIED
    assert rating.follow_up is None and rating.stars == 1
    assert CaseEvent.objects.filter(case=case, kind=EventKind.FOLLOWED_UP).count() == 1


def test_unreachable_calls_do_not_stop_the_rating_from_completing_it(pw, owner_b):
    case = closed_leak(pw, owner_b)
    follow_up = FollowUp.objects.get(case=case)
    cs.do_record_follow_up(pw.butler, follow_up, expected_version=None, outcome=FollowUpOutcome.UNREACHABLE)
    services.do_rate_case(owner_b, case, stars=5)
    follow_up.refresh_from_db()
    assert follow_up.outcome == FollowUpOutcome.SATISFIED and follow_up.attempts == 2


@pytest.mark.parametrize("stars", [0, 6, "x", None])
def test_stars_must_be_one_to_five(pw, owner_b, stars):
    case = closed_leak(pw, owner_b)
    with pytest.raises(ValidationError) as exc:
        services.do_rate_case(owner_b, case, stars=stars)
    assert "stars" in exc.value.message_dict
    assert not CaseRating.objects.exists()


def test_open_request_cannot_be_rated(pw, owner_b):
    case = services.do_report_case(
        owner_b, binding=active_bindings(owner_b).get(), case_type=CaseType.REPAIR, description="门禁坏了"
    )
    with pytest.raises(ValidationError) as exc:
        services.do_rate_case(owner_b, case, stars=5)
    assert "once it is completed" in exc.value.message_dict["stars"][0]


def test_one_rating_per_closing_and_again_after_reopening(pw, owner_b):
    case = closed_leak(pw, owner_b)
    services.do_rate_case(owner_b, case, stars=2, comment="还是漏")
    case.refresh_from_db()
    with pytest.raises(ValidationError):
        services.do_rate_case(owner_b, case, stars=5)
    case = cs.do_close_case(pw.butler, case, expected_version=None, note="二次维修完成")
    services.do_rate_case(owner_b, case, stars=5)
    case.refresh_from_db()
    assert case.status == S.FOLLOWED_UP
    assert list(CaseRating.objects.filter(case=case).order_by("round").values_list("round", "stars")) == [
        (0, 2),
        (1, 5),
    ]
    with pytest.raises(ValidationError):
        services.do_rate_case(owner_b, case, stars=4)


def test_rating_page(client, pw, owner_b):
    case = closed_leak(pw, owner_b)
    portal_login(client, pw.owner_b.phone)
    page = client.get(f"/m/requests/{case.pk}/").content.decode()
    assert 'id="rate-form"' in page and 'data-status="closed"' in page
    response = client.post(f"/m/requests/{case.pk}/rate/", {"stars": "9"})
    assert response.status_code == 400
    response = client.post(f"/m/requests/{case.pk}/rate/", {"stars": "2", "comment": "还是漏水"})
    assert response["Location"] == f"/m/requests/{case.pk}/?rated=1"
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="reopened"' in page and 'id="rate-form"' not in page and "还是漏水" in page
