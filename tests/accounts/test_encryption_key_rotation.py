"""Rotating FIELD_ENCRYPTION_KEY: values written under key A, FIELD_ENCRYPTION_KEY=[B, A], the command
re-encrypts everything under B, then FIELD_ENCRYPTION_KEY=[B] alone still opens every value, and every
lookup by keyed hash (FIELD_HASH_KEY, untouched by rotation) still finds its row."""

import datetime
import hashlib
import hmac
import io
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts import crypto
from accounts.models import User
from complaints import services as complaints_services
from complaints.models import Case, CaseKind
from disclosure import services as disclosure_services
from disclosure.models import Disbursement, FundProgram, RecordType
from publishing.models import ChannelAccount
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
HASH_KEY = "test-lookup-hash-key-that-never-rotates-0123456789"
PHONE = "13812345678"
ID_NUMBER = "420981199001011235"


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE id = %s', [pk])  # noqa: S608 - test constants
        return cursor.fetchone()[0]


def _opens_with(key: str, token: str) -> bool:
    try:
        Fernet(key.encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


@pytest.fixture
def under_key_a(settings, county, disclosure_officer, make_account):
    """One of each kind of encrypted value, written while FIELD_ENCRYPTION_KEY was A alone."""
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    settings.FIELD_HASH_KEY = HASH_KEY
    staff = UserFactory(username="phone-owner", department=county["office"], phone="13900001111")
    case, code = complaints_services.case_create(
        kind=CaseKind.COMPLAINT, subject="学校食堂收费问题", content="孩子学校食堂每月多收伙食费。",
        name="张三丰", phone=PHONE, id_number=ID_NUMBER,
    )  # fmt: skip
    program = FundProgram.objects.create(
        name="城乡居民最低生活保障资金", department=county["office"], year=2026, total_amount=Decimal("1000000.00")
    )
    batch = disclosure_services.batch_create(
        actor=disclosure_officer, record_type=RecordType.DISBURSEMENT, department=county["office"], year=2026,
        title="2026年第一批低保资金发放",
    )  # fmt: skip
    record = Disbursement(
        batch=batch, program=program, recipient_name="李四娃", id_number=ID_NUMBER, village="石桥村",
        township="城关镇", amount=Decimal("520.00"), paid_on=datetime.date(2026, 3, 15), household_size=3,
        paying_department="县民政局",
    )  # fmt: skip
    disclosure_services.prepare_disbursement(record)
    record.save()
    account = make_account(wechat_app_secret="wechat-secret-under-a")
    rate_key = f"complaint-phone:{complaints_services.phone_hash(PHONE)}"
    return {"staff": staff, "case": case, "code": code, "record": record, "account": account, "rate_key": rate_key}


def test_rotation_keeps_every_value_and_every_lookup(settings, under_key_a):
    data = under_key_a
    tokens = {
        "user": _raw("accounts_user", "phone", data["staff"].pk),
        "case": _raw("complaints_case", "phone", data["case"].pk),
        "record": _raw("disclosure_disbursement", "id_number", data["record"].pk),
        "account": _raw("publishing_channelaccount", "wechat_app_secret", data["account"].pk),
    }
    assert all(_opens_with(KEY_A, token) for token in tokens.values())

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    out = io.StringIO()
    call_command("rotate_encryption_key", batch_size=1, stdout=out)
    progress = out.getvalue()
    assert "accounts.User (phone)" in progress and "complaints.Case (phone, id_number)" in progress
    assert "disclosure.Disbursement (id_number)" in progress and "publishing.ChannelAccount" in progress
    assert "rows checked" in progress and "Done:" in progress

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    for (table, column, pk), old in zip(
        [("accounts_user", "phone", data["staff"].pk), ("complaints_case", "phone", data["case"].pk),
         ("disclosure_disbursement", "id_number", data["record"].pk),
         ("publishing_channelaccount", "wechat_app_secret", data["account"].pk)],
        tokens.values(), strict=True,
    ):  # fmt: skip
        token = _raw(table, column, pk)
        assert token != old and _opens_with(KEY_B, token) and not _opens_with(KEY_A, token)

    assert User.objects.get(pk=data["staff"].pk).phone == "13900001111"
    case = Case.objects.get(number=data["case"].number)
    assert (case.phone, case.id_number) == (PHONE, ID_NUMBER)
    assert ChannelAccount.objects.get(pk=data["account"].pk).wechat_app_secret == "wechat-secret-under-a"
    # Case tracking: number + query code.
    assert complaints_services.query_code_matches(case, data["code"])
    # Staff's phone filter and the public form's per-phone limit key.
    assert Case.objects.filter(phone_hash=complaints_services.phone_hash(PHONE)).get().pk == case.pk
    assert f"complaint-phone:{complaints_services.phone_hash(PHONE)}" == data["rate_key"]
    # Disclosure: the citizen's own-record lookup by name + last six, and the exact identity lookup.
    found = Disbursement.objects.get(name_tail_hash=disclosure_services.name_tail_hash("李四娃", ID_NUMBER[-6:]))
    assert found.pk == data["record"].pk and found.id_number == ID_NUMBER
    assert Disbursement.objects.filter(id_hash=disclosure_services.identity_hash(ID_NUMBER)).count() == 1


def test_a_second_run_finds_nothing_to_do(settings, under_key_a):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    call_command("rotate_encryption_key", stdout=io.StringIO())
    out = io.StringIO()
    call_command("rotate_encryption_key", stdout=out)
    assert "Done: 0 value(s) re-encrypted" in out.getvalue()


def test_an_interrupted_run_resumes_where_it_stopped(settings, under_key_a):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    call_command("rotate_encryption_key", model=["accounts.User"], stdout=io.StringIO())  # as if stopped after users
    out = io.StringIO()
    call_command("rotate_encryption_key", stdout=out)
    # The rest: the case's phone and identity number, the record's identity number, three account secrets.
    assert "Done: 6 value(s) re-encrypted" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    assert User.objects.get(pk=under_key_a["staff"].pk).phone == "13900001111"


def test_a_value_no_key_opens_is_reported_and_left_alone(settings, under_key_a):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # A dropped before rotating: the mistake the command must not hide
    before = _raw("accounts_user", "phone", under_key_a["staff"].pk)
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_encryption_key", stdout=io.StringIO(), stderr=io.StringIO())
    assert _raw("accounts_user", "phone", under_key_a["staff"].pk) == before


def test_keyed_hashes_do_not_depend_on_the_encryption_keys(settings):
    settings.FIELD_HASH_KEY = HASH_KEY
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    before = crypto.keyed_hash(PHONE, purpose="phone")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert crypto.keyed_hash(PHONE, purpose="phone") == before
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    assert crypto.keyed_hash(PHONE, purpose="phone") == before


def test_hashes_of_existing_development_data_stay_the_same(settings):
    """Before FIELD_HASH_KEY, the hash key was derived from the first encryption key: setting FIELD_HASH_KEY
    to that key (the development default does) keeps every stored hash."""
    from govcms.settings import _DEV_FIELD_KEY

    settings.FIELD_HASH_KEY = _DEV_FIELD_KEY
    secret = hashlib.sha256(("govcms-lookup:" + _DEV_FIELD_KEY).encode()).digest()
    expected = hmac.new(secret, f"phone:{PHONE}".encode(), hashlib.sha256).hexdigest()
    assert crypto.keyed_hash(PHONE, purpose="phone") == expected
