import pytest
from django.urls import reverse

from disclosure.models import BatchState, Disbursement, DisclosureBatch, PublicFields, RecordType
from govcms.paginators import EstimatedCountPaginator
from tests.disclosure.conftest import ID_NUMBERS

pytestmark = pytest.mark.django_db


def workflow(batch, action):
    return reverse("admin:disclosure_disclosurebatch_workflow", args=[batch.pk, action])


def test_an_officer_creates_a_batch_in_the_admin_and_a_reviewer_publishes_it(
    client, officer, batch_reviewer, county, add_disbursement
):
    client.force_login(officer)
    response = client.post(
        reverse("admin:disclosure_disclosurebatch_add"),
        {"title": "2026年耕地地力保护补贴", "record_type": RecordType.DISBURSEMENT, "department": county["office"].pk,
         "year": 2026, "note": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = DisclosureBatch.objects.get(title="2026年耕地地力保护补贴")
    assert (batch.state, batch.created_by) == (BatchState.DRAFT, officer)
    add_disbursement(batch)
    page = client.get(reverse("admin:disclosure_disclosurebatch_change", args=[batch.pk])).content.decode()
    assert "提交审核" in page
    client.post(workflow(batch, "submit"))
    client.force_login(batch_reviewer)
    page = client.get(reverse("admin:disclosure_disclosurebatch_change", args=[batch.pk])).content.decode()
    assert "发布" in page
    client.post(workflow(batch, "publish"), {"confirmed": "1"})  # from the confirmation page
    batch.refresh_from_db()
    assert batch.state == BatchState.PUBLISHED and batch.reviewed_by == batch_reviewer


def test_sending_back_asks_for_a_comment_and_keeps_it(client, officer, batch_reviewer, make_batch, add_disbursement):
    from disclosure import services

    batch = make_batch()
    add_disbursement(batch)
    services.batch_submit(actor=officer, batch=batch)
    client.force_login(batch_reviewer)
    assert client.get(workflow(batch, "reject")).status_code == 200
    page = client.post(workflow(batch, "reject"), {"reason": ""}).content.decode()
    assert "这个字段是必填项" in page
    client.post(workflow(batch, "reject"), {"reason": "村名有误"})
    batch.refresh_from_db()
    assert (batch.state, batch.review_comment) == (BatchState.REJECTED, "村名有误")


def test_a_batch_is_edited_through_edit_while_a_draft_and_not_once_submitted(
    client, officer, county, make_batch, add_disbursement
):
    from accounts.models import AuditLog
    from disclosure import services

    batch = make_batch()
    change = reverse("admin:disclosure_disclosurebatch_change", args=[batch.pk])
    data = {"title": "2026年第二批低保资金发放", "department": county["office"].pk, "year": 2026, "note": "补发"}
    client.force_login(officer)
    assert client.post(change, data).status_code == 302
    batch.refresh_from_db()
    assert (batch.title, batch.note) == ("2026年第二批低保资金发放", "补发")
    entry = AuditLog.objects.get(action="disclosure.batch_change")
    assert entry.detail["changes"]["title"] == {"old": "2026年第一批低保资金发放", "new": "2026年第二批低保资金发放"}
    add_disbursement(batch)
    services.batch_submit(actor=officer, batch=batch)
    client.post(change, {**data, "title": "提交后改名"})
    batch.refresh_from_db()
    assert batch.title == "2026年第二批低保资金发放"
    assert AuditLog.objects.filter(action="disclosure.batch_change").count() == 1


def test_another_departments_officer_sees_nothing_of_the_batch(client, other_officer, published_batch):
    client.force_login(other_officer)
    assert client.get(reverse("admin:disclosure_disclosurebatch_change", args=[published_batch.pk])).status_code == 403
    assert client.post(workflow(published_batch, "withdraw"), {"reason": "x"}).status_code == 403
    listing = client.get(reverse("admin:disclosure_disbursement_changelist")).content.decode()
    assert "张三" not in listing and "0 个" in listing
    record = Disbursement.objects.filter(batch=published_batch).first()
    assert client.get(reverse("admin:disclosure_disbursement_change", args=[record.pk])).status_code == 403


def test_the_disbursement_list_searches_names_places_and_identity_numbers(client, officer, published_batch):
    client.force_login(officer)
    url = reverse("admin:disclosure_disbursement_changelist")

    def names(query):
        response = client.get(url, {"q": query})
        return sorted(row.recipient_name for row in response.context["cl"].result_list)

    assert names("张三") == ["张三"]
    assert names("阳娜") == ["欧阳娜娜"]
    assert names("河口村") == ["李四娃"]
    assert names(ID_NUMBERS[2]) == ["欧阳娜娜"]
    assert names("王五") == []
    page = client.get(url).content.decode()
    assert ID_NUMBERS[0] not in page and "4209**********1235" in page
    assert isinstance(client.get(url).context["cl"].paginator, EstimatedCountPaginator)


def test_published_records_are_read_only_and_draft_records_need_a_valid_identity_number(
    client, officer, published_batch, make_batch, program
):
    client.force_login(officer)
    record = Disbursement.objects.filter(batch=published_batch).first()
    response = client.post(
        reverse("admin:disclosure_disbursement_change", args=[record.pk]), {"recipient_name": "改名"}
    )
    assert response.status_code == 403
    draft = make_batch()
    data = {"batch": draft.pk, "program": program.pk, "recipient_name": "王五", "id_number": "420981199001011234",
            "township": "城关镇", "village": "石桥村", "household_size": 2, "amount": "300.00",
            "paid_on": "2026-04-01", "paying_department": "县民政局"}  # fmt: skip
    page = client.post(reverse("admin:disclosure_disbursement_add"), data).content.decode()
    assert "不是有效的18位身份证号码" in page
    data["id_number"] = "420981199001011235"
    assert client.post(reverse("admin:disclosure_disbursement_add"), data).status_code == 302
    created = Disbursement.objects.get(recipient_name="王五")
    assert created.id_masked == "4209**********1235" and created.name_bigrams == ["王五"]


def test_identity_numbers_cannot_be_made_public(client, administrator):
    client.force_login(administrator)
    page = client.get(reverse("admin:disclosure_publicfields_add") + "?record_type=disbursement").content.decode()
    assert 'value="id_masked"' in page and 'value="id_number"' not in page
    response = client.post(
        reverse("admin:disclosure_publicfields_add"),
        {"record_type": RecordType.DISBURSEMENT, "fields": ["recipient_name", "id_number"]},
    )
    assert response.status_code == 200  # refused: not a choice
    assert not PublicFields.objects.exists()


def test_the_dashboard_shows_batches_waiting_for_the_reviewer(
    client, officer, batch_reviewer, make_batch, add_disbursement
):
    from disclosure import services

    batch = make_batch(title="待审的低保批次")
    add_disbursement(batch)
    services.batch_submit(actor=officer, batch=batch)
    client.force_login(batch_reviewer)
    assert "待审的低保批次" in client.get(reverse("admin:index")).content.decode()
    client.force_login(officer)  # the author is not asked to review their own batch
    page = client.get(reverse("admin:index")).content.decode()
    assert "待审的低保批次" not in page and "公开批次" in page


def test_the_import_pages_are_reachable_from_the_real_admin(client, officer, other_officer, make_batch):
    client.force_login(officer)
    batches = client.get(reverse("admin:disclosure_disclosurebatch_changelist")).content.decode()
    assert reverse("admin:disclosure_disclosurebatch_large_import") in batches
    assert client.get(reverse("admin:disclosure_disclosurebatch_large_import")).status_code == 200
    records = client.get(reverse("admin:disclosure_disbursement_changelist")).content.decode()
    assert reverse("admin:disclosure_disbursement_import") in records
    assert reverse("admin:disclosure_disbursement_export", args=["csv"]) in records
    assert client.get(reverse("admin:disclosure_disbursement_import")).status_code == 200
    batch = make_batch()
    client.force_login(other_officer)
    assert client.get(reverse("admin:disclosure_disclosurebatch_import_progress", args=[batch.pk])).status_code == 403
