"""Named people of a small county, one per role, plus "a handler of another department" who must see nothing of education's."""

import pytest

from accounts import roles
from accounts.models import ReviewLevel
from tests.factories import PASSWORD, DepartmentFactory, UserFactory


@pytest.fixture
def county(db):
    county = DepartmentFactory(code="county", name="示范县人民政府")
    return {
        "county": county,
        "office": DepartmentFactory(code="office", name="县政府办公室", parent=county),
        "education": (education := DepartmentFactory(code="education", name="县教育局", parent=county)),
        "education_school": DepartmentFactory(code="edu-school", name="基础教育股", parent=education),
        "police": DepartmentFactory(code="police", name="县公安局", parent=county),
    }


@pytest.fixture
def administrator(county):
    return UserFactory(username="admin1", real_name="冯管理", department=county["office"], role=roles.ADMINISTRATOR)


@pytest.fixture
def editor(county):
    return UserFactory(username="editor1", real_name="王编辑", department=county["office"], role=roles.EDITOR)


@pytest.fixture
def reviewer(county):
    return UserFactory(
        username="reviewer1",
        real_name="李初审",
        department=county["office"],
        role=roles.REVIEWER,
        review_level=ReviewLevel.FIRST,
    )


@pytest.fixture
def disclosure_officer(county):
    return UserFactory(username="discloser1", department=county["office"], role=roles.DISCLOSURE_OFFICER)


@pytest.fixture
def registrar(county):
    return UserFactory(username="registrar1", department=county["office"], role=roles.COMPLAINT_REGISTRAR)


@pytest.fixture
def handler(county):
    """Alice: handles cases for the education bureau."""
    return UserFactory(
        username="alice", real_name="吴办理", department=county["education"], role=roles.DEPARTMENT_HANDLER
    )


@pytest.fixture
def teacher_clerk(county):
    """Bob: works in a sub-office of education, so Alice sees him."""
    return UserFactory(username="bob", real_name="陈老师", department=county["education_school"], role=roles.EDITOR)


@pytest.fixture
def other_handler(county):
    """Charlie: a handler of another department (police); Alice must see nothing of his."""
    return UserFactory(
        username="charlie", real_name="郑办理", department=county["police"], role=roles.DEPARTMENT_HANDLER
    )


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture(autouse=True)
def chinese():
    """The product speaks one language; code outside a request (validators, services) must too."""
    from django.utils import translation

    with translation.override("zh-hans"):
        yield
