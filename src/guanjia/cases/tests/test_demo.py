from guanjia.cases.demo import load_demo_cases
from guanjia.cases.models import Case
from guanjia.org.choices import Role, ScopeLevel
from guanjia.testing import make_staff


def test_demo_requests_go_through_the_services_into_every_stage(world):
    make_staff("eng", Role.HANDLER, ScopeLevel.COMPANY, company=world.company, department=world.dept)
    assert load_demo_cases(seed=7, per_project=2) == 2  # 绿色家园 has two owners in the test world
    for case in Case.objects.all():
        assert case.events.filter(kind="recorded").exists()
        assert case.response_due and case.owner == world.specialist
    # The same seed gives the same requests.
    first = list(Case.objects.order_by("id").values_list("description", "status"))
    Case.objects.all().delete()
    load_demo_cases(seed=7, per_project=2)
    assert list(Case.objects.order_by("id").values_list("description", "status")) == first
