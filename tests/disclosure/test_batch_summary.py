"""The batch page's summary: rows and money per programme and per township, exact to the fen, before publishing."""

from decimal import Decimal

import pytest
from django.urls import reverse

from disclosure import services
from disclosure.models import DisclosureBatch, FundProgram
from disclosure.selectors import SummaryLine, batch_summary
from tests.disclosure.conftest import ID_NUMBERS

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(make_batch, add_disbursement, officer, program, county):
    farming = FundProgram.objects.create(
        name="耕地地力保护补贴", department=county["office"], year=2026, total_amount=Decimal("500000.00")
    )
    batch = make_batch()
    add_disbursement(batch, name="张三", id_number=ID_NUMBERS[0], township="城关镇", amount="520.10")
    add_disbursement(batch, name="李四", id_number=ID_NUMBERS[1], township="城关镇", amount="0.20")
    add_disbursement(batch, name="王五", id_number=ID_NUMBERS[2], township="石桥镇", amount="1300.05", program=farming)
    add_disbursement(batch, name="赵六", id_number=ID_NUMBERS[3], township="石桥镇", amount="99.99")
    other = make_batch(title="另一批")  # its rows are not this batch's
    add_disbursement(other, name="孙七", id_number=ID_NUMBERS[0], township="城关镇", amount="7.00")
    return services.batch_submit(actor=officer, batch=DisclosureBatch.objects.get(pk=batch.pk))


def test_the_summary_sums_exactly_per_programme_and_township(submitted, django_assert_num_queries):
    with django_assert_num_queries(3):  # per programme, the programmes' names, per township
        summary = batch_summary(submitted)
    assert (summary.rows, summary.total) == (4, Decimal("1920.34"))
    assert summary.by_program == [
        SummaryLine("城乡居民最低生活保障资金", 3, Decimal("620.29")),
        SummaryLine("耕地地力保护补贴", 1, Decimal("1300.05")),
    ]
    assert summary.by_township == [
        SummaryLine("城关镇", 2, Decimal("520.30")),
        SummaryLine("石桥镇", 2, Decimal("1400.04")),
    ]


def test_the_reviewer_reads_the_summary_beside_the_publish_button(submitted, batch_reviewer, client):
    client.force_login(batch_reviewer)
    page = client.get(reverse("admin:disclosure_disclosurebatch_change", args=[submitted.pk])).content.decode()
    summary = page.split('id="summary-heading"')[1]
    assert "共4行，合计1920.34元。" in summary
    for name, rows, total in (("城乡居民最低生活保障资金", 3, "620.29"), ("耕地地力保护补贴", 1, "1300.05"),
                              ("城关镇", 2, "520.30"), ("石桥镇", 2, "1400.04")):  # fmt: skip
        assert f'<th scope="row">{name}</th><td class="num">{rows}</td><td class="num">{total}</td>' in summary
    publish = reverse("admin:disclosure_disclosurebatch_workflow", args=[submitted.pk, "publish"])
    assert publish in summary  # the button comes after the summary it is decided on


def test_the_summary_names_the_rows_the_import_rejected(submitted, batch_reviewer, client):
    DisclosureBatch.objects.filter(pk=submitted.pk).update(rows_read=6, rows_valid=4, rows_rejected=2)
    client.force_login(batch_reviewer)
    page = client.get(reverse("admin:disclosure_disclosurebatch_change", args=[submitted.pk])).content.decode()
    assert "导入时读取6行，拒绝2行。" in page.split('id="summary-heading"')[1]
