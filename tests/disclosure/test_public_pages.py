"""The public disclosure pages: only published, current records, only the public fields, recipients' names
masked unless their programme publishes full names, never an identity number; searches validated in Chinese;
no cookies; the lookup of one's own records behind the captcha and limited per address and per name."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from accounts.models import Department
from disclosure import exporting, page_cache, selectors, services
from disclosure.models import (
    DepartmentBudget,
    FundKind,
    FundProgram,
    ProjectAllocation,
    PublicFields,
    RecordType,
    StaffingUnit,
    StaffMember,
)
from shared import ratelimit
from tests.captcha import captcha_post_data
from tests.disclosure.conftest import ID_NUMBERS

pytestmark = pytest.mark.django_db

FUNDS = "/disclosure/funds/"
OWN = "/disclosure/funds/own/"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    ratelimit.clear_all()
    yield
    ratelimit.clear_all()


def html(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, url
    return response.content.decode()


def found_names(client, **params) -> list[str]:
    return names_in(client.get(FUNDS, params))


def names_in(response) -> list[str]:
    assert response.status_code == 200
    table = response.context["table"]
    return sorted(row["cells"][1] for row in table.rows) if table else []


def look_up(client, name, tail, address="127.0.0.1", *, solved=True):
    """The own-records lookup as a citizen sends it: the captcha of a freshly loaded page solved."""
    page = client.get(OWN, REMOTE_ADDR=address).content.decode()
    captcha = captcha_post_data(page, name="own-captcha") if solved else {}
    return client.post(OWN, {"own-name": name, "own-id_tail": tail, **captcha}, REMOTE_ADDR=address)


def publish(batch, officer, reviewer):
    services.batch_submit(actor=officer, batch=batch)
    return services.batch_publish(actor=reviewer, batch=batch)


@pytest.fixture
def correction(published_batch, make_batch, add_disbursement, officer, batch_reviewer):
    """A published correction of 张三's payment: 600 instead of 520."""
    from disclosure.models import Disbursement

    zhang = Disbursement.objects.get(batch=published_batch, recipient_name="张三")
    batch = make_batch(title="低保资金更正", corrects=published_batch)
    add_disbursement(batch, name="张三", amount="600.00", supersedes_id=zhang.pk)
    return publish(batch, officer, batch_reviewer)


@pytest.fixture
def every_record_type(county, make_batch, officer, batch_reviewer, published_batch):
    """One published batch of each other record type."""
    program = FundProgram.objects.create(
        name="农村道路建设资金", department=county["office"], year=2026, kind=FundKind.PROJECTS
    )
    projects = make_batch(RecordType.PROJECT, title="2026年农村道路项目")
    ProjectAllocation.objects.create(
        batch=projects, program=program, project_name="石桥村通组公路硬化", undertaking_body="县交通运输局",
        location="城关镇石桥村", amount=Decimal("350000.00"), allocated_on=datetime.date(2026, 4, 1),
    )  # fmt: skip
    budgets = make_batch(RecordType.BUDGET, title="2026年部门预算")
    DepartmentBudget.objects.create(
        batch=budgets, department=county["office"], year=2026, basic_expenditure=Decimal("1000000.00"),
        project_expenditure=Decimal("500000.00"), travel_abroad=Decimal("0.00"), vehicle_purchase=Decimal("0.00"),
        vehicle_running=Decimal("42000.00"), reception=Decimal("8000.00"),
    )  # fmt: skip
    units = make_batch(RecordType.STAFFING, title="2026年机构编制")
    unit = StaffingUnit.objects.create(
        batch=units, name="县政府办公室", unit_type="administrative", approved_administrative=20,
        approved_institution=5, approved_worker=2, actual_staff=24, name_bigrams=_bigrams("县政府办公室"),
    )  # fmt: skip
    members = make_batch(RecordType.STAFF_MEMBER, title="2026年实名制")
    StaffMember.objects.create(
        batch=members, unit=unit, name="孙秀英", post="秘书科科长", establishment_type="administrative",
        name_bigrams=_bigrams("孙秀英"),
    )  # fmt: skip
    for batch in (projects, budgets, units, members):
        publish(batch, officer, batch_reviewer)


def _bigrams(text):
    from shared.bigrams import bigrams

    return bigrams(text)


ALL_PAGES = [
    ("/disclosure/", {}),
    ("/disclosure/catalogue/", {}),
    (FUNDS, {"village": "石桥村"}),
    ("/disclosure/projects/", {}),
    ("/disclosure/budgets/", {}),
    ("/disclosure/staffing/", {}),
    ("/disclosure/staffing/", {"q": "孙秀英"}),
]


def test_every_public_page_renders_in_chinese_without_cookies(client, every_record_type):
    responses = [(url, client.get(url, params)) for url, params in ALL_PAGES]
    for url, response in responses + [(FUNDS, look_up(client, "张三", ID_NUMBERS[0][-6:]))]:
        assert response.status_code == 200, url
        assert 'lang="zh-CN"' in response.content.decode()
        assert not response.cookies, url
        assert "Cookie" not in response.get("Vary", ""), url
        assert "csrfmiddlewaretoken" not in response.content.decode(), url


def test_identity_numbers_never_appear_on_any_public_page(client, every_record_type, correction):
    # Even with the masked number made public, the full one must not leave the admin.
    PublicFields.objects.create(
        record_type=RecordType.DISBURSEMENT,
        fields=["recipient_name", "id_masked", "id_number", "village", "amount"],
    )  # fmt: skip
    pages = [html(client, url, **params) for url, params in ALL_PAGES]
    pages.append(look_up(client, "张三", ID_NUMBERS[0][-6:]).content.decode())
    for page in pages:
        for number in ID_NUMBERS:
            assert number not in page
    assert "4209**********1235" in html(client, FUNDS, village="石桥村")


def test_two_character_name_finds_only_that_name(client, published_batch):
    assert found_names(client, name="张三") == ["张*"]
    assert found_names(client, name="四娃") == ["李*娃"]


def test_three_and_four_character_names_match_as_substrings(client, published_batch):
    assert found_names(client, name="李四娃") == ["李*娃"]
    assert found_names(client, name="欧阳娜娜") == ["欧**娜"]
    assert found_names(client, name="阳娜娜") == ["欧**娜"]


def test_name_holding_every_bigram_but_not_adjacent_is_not_found(client, published_batch, make_batch,
                                                                  add_disbursement, officer, batch_reviewer):  # fmt: skip
    batch = make_batch(title="第二批")
    add_disbursement(batch, name="小明王小", id_number=ID_NUMBERS[3])  # has 王小 and 小明, not 王小明
    publish(batch, officer, batch_reviewer)
    assert found_names(client, name="王小明") == []
    assert found_names(client, name="明王小") == ["小**小"]


def test_village_and_township_match_whole_or_in_part(client, published_batch, make_batch, add_disbursement, officer,
                                                     batch_reviewer):  # fmt: skip
    batch = make_batch(title="第二批")
    add_disbursement(batch, name="王五", id_number=ID_NUMBERS[3], village="石桥村", township="河口镇")
    add_disbursement(batch, name="赵六", id_number=ID_NUMBERS[3], village="新口村", township="河口镇")
    publish(batch, officer, batch_reviewer)
    draft = make_batch(title="未发布")
    add_disbursement(draft, name="钱七", id_number=ID_NUMBERS[3], village="新口子村", township="河口镇")
    assert found_names(client, village="石桥村") == ["张*", "欧**娜", "王*"]
    assert found_names(client, village="石桥") == ["张*", "欧**娜", "王*"]
    assert found_names(client, village="新口") == ["赵*"]  # 新口子村 is in a batch not yet published
    assert found_names(client, village="石桥村", township="城关") == ["张*", "欧**娜"]
    assert found_names(client, township="河口镇") == ["王*", "赵*"]
    assert found_names(client, township="河口", village="口") == ["赵*"]
    assert found_names(client, name="张三", village="河口村") == []
    assert found_names(client, village="桥口") == []


def test_place_names_are_each_distinct_name_once(published_batch, make_batch, add_disbursement):
    batch = make_batch(title="第二批")
    add_disbursement(batch, name="王五", id_number=ID_NUMBERS[3], village="新口村", township="河口镇")
    page_cache.bump()
    assert sorted(selectors.place_names("village")) == sorted(["石桥村", "河口村", "新口村"])
    assert sorted(selectors.place_names("township")) == sorted(["城关镇", "河口镇"])
    with pytest.raises(ValueError):
        selectors.place_names("recipient_name")


def test_programme_and_year_narrow_the_search(client, published_batch, make_batch, add_disbursement, officer,
                                              batch_reviewer, county):  # fmt: skip
    old = FundProgram.objects.create(name="特困人员救助供养资金", department=county["office"], year=2025)
    batch = make_batch(title="2025年特困供养", year=2025)
    add_disbursement(batch, name="张三丰", id_number=ID_NUMBERS[3], program=old)
    publish(batch, officer, batch_reviewer)
    assert found_names(client, name="张三") == ["张*", "张*丰"]
    assert found_names(client, name="张三", program=old.pk) == ["张*丰"]
    assert found_names(client, name="张三", year=2026) == ["张*"]
    assert found_names(client, program=old.pk) == ["张*丰"]


def test_results_are_paginated_twenty_a_page_with_the_total(client, make_batch, add_disbursement, officer,
                                                            batch_reviewer):  # fmt: skip
    batch = make_batch()
    for n in range(45):
        add_disbursement(batch, name="王" + "一二三四五六七八九"[n % 9], village="柳树村", id_number="")
    publish(batch, officer, batch_reviewer)
    first = client.get(FUNDS, {"village": "柳树村"})
    assert first.context["page"].paginator.count == 45
    assert len(first.context["table"].rows) == 20
    assert "page=2" in first.content.decode() and "village=" in first.content.decode()
    last = client.get(FUNDS, {"village": "柳树村", "page": 3})
    assert len(last.context["table"].rows) == 5


def test_search_page_reads_a_constant_number_of_queries(client, make_batch, add_disbursement, officer,
                                                         batch_reviewer, django_assert_max_num_queries):  # fmt: skip
    batch = make_batch()
    for _ in range(20):
        add_disbursement(batch, name="赵六", id_number="")
    publish(batch, officer, batch_reviewer)
    with django_assert_max_num_queries(8):
        assert len(client.get(FUNDS, {"name": "赵六"}).context["table"].rows) == 20


def test_search_without_name_or_place_shows_the_form_not_the_table(client, published_batch):
    empty = client.get(FUNDS)
    assert empty.context["table"] is None and empty.context["form"] is not None
    assert "张三" not in empty.content.decode()
    year_only = client.get(FUNDS, {"year": 2026})
    assert year_only.context["table"] is None
    assert gettext("Type a name, or choose a township, village or fund programme.") in year_only.content.decode()


NAME_ERRORS = [
    ("张", "Type at least two characters of the name: one character alone matches far too many people."),
    ("欧阳娜娜娜", "Type at most four characters of the name."),
    ("zhang", "Type the name in Chinese characters only, without spaces or punctuation."),
    ("张 三", "Type the name in Chinese characters only, without spaces or punctuation."),
]


@pytest.mark.parametrize("name, message", NAME_ERRORS)
def test_bad_name_gets_a_clear_message_and_keeps_what_was_typed(client, published_batch, name, message):
    response = client.get(FUNDS, {"name": name, "village": "石桥村"})
    page = response.content.decode()
    assert response.context["table"] is None
    assert response.context["form"].errors["name"] == [gettext(message)]
    assert gettext(message) in page
    assert f'value="{name}"' in page and 'value="石桥村"' in page


@pytest.mark.parametrize(
    "name, tail, field, message",
    [
        *[(name, "011235", "name", message) for name, message in NAME_ERRORS],
        ("张三", "12345", "id_tail", "The last six characters of an identity number are six digits, or five digits and an X."),
        ("张三", "1234Y5", "id_tail", "The last six characters of an identity number are six digits, or five digits and an X."),
        ("", "011235", "name", "This field is required."),
    ],
)  # fmt: skip
def test_bad_lookup_gets_a_clear_message_and_keeps_what_was_typed(client, published_batch, name, tail, field,
                                                                  message):  # fmt: skip
    response = look_up(client, name, tail)
    page = response.content.decode()
    assert response.context["table"] is None
    assert response.context["lookup"].errors[field] == [gettext(message)]
    assert f'value="{tail}"' in page and (not name or f'value="{name}"' in page)


def test_name_and_last_six_digits_find_exactly_ones_own_records(client, published_batch):
    tail = ID_NUMBERS[1][-6:].lower()  # 31002x: the X may be typed in lower case
    assert names_in(look_up(client, "李四娃", tail)) == ["李*娃"]
    assert names_in(look_up(client, "李四娃", ID_NUMBERS[0][-6:])) == []
    assert names_in(look_up(client, "李四", tail)) == []  # the whole name, not a part of it


def test_lookup_is_posted_so_the_identity_tail_stays_out_of_addresses(client, published_batch):
    form_page = client.get(OWN).content.decode()
    assert 'method="post"' in form_page and 'name="own-id_tail"' in form_page
    assert f'href="{OWN}"' in client.get(FUNDS).content.decode()
    response = look_up(client, "张三", ID_NUMBERS[0][-6:])
    assert not response.cookies and "Cookie" not in response.get("Vary", "")
    links = re.findall(r'(?:href|action)="([^"]*)"', response.content.decode())
    assert links and not [link for link in links if ID_NUMBERS[0][-6:] in link]
    # A tail in the address is not a lookup: it is ignored, like any unknown parameter.
    assert found_names(client, name="张三", id_tail=ID_NUMBERS[0][-6:]) == ["张*"]


def test_replaced_row_leaves_and_correcting_row_says_when(client, correction):
    response = client.get(FUNDS, {"name": "张三"})
    rows = response.context["table"].rows
    assert len(rows) == 1
    amount_column = response.context["table"].headings.index(str(gettext("amount (yuan)")))
    assert rows[0]["cells"][amount_column] == Decimal("600.00")
    date = correction.published_at.astimezone(datetime.timezone(datetime.timedelta(hours=8))).date()
    assert gettext("Corrected (%(date)s)") % {"date": f"{date:%Y-%m-%d}"} in response.content.decode()


def test_withdrawn_and_unpublished_batches_show_nothing(client, published_batch, make_batch, add_disbursement,
                                                        officer, batch_reviewer):  # fmt: skip
    draft = make_batch(title="未发布批次")
    add_disbursement(draft, name="钱七", id_number=ID_NUMBERS[3])
    assert found_names(client, name="钱七") == []
    services.batch_submit(actor=officer, batch=draft)
    assert found_names(client, name="钱七") == []
    services.batch_withdraw(actor=officer, batch=published_batch, reason="数据有误")
    assert found_names(client, village="石桥村") == []
    catalogue = html(client, "/disclosure/catalogue/")
    assert "2026年第一批低保资金发放" not in catalogue and "未发布批次" not in catalogue


def test_only_public_fields_are_shown_and_names_masked_as_configured(client, published_batch):
    PublicFields.objects.create(
        record_type=RecordType.DISBURSEMENT, fields=["recipient_name", "village", "paid_on"], mask_names=True
    )
    response = client.get(FUNDS, {"village": "石桥村"})
    table = response.context["table"]
    assert [row["cells"][0] for row in table.rows] == ["欧**娜", "张*"]
    page = response.content.decode()
    assert "1200.50" not in page and "县民政局" not in page
    assert "欧阳娜娜" not in page and "张三" not in page
    # A masked name is still found by the full name a citizen types.
    assert len(client.get(FUNDS, {"name": "欧阳娜娜"}).context["table"].rows) == 1


def test_catalogue_lists_published_batches_with_counts(client, published_batch, make_batch, add_disbursement):
    make_batch(title="草稿批次")
    page = html(client, "/disclosure/catalogue/")
    assert "2026年第一批低保资金发放" in page and "县政府办公室" in page
    assert "草稿批次" not in page
    assert client.get("/disclosure/catalogue/").context["entries"] == [(published_batch, 3)]


def test_catalogue_shows_correction_and_when_a_batch_was_corrected(client, correction, published_batch):
    page = html(client, "/disclosure/catalogue/")
    assert gettext("Correction of “%(title)s”") % {"title": published_batch.title} in page
    date = f"{correction.published_at.astimezone(datetime.timezone(datetime.timedelta(hours=8))):%Y-%m-%d}"
    assert gettext("Corrected on %(date)s") % {"date": date} in page
    entries = dict(client.get("/disclosure/catalogue/").context["entries"])
    assert entries == {correction: 1, published_batch: 3}


def test_catalogue_filters_by_department_type_and_year(client, every_record_type, county, make_batch, officer,
                                                       batch_reviewer, add_disbursement):  # fmt: skip
    school = Department.objects.get(code="edu-school")
    other = make_batch(title="2025年教育补助", department=county["office"], year=2025)
    add_disbursement(other, name="周八", id_number="")
    publish(other, officer, batch_reviewer)

    def titles(**params):
        return sorted(batch.title for batch, _count in client.get("/disclosure/catalogue/", params).context["entries"])

    assert titles(record_type=RecordType.BUDGET) == ["2026年部门预算"]
    assert titles(year=2025) == ["2025年教育补助"]
    assert titles(record_type=RecordType.DISBURSEMENT, year=2026) == ["2026年第一批低保资金发放"]
    assert len(titles(department=county["office"].pk)) == 6
    assert titles(department=school.pk) == titles()  # not a department with batches: the filter is ignored
    assert client.get("/disclosure/catalogue/", {"department": school.pk}).context["form"].errors


def test_projects_budgets_and_staffing_pages_show_their_records(client, every_record_type):
    assert "石桥村通组公路硬化" in html(client, "/disclosure/projects/")
    budgets = client.get("/disclosure/budgets/")
    table = budgets.context["table"]
    row = dict(zip(table.headings, table.rows[0]["cells"], strict=True))
    assert row[gettext("Total budget")] == Decimal("1500000.00")
    assert row[gettext("“Three public” expenses in total")] == Decimal("50000.00")
    staffing = client.get("/disclosure/staffing/").context["table"]
    unit = dict(zip(staffing.headings, staffing.rows[0]["cells"], strict=True))
    assert unit[gettext("Approved posts in total")] == 27 and unit[gettext("actual staff")] == 24


def test_staffing_search_finds_units_and_staff_by_name(client, every_record_type):
    by_unit = client.get("/disclosure/staffing/", {"q": "政府办"})
    assert [row["cells"][0] for row in by_unit.context["table"].rows] == ["县政府办公室"]
    assert by_unit.context["members"].rows == []
    by_member = client.get("/disclosure/staffing/", {"q": "秀英"})
    assert [row["cells"][1] for row in by_member.context["members"].rows] == ["孙秀英"]
    assert by_member.context["table"].rows == []
    assert client.get("/disclosure/staffing/", {"q": "县"}).context["form"].errors["q"]


def test_a_search_page_is_served_from_the_cache_until_a_batch_changes(
    client, published_batch, officer, django_assert_num_queries, settings
):
    settings.DISCLOSURE_PAGE_CACHE_SECONDS = 600
    url = "/disclosure/funds/?name=张三"
    assert "520.00" in client.get(url).content.decode()  # 张三's amount, in the results table
    with django_assert_num_queries(0):
        assert "520.00" in client.get(url).content.decode()  # the rate limit still counted it (Redis)
    services.batch_withdraw(actor=officer, batch=published_batch, reason="核对")
    assert "520.00" not in client.get(url).content.decode()


def test_form_fields_keep_what_was_typed_and_link_their_errors(client):
    page = client.get(FUNDS, {"name": "张", "village": "石桥村"}).content.decode()
    assert '<label for="id_name">' in page and 'value="石桥村"' in page
    assert 'aria-describedby="id_name_error"' in page and 'aria-invalid="true"' in page
    assert '<ul class="errorlist" id="id_name_error"><li>' in page
    own = client.get(OWN).content.decode()
    assert 'id="id_own-name" required' in own  # the lookup's fields are required


def test_the_portal_links_to_the_disclosure_pages(client):
    assert 'href="/disclosure/"' in client.get("/").content.decode()


def test_recipients_names_are_masked_by_default_on_lists_and_exports(client, published_batch):
    response = client.get(FUNDS, {"township": "城关镇"})
    page = response.content.decode()
    assert names_in(response) == ["张*", "李*娃", "欧**娜"]
    for full in ("张三", "李四娃", "欧阳娜娜"):
        assert full not in page
    export = b"".join(
        exporting.export_public_records(record_type=RecordType.DISBURSEMENT, fmt="csv").streaming_content
    ).decode("utf-8-sig")
    assert "李*娃" in export and "李四娃" not in export


def test_a_programme_whose_rules_require_full_names_shows_them(client, published_batch, program, county,
                                                                make_batch, add_disbursement, officer,
                                                                batch_reviewer):  # fmt: skip
    other = FundProgram.objects.create(name="特困人员救助供养资金", department=county["office"], year=2026)
    batch = make_batch(title="特困供养")
    add_disbursement(batch, name="王小明", id_number=ID_NUMBERS[3], program=other)
    publish(batch, officer, batch_reviewer)
    FundProgram.objects.filter(pk=program.pk).update(full_names_public=True)
    page_cache.bump()  # as the programme admin does on save
    assert found_names(client, village="石桥村") == ["张三", "欧阳娜娜", "王*明"]


def test_own_records_lookup_needs_the_captcha(client, published_batch):
    response = look_up(client, "李四娃", ID_NUMBERS[1][-6:], solved=False)
    page = response.content.decode()
    assert response.status_code == 200 and response.context["table"] is None
    assert gettext("Please enter the verification code shown in the picture.") in page
    wrong = client.get(OWN).content.decode()
    data = {"own-name": "李四娃", "own-id_tail": ID_NUMBERS[1][-6:],
            **captcha_post_data(wrong, name="own-captcha"), "own-captcha_answer": "0000"}  # fmt: skip
    assert client.post(OWN, data).context["table"] is None


def test_own_records_page_is_never_cached_and_shows_a_new_captcha_each_time(client, settings):
    settings.DISCLOSURE_PAGE_CACHE_SECONDS = 600
    first, second = client.get(OWN), client.get(OWN)
    assert "no-store" in first["Cache-Control"]
    key = re.compile(r'name="own-captcha_key" value="([^"]+)"')
    assert key.search(first.content.decode()).group(1) != key.search(second.content.decode()).group(1)


def test_own_records_lookups_are_limited_per_name_across_addresses(client, published_batch, settings):
    settings.DISCLOSURE_LOOKUP_FAILURES_PER_NAME = 2
    for guess, address in (("000001", "10.0.0.1"), ("000002", "10.0.0.2")):
        assert look_up(client, "李四娃", guess, address).status_code == 200
    # Past the limit even the right tail is refused, so the limit cannot be used to confirm a guess.
    refused = look_up(client, "李四娃", ID_NUMBERS[1][-6:], "10.0.0.3")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert refused.context["table"] is None and "李*娃" not in refused.content.decode()
    # Another name is not affected.
    assert names_in(look_up(client, "张三", ID_NUMBERS[0][-6:], "10.0.0.3")) == ["张*"]


def test_successful_own_lookups_do_not_count_against_the_name(client, published_batch, settings):
    settings.DISCLOSURE_LOOKUP_FAILURES_PER_NAME = 1
    for _ in range(3):
        assert names_in(look_up(client, "李四娃", ID_NUMBERS[1][-6:])) == ["李*娃"]


def test_own_records_lookups_are_limited_per_address(client, published_batch, settings):
    settings.DISCLOSURE_LOOKUP_RATE_PER_IP = 2
    for _ in range(2):
        assert look_up(client, "张三", ID_NUMBERS[0][-6:], "10.0.0.1").status_code == 200
    refused = look_up(client, "张三", ID_NUMBERS[0][-6:], "10.0.0.1")
    assert refused.status_code == 429 and refused.context["table"] is None
    assert 'value="张三"' in refused.content.decode()  # the name typed stays
    assert names_in(look_up(client, "张三", ID_NUMBERS[0][-6:], "10.0.0.2")) == ["张*"]


def test_search_results_come_as_cards_above_the_form(client, published_batch):
    page = html(client, FUNDS, village="石桥")
    assert page.index('id="results"') < page.index('id="search-form"')
    cards = re.findall(r'<li class="card"><p class="card-title">(.*?)</p><dl>(.*?)</dl>', page, re.S)
    by_name = {title: re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", fields) for title, fields in cards}
    assert sorted(by_name) == ["张*", "欧**娜"]
    assert by_name["欧**娜"] == [
        ("金额（元）", "1200.50"), ("专项资金", "城乡居民最低生活保障资金（2026）"), ("乡镇", "城关镇"), ("村", "石桥村"),
        ("发放日期", "2026年3月15日"),
    ]  # fmt: skip


def test_no_cards_before_a_search(client, published_batch):
    assert '<ol class="cards"' not in html(client, FUNDS)


def test_guide_links_to_the_online_request_form(client):
    page = html(client, "/disclosure/")
    assert "将提供" not in page
    assert f'<a href="{reverse("complaints:new")}">在线申请政府信息公开</a>' in page
    assert "在写信表单中选择“依申请公开”类型" in page


def test_fund_search_form_has_one_button_named_unlike_the_site_search(client, published_batch):
    page = html(client, FUNDS, village="石桥")
    form = page[
        page.index('<form class="filters" id="search-form"') : page.index("</form>", page.index('id="search-form"'))
    ]
    assert re.findall(r"<button[^>]*>([^<]*)</button>", form) == ["查询"]
    assert re.findall(r"<button[^>]*>([^<]*)</button>", page) == ["搜索", "查询"]  # the header's site search, then this
