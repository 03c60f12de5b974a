"""Disclosure fixtures: an officer of the county office, a reviewer, an officer of another
department (police) who must see nothing of the office's batches, and a programme with records."""

import datetime
from decimal import Decimal

import pytest

from accounts import roles
from disclosure import page_cache, services
from disclosure.models import Disbursement, FundProgram, RecordType
from tests.factories import UserFactory

# Valid identity numbers (GB 11643 check digits), all of made-up people.
ID_NUMBERS = ["420981199001011235", "11010519491231002X", "440524188001010014", "420981198512125678"]


@pytest.fixture(autouse=True)
def fresh_page_cache():
    """Tests share one Redis: pages cached by an earlier test (other rows, same ids) must not be served."""
    page_cache.bump()


@pytest.fixture
def officer(disclosure_officer):
    return disclosure_officer


@pytest.fixture
def batch_reviewer(county):
    return UserFactory(username="batchreviewer", real_name="赵审核", department=county["office"], role=roles.REVIEWER)


@pytest.fixture
def other_officer(county):
    """An officer of the police bureau: sees nothing of the county office's batches."""
    return UserFactory(username="discloser-police", department=county["police"], role=roles.DISCLOSURE_OFFICER)


@pytest.fixture
def program(county):
    return FundProgram.objects.create(
        name="城乡居民最低生活保障资金", department=county["office"], year=2026, total_amount=Decimal("1000000.00")
    )


@pytest.fixture
def make_batch(officer, county):
    def make(record_type=RecordType.DISBURSEMENT, title="2026年第一批低保资金发放", **kwargs):
        kwargs.setdefault("department", county["office"])
        kwargs.setdefault("year", 2026)
        return services.batch_create(actor=kwargs.pop("actor", officer), record_type=record_type, title=title, **kwargs)

    return make


@pytest.fixture
def add_disbursement(program):
    def add(
        batch, name="张三", id_number=ID_NUMBERS[0], village="石桥村", township="城关镇", amount="520.00", **kwargs
    ):
        record = Disbursement(
            batch=batch, program=kwargs.pop("program", program), recipient_name=name, id_number=id_number,
            village=village, township=township, amount=Decimal(amount),
            paid_on=kwargs.pop("paid_on", datetime.date(2026, 3, 15)), household_size=kwargs.pop("household_size", 3),
            paying_department=kwargs.pop("paying_department", "县民政局"), **kwargs,
        )  # fmt: skip
        services.prepare_disbursement(record)
        record.save()
        return record

    return add


@pytest.fixture
def published_batch(make_batch, add_disbursement, officer, batch_reviewer):
    """A published batch of three disbursements in two villages."""
    batch = make_batch()
    add_disbursement(batch, name="张三", id_number=ID_NUMBERS[0])
    add_disbursement(batch, name="李四娃", id_number=ID_NUMBERS[1], village="河口村")
    add_disbursement(batch, name="欧阳娜娜", id_number=ID_NUMBERS[2], amount="1200.50")
    services.batch_submit(actor=officer, batch=batch)
    return services.batch_publish(actor=batch_reviewer, batch=batch)
