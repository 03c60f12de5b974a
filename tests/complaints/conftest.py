"""Cases and the people who handle them: Alice (education handler), Dora (education office head, reviews
Alice's replies), Charlie (police handler, must see nothing of education's) and the registrar."""

import pytest

from accounts import roles
from complaints.models import CaseKind
from complaints.services import case_create, case_route
from tests.factories import UserFactory


@pytest.fixture
def head(county):
    """Dora: the education bureau's office head, who approves its replies and extensions."""
    return UserFactory(
        username="dora", real_name="周主任", department=county["education"], role=roles.COMPLAINT_REVIEWER
    )


@pytest.fixture
def other_head(county):
    return UserFactory(username="erin", real_name="孙主任", department=county["police"], role=roles.COMPLAINT_REVIEWER)


@pytest.fixture
def make_case(db):
    """A citizen's message from the web form; returns (case, query_code)."""

    def _make(kind=CaseKind.COMPLAINT, subject="学校食堂收费问题", content="孩子学校食堂每月多收伙食费。", **fields):
        values = {"name": "张三丰", "phone": "13812345678", "allow_publish": True, **fields}
        return case_create(kind=kind, subject=subject, content=content, **values)

    return _make


@pytest.fixture
def routed_case(make_case, registrar, county):
    """A complaint routed to the education bureau; returns (case, query_code)."""

    def _routed(department="education", **fields):
        case, code = make_case(**fields)
        case = case_route(actor=registrar, case=case, department=county[department])
        return case, code

    return _routed
