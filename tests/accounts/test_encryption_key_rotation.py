"""Rotating FIELD_ENCRYPTION_KEY: values written under key A, FIELD_ENCRYPTION_KEY=[B, A], the command
re-encrypts everything under B, then FIELD_ENCRYPTION_KEY=[B] alone still opens every value, and every
lookup by keyed hash (FIELD_HASH_KEY, untouched by rotation) still finds its row."""

import base64
import datetime
import hashlib
import hmac
import io
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

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
    """Whether `key` alone opens `token` (in either format), as accounts.crypto reads it."""
    try:
        with override_settings(FIELD_ENCRYPTION_KEYS=[key]):
            crypto.decrypt(token)
    except ImproperlyConfigured:
        return False
    return True


def _is_aes_gcm(token: str) -> bool:
    return base64.urlsafe_b64decode(token)[0] == crypto.GCM_VERSION


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
        assert _is_aes_gcm(token)

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


def test_values_written_as_fernet_tokens_still_read_and_rotate_into_aes_gcm(settings, under_key_a):
    """Values stored before the AES-GCM format (Fernet tokens) read as before, under any key of the
    list, and `rotate_encryption_key` rewrites them in the new format under the first key."""
    pk = under_key_a["staff"].pk
    legacy = Fernet(KEY_A.encode()).encrypt(b"13900002222").decode()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET phone = %s WHERE id = %s", [legacy, pk])
    assert User.objects.get(pk=pk).phone == "13900002222"
    assert not crypto.is_under_current_key(legacy)  # old format under the current key: still to rotate

    call_command("rotate_encryption_key", model=["accounts.User"], stdout=io.StringIO())
    token = _raw("accounts_user", "phone", pk)
    assert _is_aes_gcm(token) and crypto.is_under_current_key(token)
    assert User.objects.get(pk=pk).phone == "13900002222"

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert User.objects.get(pk=pk).phone == "13900002222"
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(token)


def test_a_token_names_its_key_and_a_tampered_token_does_not_open(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    token_a = crypto.encrypt(ID_NUMBER)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    token_b = crypto.encrypt(ID_NUMBER)
    assert base64.urlsafe_b64decode(token_a)[1:5] != base64.urlsafe_b64decode(token_b)[1:5]  # key ids
    assert crypto.decrypt(token_a) == crypto.decrypt(token_b) == ID_NUMBER
    assert not crypto.is_under_current_key(token_a) and crypto.is_under_current_key(token_b)
    data = bytearray(base64.urlsafe_b64decode(token_b))
    data[-1] ^= 1
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(base64.urlsafe_b64encode(bytes(data)).decode())
