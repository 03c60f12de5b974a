import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Department, User
from accounts.scoping import scope_to_department
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def test_handler_gets_403_on_another_departments_user(handler, other_handler, login):
    response = login(handler).get(reverse("admin:accounts_user_change", args=[other_handler.pk]))
    assert response.status_code == 403


def test_handler_lists_only_own_department_and_its_sub_departments(handler, teacher_clerk, other_handler, login):
    page = login(handler).get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "bob" in page
    assert "alice" in page
    assert "charlie" not in page


def test_administrator_sees_every_department(administrator, handler, other_handler, login):
    page = login(administrator).get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "alice" in page and "charlie" in page


def test_user_without_department_sees_nothing(county):
    from tests.factories import UserFactory

    loner = UserFactory(department=None)
    assert not scope_to_department(Department.objects.all(), loner, field=None).exists()


def test_missing_object_is_still_a_normal_not_found(handler, login):
    response = login(handler).get(reverse("admin:accounts_user_change", args=[999999]))
    assert response.status_code == 302  # Django's "object does not exist" redirect, nothing leaked


def test_moving_a_department_moves_its_subtree(county, handler, teacher_clerk, other_handler):
    school = county["education_school"]
    county["education"].parent = county["police"]
    county["education"].save()
    school.refresh_from_db()
    assert school.path.startswith(county["police"].path)
    # Scoping follows the move: police's handler now sees education's people.
    visible = scope_to_department(User.objects.all(), other_handler)
    assert {"alice", "bob", "charlie"} <= set(visible.values_list("username", flat=True))


def test_department_cannot_be_placed_under_its_own_child(county):
    education = county["education"]
    education.parent = county["education_school"]
    with pytest.raises(ValidationError) as excinfo:
        education.full_clean()
    assert "下级" in str(excinfo.value)


def test_new_department_gets_its_path_from_the_parent(county):
    office = DepartmentFactory(code="edu-x", name="办公室", parent=county["education"])
    assert office.path == f"{county['education'].path}{office.pk}/"
    assert office.depth == 2
