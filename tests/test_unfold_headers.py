"""Admin lists build their column headings once per page (govcms.apps.headers_once_per_list), not once per row."""

import pytest
from unfold.templatetags import unfold_list

from accounts.models import User
from complaints.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_data")]


def test_a_list_builds_each_heading_once_and_shows_it_on_every_row(login, monkeypatch):
    labels = []
    real = unfold_list.label_for_field

    def label_for_field(name, *args, **kwargs):
        labels.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(unfold_list, "label_for_field", label_for_field)
    client = login(User.objects.get(username="admin"))
    response = client.get("/admin/complaints/case/")
    assert response.status_code == 200
    rows = len(response.context["cl"].result_list)
    columns = len(response.context["cl"].list_display)
    assert rows >= 10
    assert len(labels) == columns  # once for the page, where unfold alone built them for each row again
    page = response.content.decode()
    heading = str(response.context["result_headers"][2]["text"])
    assert page.count(heading) >= rows  # each row's cell still carries its heading (the phone's card view)
    assert Case.objects.count() >= rows
