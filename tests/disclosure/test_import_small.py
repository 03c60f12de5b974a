"""The admin's import of small disbursement files (django-import-export + disclosure.rows): dry-run
preview with Chinese row errors, confirmation, the chosen draft batch, the same checks as the large import."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from openpyxl import Workbook

from accounts.models import AuditLog
from disclosure import services
from disclosure.models import BatchState, Disbursement, DisclosureBatch
from disclosure.resources import SMALL_IMPORT_MAX_ROWS
from disclosure.rows import HEADERS
from tests.disclosure.conftest import ID_NUMBERS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.disclosure.import_admin")]

IMPORT_URL = "/admin/disclosure/disbursement/import/"
CONFIRM_URL = "/admin/disclosure/disbursement/process_import/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"
PROGRAMME = "城乡居民最低生活保障资金"


def row(name="张三", id_number=ID_NUMBERS[0], amount="520.00", paid_on="2026-03-15", village="石桥村"):
    return [PROGRAMME, name, id_number, "城关镇", village, "3", amount, paid_on, "县民政局"]


def csv_file(rows, header=HEADERS, encoding="utf-8-sig", name="发放名单.csv"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(encoding), content_type="text/csv")


def xlsx_file(rows, header=HEADERS):
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile("发放名单.xlsx", out.getvalue())


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.DISCLOSURE_PRIVATE_DIR = tmp_path / "private"
    return settings.DISCLOSURE_PRIVATE_DIR


def waiting_files(private_dir) -> list[str]:
    folder = private_dir / "disclosure" / "import-preview"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def batch(make_batch, program):
    return make_batch()


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def preview(client, batch, upload, fmt=CSV_FORMAT):
    return client.post(IMPORT_URL, {"batch": batch.pk, "import_file": upload, "format": fmt, "resource": "0"})


def confirm(client, response):
    form = response.context["confirm_form"]
    return client.post(CONFIRM_URL, {name: form.initial.get(name, "") for name in form.fields})


def test_preview_then_confirm_imports_the_rows_into_the_chosen_batch(officer_client, batch, officer):
    page = preview(officer_client, batch, csv_file([row(), row("欧阳娜娜", ID_NUMBERS[2], "1200.50")]))
    assert page.status_code == 200
    html = page.content.decode()
    assert page.context["confirm_form"] is not None
    assert "欧阳娜娜" in html and "4405**********0014" in html
    assert ID_NUMBERS[2] not in html  # the preview masks identity numbers
    assert not Disbursement.objects.exists()  # a dry run only

    done = confirm(officer_client, page)
    assert done.status_code == 302
    assert done["Location"].endswith(f"?batch__id__exact={batch.pk}")
    records = list(Disbursement.objects.filter(batch=batch).order_by("row_number"))
    assert [(r.recipient_name, r.row_number, str(r.amount)) for r in records] == [
        ("张三", 2, "520.00"), ("欧阳娜娜", 3, "1200.50"),
    ]  # fmt: skip
    expected = services.prepare_disbursement(Disbursement(recipient_name="张三", id_number=ID_NUMBERS[0]))
    assert (records[0].id_hash, records[0].name_tail_hash, records[0].id_masked, records[0].name_bigrams) == (
        expected.id_hash, expected.name_tail_hash, expected.id_masked, expected.name_bigrams,
    )  # fmt: skip
    assert records[0].id_number == ID_NUMBERS[0]  # decrypted by the field
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM disclosure_disbursement WHERE batch_id = %s", [batch.pk])
        stored = [value for (value,) in cursor.fetchall()]
    assert all(number not in value for value in stored for number in ID_NUMBERS)
    entry = AuditLog.objects.get(action="disclosure.batch_import")
    assert entry.actor == officer and entry.detail["valid"] == 2


def test_bad_rows_are_listed_in_chinese_and_nothing_can_be_confirmed(officer_client, batch):
    bad_check_digit = ID_NUMBERS[0][:17] + "9"
    page = preview(officer_client, batch, csv_file([row(), row("李四", bad_check_digit), row(amount="abc"), row()]))
    html = page.content.decode()
    assert page.context.get("confirm_form") is None
    assert "第3行“身份证号”：校验位错误：最后一位与前17位不符" in html
    assert "第4行“金额（元）”：不是数字" in html
    assert "第5行“身份证号”：与第2行重复（专项资金、身份证号和发放日期都相同）" in html
    assert bad_check_digit not in html and "4209**********1239" in html
    assert not Disbursement.objects.exists()


def test_gb18030_csv_and_xlsx_with_date_cells_are_read(officer_client, batch):
    page = preview(officer_client, batch, csv_file([row("王五")], encoding="gb18030"))
    assert page.context["confirm_form"] is not None and "王五" in page.content.decode()

    import datetime

    values = row("赵六", ID_NUMBERS[1])
    values[7] = datetime.datetime(2026, 4, 1)
    page = preview(officer_client, batch, xlsx_file([values, [None] * 9]), fmt=XLSX_FORMAT)
    assert page.context["confirm_form"] is not None
    confirm(officer_client, page)
    record = Disbursement.objects.get(batch=batch)
    assert (record.recipient_name, record.paid_on) == ("赵六", datetime.date(2026, 4, 1))


def test_wrong_headers_are_explained_on_the_form(officer_client, batch):
    header = ["专项资金", "名字", *HEADERS[2:]]
    page = preview(officer_client, batch, csv_file([row()], header=header))
    assert "第2列是“名字”，应为“姓名”。" in page.content.decode()
    assert page.context.get("confirm_form") is None


def test_a_file_too_big_for_the_preview_is_sent_to_the_large_import(officer_client, batch):
    rows = [row(id_number=ID_NUMBERS[0], paid_on=f"2026-01-{1 + n % 28:02d}") for n in range(SMALL_IMPORT_MAX_ROWS + 1)]
    page = preview(officer_client, batch, csv_file(rows))
    assert f"文件超过{SMALL_IMPORT_MAX_ROWS}行，请改用大文件导入。" in page.content.decode()


def test_only_draft_batches_of_the_officers_departments_can_be_chosen(
    officer_client, batch, published_batch, make_batch, other_officer, county
):
    police_batch = make_batch(actor=other_officer, department=county["police"], title="公安局批次")
    form = officer_client.get(IMPORT_URL).context["form"]
    assert list(form.fields["batch"].queryset) == [batch]
    for other in (published_batch, police_batch):
        page = preview(officer_client, other, csv_file([row("孙七", ID_NUMBERS[3])]))
        assert page.context["form"].errors["batch"]
    assert not Disbursement.objects.filter(recipient_name="孙七").exists()


def test_a_batch_submitted_after_the_preview_gets_no_rows(officer_client, batch, officer, add_disbursement):
    page = preview(officer_client, batch, csv_file([row("孙七", ID_NUMBERS[3])]))
    add_disbursement(batch, name="周八", id_number=ID_NUMBERS[1])
    services.batch_submit(actor=officer, batch=batch)
    confirm(officer_client, page)
    assert not Disbursement.objects.filter(recipient_name="孙七").exists()
    assert DisclosureBatch.objects.get(pk=batch.pk).state == BatchState.SUBMITTED


def test_rows_arriving_while_the_batch_turns_read_only_are_refused(batch, program):
    """The resource re-checks the batch under a row lock, whatever the form said."""
    from disclosure.resources import DisbursementCSV, DisbursementResource

    DisclosureBatch.objects.filter(pk=batch.pk).update(state=BatchState.SUBMITTED)
    dataset = DisbursementCSV().create_dataset(csv_file([row()]).read())
    result = DisbursementResource(batch=batch).import_data(dataset, dry_run=False)
    assert result.has_errors()
    assert "只能向草稿或已退回的资金发放批次导入记录" in str(result.base_errors[0].error)
    assert not Disbursement.objects.exists()


def test_the_file_waits_for_confirmation_in_the_private_directory_only(officer_client, batch, private_dir):
    page = preview(officer_client, batch, csv_file([row()]))
    name = page.context["confirm_form"].initial["import_file_name"]
    assert waiting_files(private_dir) == [name]
    confirm(officer_client, page)
    assert waiting_files(private_dir) == []
    preview(officer_client, batch, csv_file([row(amount="abc")]))  # rejected: nothing to confirm later
    assert waiting_files(private_dir) == []
