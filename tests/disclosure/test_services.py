from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from accounts.models import AuditLog
from disclosure import actions, services
from disclosure.models import BatchState, Disbursement, DisclosureBatch, RecordType
from disclosure.selectors import public_records
from tests.disclosure.conftest import ID_NUMBERS

pytestmark = pytest.mark.django_db


def public_names():
    return sorted(public_records(Disbursement, RecordType.DISBURSEMENT).values_list("recipient_name", flat=True))


def test_a_batch_becomes_public_only_when_published(make_batch, add_disbursement, officer, batch_reviewer):
    batch = make_batch()
    add_disbursement(batch, name="张三")
    assert public_names() == []
    services.batch_submit(actor=officer, batch=batch)
    assert public_names() == []
    services.batch_publish(actor=batch_reviewer, batch=batch)
    assert public_names() == ["张三"]
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"disclosure.batch_create", "disclosure.batch_submit", "disclosure.batch_publish"} <= actions


def test_the_author_cannot_publish_their_own_batch(make_batch, add_disbursement, officer, county):
    from django.contrib.auth.models import Group

    from accounts import roles
    from tests.factories import UserFactory

    batch = make_batch()
    add_disbursement(batch)
    services.batch_submit(actor=officer, batch=batch)
    # Even with the review permission, the author is not the second pair of eyes.
    officer.groups.add(Group.objects.get(name=roles.REVIEWER))
    officer = type(officer).objects.get(pk=officer.pk)  # fresh permission cache
    assert officer.has_perm("disclosure.review_disclosurebatch")
    with pytest.raises(PermissionDenied, match="创建人以外"):
        services.batch_publish(actor=officer, batch=batch)
    reviewer = UserFactory(username="r2", department=county["office"], role=roles.REVIEWER)
    services.batch_publish(actor=reviewer, batch=batch)


def test_an_empty_batch_cannot_be_submitted(make_batch, officer):
    with pytest.raises(ValidationError, match="还没有任何记录"):
        services.batch_submit(actor=officer, batch=make_batch())


def test_a_published_batch_cannot_be_published_again_or_edited(published_batch, batch_reviewer, officer):
    with pytest.raises(ValidationError):
        services.batch_publish(actor=batch_reviewer, batch=published_batch)
    with pytest.raises(ValidationError, match="更正批次"):
        actions.EDIT.require(officer, published_batch)


def test_withdrawal_needs_a_reason_and_takes_every_row_off(published_batch, officer):
    with pytest.raises(ValidationError):
        services.batch_withdraw(actor=officer, batch=published_batch, reason="  ")
    assert len(public_names()) == 3
    services.batch_withdraw(actor=officer, batch=published_batch, reason="金额核对有误")
    published_batch.refresh_from_db()
    assert published_batch.state == BatchState.WITHDRAWN
    assert published_batch.withdraw_reason == "金额核对有误"
    assert public_names() == []


def test_a_correction_replaces_the_rows_it_names_when_published(
    published_batch, make_batch, add_disbursement, officer, batch_reviewer
):
    wrong = Disbursement.objects.get(batch=published_batch, recipient_name="张三")
    correction = make_batch(title="更正：第一批", corrects=published_batch)
    fixed = add_disbursement(correction, name="张三", amount="620.00", supersedes_id=wrong.pk)
    services.batch_submit(actor=officer, batch=correction)
    assert Disbursement.objects.get(pk=wrong.pk).superseded_at is None  # not before publication
    services.batch_publish(actor=batch_reviewer, batch=correction)
    current = public_records(Disbursement, RecordType.DISBURSEMENT).filter(recipient_name="张三")
    assert [(row.pk, row.amount) for row in current] == [(fixed.pk, Decimal("620.00"))]
    assert current[0].corrected_at is not None
    assert Disbursement.objects.get(pk=wrong.pk).superseded_at is not None  # kept, not deleted
    assert len(public_names()) == 3


def test_only_a_published_batch_of_the_same_type_can_be_corrected(make_batch, published_batch):
    with pytest.raises(ValidationError):
        make_batch(corrects=make_batch(title="草稿"))
    with pytest.raises(ValidationError):
        make_batch(record_type=RecordType.PROJECT, corrects=published_batch)


def test_officers_of_another_department_cannot_touch_the_batch(published_batch, other_officer, make_batch, county):
    with pytest.raises(PermissionDenied):
        services.batch_withdraw(actor=other_officer, batch=published_batch, reason="不是我的")
    with pytest.raises(PermissionDenied):
        make_batch(actor=other_officer)  # the county office is not theirs


def test_the_identity_number_is_stored_encrypted_and_found_by_its_hash(make_batch, add_disbursement):
    record = add_disbursement(make_batch(), id_number=ID_NUMBERS[1])
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM disclosure_disbursement WHERE id = %s", [record.pk])
        stored = cursor.fetchone()[0]
    assert ID_NUMBERS[1] not in stored
    assert record.id_masked == "1101**********002X"
    assert Disbursement.objects.get(id_hash=services.identity_hash(ID_NUMBERS[1].lower())).pk == record.pk
    tail = services.name_tail_hash("张三", ID_NUMBERS[1][-6:])
    assert Disbursement.objects.get(name_tail_hash=tail).pk == record.pk


def test_discarding_a_draft_removes_its_rows_but_a_published_batch_cannot_be_discarded(
    make_batch, add_disbursement, officer, published_batch
):
    draft = make_batch()
    add_disbursement(draft)
    services.batch_delete(actor=officer, batch=draft)
    assert not Disbursement.objects.filter(batch_id=draft.pk).exists()
    with pytest.raises(ValidationError):
        services.batch_delete(actor=officer, batch=published_batch)


def test_discarding_a_failed_import_removes_its_uploaded_file_and_report(
    make_batch, officer, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.DISCLOSURE_PRIVATE_DIR = tmp_path
    batch = make_batch()
    files = {"upload": "disclosure/uploads/batch-x.csv", "error_report": "disclosure/reports/batch-x.xlsx"}
    for name in files.values():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("420981199001011235")
    DisclosureBatch.objects.filter(pk=batch.pk).update(state=BatchState.IMPORT_FAILED, **files)
    batch.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.batch_delete(actor=officer, batch=batch)
    assert not any((tmp_path / name).exists() for name in files.values())
