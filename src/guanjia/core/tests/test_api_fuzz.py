"""Fuzzing the REST API from its own OpenAPI document (schemathesis).

Every operation of /api/v1/openapi.json gets a bounded number of generated requests, valid and
invalid, sent as a group administrator with a bearer token. Each response must:

- never be a server error;
- have a status code, a content type, headers and a body that the document declares for it;
- reject input that breaks the schema (a 4xx, not a silent 200);
- and the API must refuse the same request without credentials, a method the operation does
  not have (405 with `Allow`) and a missing required header.

The generator knows nothing of the rows in the database, so most ids it picks would only ever
meet a 404. Before each request, ids in the path, the query and the body are therefore pointed
at real rows most of the time (derived from the generated number, so a run is repeatable),
which lets updates and transitions reach their services with fuzzed bodies.

Hypothesis runs derandomized with a small example budget per operation, so the file takes
about a minute on two cores, on SQLite and PostgreSQL alike. To search harder, set
GUANJIA_FUZZ_EXAMPLES (examples per operation) and GUANJIA_FUZZ_RANDOM=1 (a new seed each run).
"""

import os
from types import SimpleNamespace

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from guanjia.cases import services as case_services
from guanjia.cases.choices import CaseType, Channel
from guanjia.cases.models import Case, CaseTask, Category, FollowUp
from guanjia.core.models import ApiToken
from guanjia.estate.models import Building, Entrance, Party, Unit
from guanjia.org.choices import DepartmentKind, Role, ScopeLevel
from guanjia.org.models import Area, Company, Department, Project, Staff
from guanjia.telephony.models import Call, HotlineLine
from guanjia.telephony.services import do_record_call_event
from guanjia.testing import make_staff
from guanjia.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

# Not `positive_data_acceptance`: a schema-valid body may still name a project that does not
# exist or a transition the status does not allow, and the API rightly answers 404/409/422.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    ignored_auth,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
]

# Which rows a parameter or body field of that name refers to.
REFERENCES = {
    "company": Company,
    "project": Project,
    "project_id": Project,
    "area": Area,
    "building": Building,
    "building_id": Building,
    "entrance": Entrance,
    "unit": Unit,
    "unit_id": Unit,
    "units": Unit,
    "party": Party,
    "party_id": Party,
    "case_id": Case,
    "into": Case,
    "task_id": CaseTask,
    "follow_up_id": FollowUp,
    "call_id": Call,
    "category": Category,
    "department": Department,
    "assignee": Staff,
    "owner": Staff,
    "new_owner": Staff,
    "agent": Staff,
}


@pytest.fixture
def rows(world):
    """The test world plus requests in several states, tasks, follow-ups and a call; the ids of every kind."""
    w = world
    dept = Department.objects.create(company=w.company, kind=DepartmentKind.PROPERTY, name="物业公司")
    make_staff("handler", Role.HANDLER, ScopeLevel.PROJECT, project=w.project, department=dept)
    first = _record(w, description="卫生间漏水，楼下天花板渗水")
    case_services.do_split_case(
        w.admin, first, expected_version=first.version, parts=[{"title": "查漏", "department": dept}]
    )
    closed = _record(w, description="电梯异响")
    case_services.do_close_case(w.admin, closed, expected_version=closed.version)
    _record(w, description="物业费咨询")
    HotlineLine.objects.create(number="01062345678", name="绿色家园服务中心", company=w.company, project=w.project)
    do_record_call_event(w.admin, call_id="c-1", event="ringing", caller="13812345678", callee="01062345678")
    return SimpleNamespace(
        world=w,
        ids={
            model: list(model.objects.order_by("pk").values_list("pk", flat=True)) for model in set(REFERENCES.values())
        },
    )


def _record(w, *, description: str) -> Case:
    return case_services.do_record_case(
        w.admin,
        project=w.project,
        case_type=CaseType.REPAIR,
        channel=Channel.HOTLINE,
        description=description,
        units=[w.unit_a],
        party=w.owner_a,
    )


@pytest.fixture
def wsgi_in_test_transaction():
    """Requests go through the real WSGI handler, which would close the database connection after
    each one, and with it the test's transaction on PostgreSQL; Django's test client skips that too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(rows, wsgi_in_test_transaction):
    _, raw = ApiToken.issue(rows.world.admin, "fuzz")
    return raw


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("GUANJIA_FUZZ_EXAMPLES", "20")),
    derandomize=not os.environ.get("GUANJIA_FUZZ_RANDOM"),
    # No example database: a run replays nothing found by an earlier one, so every run is the same.
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_generated_request_as_documented(case, rows, token):
    _aim_at_rows(case, rows.ids)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def _aim_at_rows(case, ids) -> None:
    for name, value in list((case.path_parameters or {}).items()):
        case.path_parameters[name] = _aim(name, value, ids)
    for name, value in list((case.query or {}).items()):
        case.query[name] = _aim(name, value, ids)
    if isinstance(case.body, dict):
        _aim_body(case.body, ids)


def _aim_body(body: dict, ids) -> None:
    for name, value in list(body.items()):
        if isinstance(value, list):
            body[name] = [_aim_body(v, ids) or v if isinstance(v, dict) else _aim(name, v, ids) for v in value]
        else:
            body[name] = _aim(name, value, ids)
        if name == "version" and isinstance(value, int) and not isinstance(value, bool) and value % 4 != 3:
            body[name] = 1 + value % 3


def _aim(name: str, value, ids):
    """A generated id becomes an existing one three times out of four; the rest stay as generated."""
    model = REFERENCES.get(name)
    if model is None or isinstance(value, bool) or not isinstance(value, int) or value % 4 == 3:
        return value
    existing = ids[model]
    return existing[value % len(existing)] if existing else value
