"""The case collection: marking a request as typical, the prefill's masking, the review steps and
their refusals, who sees what, the collection page and its booklet PDF."""

import re
import shutil
import subprocess
import sys
import zlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from guanjia.cases import services as s
from guanjia.cases.choices import CaseType, FollowUpOutcome, Visibility
from guanjia.cases.models import Case
from guanjia.estate.choices import Gender
from guanjia.org.choices import Role, ScopeLevel
from guanjia.reports import casebook
from guanjia.reports.casebook import mask_name, mask_numbers
from guanjia.reports.choices import CaseStudyStatus, CaseStudyStepKind
from guanjia.reports.models import CaseStudy, CaseStudyStep
from guanjia.testing import make_staff

from .conftest import category, close, follow_up, record

LEAK = ("工程质量", "渗漏", "卫生间渗漏")


@pytest.fixture
def people(world):
    w = world
    w.owner_b.gender = Gender.FEMALE
    w.owner_b.save(update_fields=["gender"])
    w.lead = make_staff("lead", Role.TEAM_LEAD, ScopeLevel.PROJECT, project=w.project)
    w.colleague = make_staff("colleague", Role.SPECIALIST, ScopeLevel.PROJECT, project=w.project)
    w.butler_a = make_staff("butler_a", Role.BUTLER, ScopeLevel.AREA, project=w.project, areas=[w.area_a])
    w.other_manager = make_staff("other_manager", Role.MANAGER, ScopeLevel.COMPANY, company=w.other_company)
    return w


def closed_leak(w, **extra) -> Case:
    """A leak on 3栋2单元1502 from 李娜 (female): a note to her, an internal note, closed, followed up."""
    data = {
        "case_type": CaseType.REPAIR,
        "category": category(*LEAK),
        "units": [w.unit_b],
        "party": w.owner_b,
        "caller_name": "李娜",
        "description": "李娜来电：卫生间漏水到楼下，回电 13987651502，身份证 110101199003071234。",
    }
    data.update(extra)
    case = record(w.specialist, w.project, **data)
    s.do_add_note(w.specialist, case, note="师傅今天下午上门，已告知李娜。", visibility=Visibility.CUSTOMER)
    s.do_add_note(w.specialist, case, note="内部：业主脾气急，注意沟通方式。")
    close(w.specialist, case)
    follow_up(w.specialist, case, FollowUpOutcome.SATISFIED, note="李娜表示满意")
    case.refresh_from_db()
    return case


def written(w, case=None, author=None) -> CaseStudy:
    """A study of a closed leak with every part written, still a draft."""
    author = author or w.specialist
    study, created = casebook.do_mark_case_typical(author, case or closed_leak(w))
    assert created
    return casebook.do_update_case_study(
        author, study, expected_version=study.version, lessons="渗漏报修当天上门，先止水再查因。"
    )


def published(w, case=None, author=None, reviewer=None) -> CaseStudy:
    author = author or w.specialist
    study = written(w, case, author)
    study = casebook.do_submit_case_study(author, study, expected_version=study.version)
    return casebook.do_approve_case_study(
        reviewer or w.manager, study, expected_version=study.version, comment="可作范例"
    )


def texts(study: CaseStudy) -> str:
    return " ".join([study.title, study.customer_label, study.background, study.handling, study.outcome, study.lessons])


# ------------------------------------------------------------------------------------------------ prefill


def test_names_and_numbers_are_masked():
    assert mask_name("李娜", Gender.FEMALE) == "李女士"
    assert mask_name("张伟", Gender.MALE) == "张先生"
    assert mask_name("王芳") == "王某"
    assert mask_name("欧阳娜娜", Gender.FEMALE) == "欧阳女士"
    assert mask_name("李女士") == "李女士"
    assert mask_numbers("电话13812345678或138 1234 5678") == "电话138****5678或138****5678"
    assert mask_numbers("座机010-62345678") == "座机010-****5678"
    assert mask_numbers("身份证11010119900307123x") == "身份证1101**********123X"


def test_prefill_masks_personal_data_and_summarises_the_customer_timeline(people):
    w = people
    case = closed_leak(w)
    study, created = casebook.do_mark_case_typical(w.specialist, case)
    assert created and study.status == CaseStudyStatus.DRAFT and study.author == w.specialist
    assert study.customer_label == "李女士"
    assert study.unit_label == "3栋2单元1502"
    assert study.project == w.project and study.case_type == CaseType.REPAIR
    assert study.category == category(*LEAK) and study.category_path == "工程质量 / 渗漏 / 卫生间渗漏"
    assert "绿色家园" in study.title and "卫生间渗漏" in study.title
    body = texts(study)
    for secret in ("李娜", "13987651502", "110101199003071234"):
        assert secret not in body
    assert "139****1502" in study.background and "1101**********1234" in study.background
    assert "绿色家园3栋2单元1502" in study.background and "李女士" in study.background
    # The customer-visible note is in the handling, the internal note is not.
    assert "师傅今天下午上门，已告知李女士。" in study.handling
    assert "脾气" not in body
    assert "李女士表示满意" in study.outcome
    assert study.lessons == ""
    step = study.steps.get()
    assert (step.kind, step.actor, step.to_status) == (CaseStudyStepKind.MARKED, w.specialist, CaseStudyStatus.DRAFT)


def test_only_closed_requests_by_writers_in_scope_can_be_marked(people):
    w = people
    case = closed_leak(w)
    with pytest.raises(PermissionDenied):
        casebook.do_mark_case_typical(w.butler, case)  # a butler sees it but does not write case studies
    with pytest.raises(PermissionDenied):
        casebook.do_mark_case_typical(w.outsider, case)  # another project
    open_case = record(w.specialist, w.project)
    with pytest.raises(ValidationError) as exc:
        casebook.do_mark_case_typical(w.specialist, open_case)
    assert "case" in exc.value.message_dict
    assert not CaseStudy.objects.exists()
    first, created = casebook.do_mark_case_typical(w.specialist, case)
    again, created_again = casebook.do_mark_case_typical(w.colleague, case)
    assert created and not created_again and again.pk == first.pk
    assert CaseStudy.objects.count() == 1


# ------------------------------------------------------------------------------------------------ review


def test_review_returns_then_publishes_and_records_every_step(people):
    w = people
    study = written(w)
    study = casebook.do_submit_case_study(w.specialist, study, expected_version=study.version, comment="请审核")
    assert study.status == CaseStudyStatus.IN_REVIEW and study.submitted_at is not None
    with pytest.raises(ValidationError) as exc:
        casebook.do_return_case_study(w.lead, study, expected_version=study.version, comment="  ")
    assert "comment" in exc.value.message_dict
    study.refresh_from_db()
    assert study.status == CaseStudyStatus.IN_REVIEW
    study = casebook.do_return_case_study(w.lead, study, expected_version=study.version, comment="补充回访细节")
    assert study.status == CaseStudyStatus.DRAFT and study.reviewer == w.lead
    study = casebook.do_update_case_study(
        w.specialist, study, expected_version=study.version, outcome=study.outcome + "\n业主送来感谢信。"
    )
    study = casebook.do_submit_case_study(w.specialist, study, expected_version=study.version)
    study = casebook.do_approve_case_study(w.manager, study, expected_version=study.version)
    study.refresh_from_db()
    assert study.status == CaseStudyStatus.PUBLISHED and study.reviewer == w.manager and study.published_at
    steps = list(study.steps.values_list("kind", "actor__username", "from_status", "to_status", "comment"))
    assert steps == [
        ("marked", "specialist", "", "draft", ""),
        ("submitted", "specialist", "draft", "in_review", "请审核"),
        ("returned", "lead", "in_review", "draft", "补充回访细节"),
        ("submitted", "specialist", "draft", "in_review", ""),
        ("published", "manager", "in_review", "published", ""),
    ]
    with pytest.raises(TypeError):
        CaseStudyStep.objects.filter(study=study).update(comment="改")


def test_withdraw_and_revise(people):
    w = people
    study = published(w)
    with pytest.raises(PermissionDenied):
        casebook.do_withdraw_case_study(w.specialist, study, expected_version=study.version, comment="过时")
    with pytest.raises(ValidationError) as exc:
        casebook.do_withdraw_case_study(w.lead, study, expected_version=study.version, comment="")
    assert "comment" in exc.value.message_dict
    study = casebook.do_withdraw_case_study(w.lead, study, expected_version=study.version, comment="处理方式已过时")
    assert study.status == CaseStudyStatus.WITHDRAWN and study.withdrawn_at
    study = casebook.do_revise_case_study(w.specialist, study, expected_version=study.version)
    assert study.status == CaseStudyStatus.DRAFT and study.published_at is None
    assert list(study.steps.values_list("kind", flat=True))[-2:] == ["withdrawn", "revised"]


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("approve", CaseStudyStatus.DRAFT),
        ("return", CaseStudyStatus.DRAFT),
        ("revise", CaseStudyStatus.DRAFT),
        ("submit", CaseStudyStatus.PUBLISHED),
        ("approve", CaseStudyStatus.PUBLISHED),
        ("revise", CaseStudyStatus.PUBLISHED),
        ("withdraw", CaseStudyStatus.IN_REVIEW),
    ],
)
def test_illegal_transitions_are_refused_with_the_status(people, action, status):
    w = people
    study = written(w)
    CaseStudy.objects.filter(pk=study.pk).update(status=status)
    study.refresh_from_db()
    actor = w.specialist if action in ("submit",) else w.manager
    with pytest.raises(ValidationError) as exc:
        casebook.DO[action](actor, study, expected_version=study.version, comment="理由")
    message = exc.value.message_dict["status"][0]
    assert str(CaseStudyStatus(status).label) in message
    study.refresh_from_db()
    assert study.status == status
    assert study.steps.count() == 1


def test_edits_are_refused_unless_a_draft_of_ones_own_and_current(people):
    w = people
    study = written(w)
    with pytest.raises(PermissionDenied):
        casebook.do_update_case_study(w.colleague, study, expected_version=study.version, title="改标题")
    with pytest.raises(ValidationError) as exc:
        casebook.do_update_case_study(w.specialist, study, expected_version=study.version - 1, title="改标题")
    assert "version" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        casebook.do_update_case_study(
            w.specialist, study, expected_version=study.version, title="", tags="一,二,三,四,五,六,七,八,九"
        )
    assert set(exc.value.message_dict) == {"title", "tags"}
    study.refresh_from_db()
    assert "绿色家园" in study.title and "卫生间渗漏" in study.title
    study = casebook.do_update_case_study(
        w.specialist, study, expected_version=study.version, tags="渗漏，重大投诉 渗漏", lessons="回电 13800001111"
    )
    assert study.tags == "渗漏、重大投诉" and study.tag_list == ["渗漏", "重大投诉"]
    assert study.lessons == "回电 138****1111"  # typed numbers are masked too
    blank = casebook.do_update_case_study(w.specialist, study, expected_version=study.version, lessons="")
    with pytest.raises(ValidationError) as exc:
        casebook.do_submit_case_study(w.specialist, blank, expected_version=blank.version)
    assert list(exc.value.message_dict) == ["lessons"]
    blank.refresh_from_db()
    assert blank.status == CaseStudyStatus.DRAFT


def test_authors_do_not_review_their_own_study(people):
    w = people
    study = written(w, author=w.lead)
    study = casebook.do_submit_case_study(w.lead, study, expected_version=study.version)
    with pytest.raises(ValidationError) as exc:
        casebook.do_approve_case_study(w.lead, study, expected_version=study.version)
    assert "reviewer" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        casebook.do_approve_case_study(w.colleague, study, expected_version=study.version)  # not a reviewer
    with pytest.raises(PermissionDenied):
        casebook.do_approve_case_study(w.other_manager, study, expected_version=study.version)  # not in scope
    assert casebook.allowed_actions(w.lead, study) == []
    assert casebook.allowed_actions(w.manager, study) == ["approve", "return"]
    study.refresh_from_db()
    assert study.status == CaseStudyStatus.IN_REVIEW


def test_a_published_study_is_not_changed_by_later_edits_of_the_request(client, people):
    w = people
    study = published(w)
    before = {f: getattr(study, f) for f in casebook.EDITABLE}
    client.force_login(w.colleague)

    def article():
        html = client.get(f"/reports/casebook/{study.pk}/").content.decode()
        return html[html.index("<article") : html.index("</article>")]

    page = article()
    case = study.case
    case.refresh_from_db()
    s.do_reopen_case(w.manager, case, expected_version=case.version, reason="业主再次反映")
    s.do_add_note(w.specialist, case, note="再次上门维修", visibility=Visibility.CUSTOMER)
    Case.objects.filter(pk=case.pk).update(description="完全不同的描述", category=category("公共秩序", "噪音"))
    study.refresh_from_db()
    assert {f: getattr(study, f) for f in casebook.EDITABLE} == before
    assert article() == page
    with pytest.raises(ValidationError) as exc:
        casebook.do_update_case_study(w.specialist, study, expected_version=study.version, title="新标题")
    assert "status" in exc.value.message_dict


# ------------------------------------------------------------------------------------------------ scope and pages


def test_readers_see_the_studies_of_their_scope_only(client, people):
    w = people
    study = written(w)
    # A draft: its author and reviewers in scope, nobody else.
    for user, status in ((w.specialist, 200), (w.lead, 200), (w.colleague, 404), (w.outsider, 404)):
        client.force_login(user)
        assert client.get(f"/reports/casebook/{study.pk}/").status_code == status, user
    study = casebook.do_submit_case_study(w.specialist, study, expected_version=study.version)
    casebook.do_approve_case_study(w.manager, study, expected_version=study.version)
    for user, status in (
        (w.colleague, 200),
        (w.butler, 200),  # the leak is on a unit of the butler's area B
        (w.butler_a, 404),
        (w.outsider, 404),
        (w.other_manager, 404),
    ):
        client.force_login(user)
        assert client.get(f"/reports/casebook/{study.pk}/").status_code == status, user
        listed = f"/reports/casebook/{study.pk}/" in client.get("/reports/casebook/").content.decode()
        assert listed == (status == 200), user
    client.force_login(w.outsider)
    assert client.post(f"/reports/casebook/{study.pk}/withdraw/", {"version": 3, "comment": "x"}).status_code == 404
    assert client.post(f"/reports/casebook/mark/{study.case_id}/").status_code == 404
    assert client.get(f"/reports/casebook/booklet.pdf?project={w.project.pk}").status_code == 404
    assert client.get(f"/reports/casebook/?project={w.project.pk}").status_code == 404
    study.refresh_from_db()
    assert study.status == CaseStudyStatus.PUBLISHED


def test_marking_from_the_request_page_and_reviewing_in_the_console(client, people):
    w = people
    case = closed_leak(w)
    client.force_login(w.butler)
    assert 'data-action="case_study"' not in client.get(f"/cases/{case.pk}/").content.decode()
    assert client.post(f"/reports/casebook/mark/{case.pk}/").status_code == 403
    client.force_login(w.specialist)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'action="/reports/casebook/mark/{case.pk}/"' in html
    response = client.post(f"/reports/casebook/mark/{case.pk}/")
    study = CaseStudy.objects.get(case=case)
    assert response.status_code == 302 and response.url == f"/reports/casebook/{study.pk}/"
    assert f"/reports/casebook/{study.pk}/" in client.get(f"/cases/{case.pk}/").content.decode()
    form = {
        "title": "卫生间渗漏当天修复",
        "case_type": "repair",
        "category": str(study.category_id),
        "tags": "渗漏",
        "unit_label": study.unit_label,
        "customer_label": study.customer_label,
        "background": study.background,
        "handling": study.handling,
        "outcome": study.outcome,
        "lessons": "",
        "version": str(study.version),
        "action": "submit",
    }
    response = client.post(f"/reports/casebook/{study.pk}/", form)
    assert response.status_code == 400  # the lessons are missing: saved, not submitted
    study.refresh_from_db()
    assert study.status == CaseStudyStatus.DRAFT and study.title == "卫生间渗漏当天修复"
    assert f'name="version" value="{study.version}"' in response.content.decode()
    form.update(lessons="先止水、再查因。", version=str(study.version))
    assert client.post(f"/reports/casebook/{study.pk}/", form).status_code == 302
    study.refresh_from_db()
    assert study.status == CaseStudyStatus.IN_REVIEW
    client.force_login(w.lead)
    html = client.get(f"/reports/casebook/{study.pk}/").content.decode()
    assert 'data-action="approve"' in html and 'data-action="return"' in html
    response = client.post(f"/reports/casebook/{study.pk}/return/", {"version": study.version, "comment": ""})
    assert response.status_code == 302
    study.refresh_from_db()
    assert study.status == CaseStudyStatus.IN_REVIEW

    # A review form that does not validate says what is wrong with it and changes nothing.
    def refused(data) -> str:
        response = client.post(f"/reports/casebook/{study.pk}/approve/", data, follow=True)
        return [str(m) for m in response.context["messages"] if m.level_tag == "error"][-1]

    assert str(casebook.COMMENT_MAX) in refused(
        {"version": study.version, "comment": "长" * (casebook.COMMENT_MAX + 1)}
    )
    assert str(casebook.COMMENT_MAX) not in refused({"comment": "好"})  # no version: not blamed on the comment
    study.refresh_from_db()
    assert study.status == CaseStudyStatus.IN_REVIEW
    response = client.post(
        f"/reports/casebook/{study.pk}/approve/", {"version": study.version, "comment": "好"}, follow=True
    )
    study.refresh_from_db()
    assert study.status == CaseStudyStatus.PUBLISHED
    assert "卫生间渗漏当天修复" in client.get("/reports/casebook/").content.decode()
    # Approving again is refused with the reason on the page.
    html = client.post(
        f"/reports/casebook/{study.pk}/approve/", {"version": study.version, "comment": ""}, follow=True
    ).content.decode()
    assert str(CaseStudyStatus.PUBLISHED.label) in html


def test_the_collection_filters_by_project_type_category_year_and_words(client, people):
    w = people
    leak = published(w)
    noise_case = record(
        w.manager, w.sister_project, category=category("公共秩序", "噪音"), description="夜间施工噪音扰民"
    )
    close(w.manager, noise_case)
    noise_case.refresh_from_db()
    noise = published(w, noise_case, author=w.manager, reviewer=w.admin)
    CaseStudy.objects.filter(pk=noise.pk).update(occurred_on=noise.occurred_on.replace(year=2024))
    client.force_login(w.manager)

    def listed(query):
        html = client.get(f"/reports/casebook/?{query}").content.decode()
        return {pk for pk in (leak.pk, noise.pk) if f'data-study="{pk}"' in html}

    assert listed("") == {leak.pk, noise.pk}
    assert listed(f"project={w.sister_project.pk}") == {noise.pk}
    assert listed("case_type=repair") == {leak.pk}
    assert listed(f"category={category('工程质量').pk}") == {leak.pk}  # subcategories count
    assert listed("year=2024") == {noise.pk}
    assert listed("q=噪音") == {noise.pk}
    assert listed("q=卫生间 漏水") == {leak.pk}
    assert client.get("/reports/casebook/?project=abc").status_code == 404


# ------------------------------------------------------------------------------------------------ the booklet


def pdf_text(data: bytes) -> str:
    """The text of a PDF: pypdf when installed, else poppler's pdftotext, else the outline's titles."""
    try:
        from io import BytesIO

        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    except ImportError:
        pass
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    # WeasyPrint writes the headings into the outline as UTF-16 strings, inside compressed object
    # streams: the chapter titles at least can be read from there.
    streams = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            streams.append(zlib.decompress(raw))
        except zlib.error:
            continue
    titles = re.findall(rb"/Title\s*<([0-9a-fA-F]+)>", b"\n".join(streams))
    return "\n".join(bytes.fromhex(t.decode()).decode("utf-16") for t in titles)


def test_the_outline_fallback_reads_the_titles(people, monkeypatch):
    """The last way `pdf_text` reads a booklet works too (machines without pypdf and poppler)."""
    w = people
    study = published(w)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "pypdf", None)
    booklet = casebook.build_booklet([study], scope_name="绿色家园", filters=[], year=None)
    from guanjia.reports.pdf import render_booklet_pdf

    assert study.title in pdf_text(render_booklet_pdf(booklet))


@override_settings(LANGUAGE_CODE="zh-hans")
def test_the_booklet_holds_the_filtered_published_studies(client, people):
    w = people
    leak = published(w)
    draft_case = record(w.specialist, w.project, category=category("公共秩序", "噪音"), description="楼上噪音")
    close(w.specialist, draft_case)
    draft_case.refresh_from_db()
    draft = written(w, draft_case)
    casebook.do_update_case_study(w.specialist, draft, expected_version=draft.version, title="草稿中的噪音案例")
    client.force_login(w.manager)
    response = client.get("/reports/casebook/booklet.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert leak.title in text
    assert "草稿中的噪音案例" not in text  # drafts are not in the collection
    assert "李娜" not in text
    filtered = pdf_text(client.get("/reports/casebook/booklet.pdf?case_type=complaint").content)
    assert leak.title not in filtered


def test_a_booklet_too_large_is_refused_and_the_menu_links_the_collection(client, people, monkeypatch):
    w = people
    published(w)
    monkeypatch.setattr("guanjia.reports.views.BOOKLET_MAX", 0)
    client.force_login(w.manager)
    response = client.get("/reports/casebook/booklet.pdf?case_type=repair")
    assert response.status_code == 302 and response.url == "/reports/casebook/?case_type=repair"
    html = client.get(response.url).content.decode()
    assert 'href="/reports/casebook/"' in html  # the navigation's "Case collection"
