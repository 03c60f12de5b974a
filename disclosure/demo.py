"""Demo disclosure records (used by `manage.py seed_demo`): programmes, a published batch of a few
thousand disbursements with a published correction, one batch waiting for review, project
allocations, budgets, staffing, and a balanced annual report."""

import datetime
import random
from decimal import Decimal

from accounts.models import User
from disclosure import services
from disclosure.models import (
    AnnualReport,
    DepartmentBudget,
    Disbursement,
    DisclosureBatch,
    EstablishmentType,
    FundKind,
    FundProgram,
    ProjectAllocation,
    RecordType,
    StaffingUnit,
    StaffMember,
    UnitType,
)
from disclosure.reports import annual_report_save
from disclosure.sample_data import PROGRAMMES, RowMaker

YEAR = 2026
DISBURSEMENTS = 3000

UNITS = [
    # name, type, parent, administrative, institutional, worker, leadership, actual
    ("县政府办公室", UnitType.ADMINISTRATIVE, "示范县人民政府", 28, 0, 3, 6, 29),
    ("县财政局", UnitType.ADMINISTRATIVE, "示范县人民政府", 35, 0, 4, 5, 37),
    ("县财政国库集中支付中心", UnitType.CIVIL_SERVICE_MANAGED, "县财政局", 0, 12, 1, 2, 12),
    ("县教育局", UnitType.ADMINISTRATIVE, "示范县人民政府", 30, 0, 3, 5, 31),
    ("县教育技术装备站", UnitType.PUBLIC_INSTITUTION, "县教育局", 0, 9, 1, 1, 8),
    ("县公安局", UnitType.ADMINISTRATIVE, "示范县人民政府", 210, 0, 12, 9, 205),
    ("县委编办", UnitType.ADMINISTRATIVE, "中共示范县委员会", 9, 0, 1, 3, 9),
]
POSTS = ["科员", "副主任科员", "主任科员", "办事员", "副局长", "股长", "工勤人员"]


def seed(departments) -> int:
    """Returns how many disclosure records exist afterwards; does nothing if batches already exist."""
    if DisclosureBatch.objects.exists():
        return Disbursement.objects.count()
    finance = departments["finance"]
    officer = User.objects.get(username="discloser")
    reviewer = User.objects.get(username="reviewer1")
    programmes = {
        name: FundProgram.objects.get_or_create(
            name=name, year=YEAR, defaults={"department": finance, "kind": FundKind.PERSONS,
                                            "policy_basis": "《社会救助暂行办法》及省、市有关规定"},
        )[0]
        for name, _payer, _low, _high in PROGRAMMES
    }  # fmt: skip
    farmland = FundProgram.objects.get_or_create(
        name="高标准农田建设项目资金", year=YEAR,
        defaults={"department": finance, "kind": FundKind.PROJECTS, "total_amount": Decimal("18600000.00")},
    )[0]  # fmt: skip
    rng = random.Random(2026)  # noqa: S311 - demo data

    def publish(batch):
        services.batch_submit(actor=officer, batch=batch)
        return services.batch_publish(actor=reviewer, batch=batch)

    def disbursements(batch, count, seed):
        maker = RowMaker(year=YEAR, seed=seed)
        rows = []
        for number in range(1, count + 1):
            programme, name, id_number, township, village, household, amount, _paid, payer = maker.valid_row()
            record = Disbursement(
                batch=batch, row_number=number + 1, program=programmes[programme], recipient_name=name,
                id_number=id_number, township=township, village=village, household_size=int(household),
                amount=Decimal(amount), paid_on=datetime.date(YEAR, rng.randint(1, 3), 15), paying_department=payer,
            )  # fmt: skip
            rows.append(services.prepare_disbursement(record))
        return Disbursement.objects.bulk_create(rows, batch_size=1000)

    first = services.batch_create(actor=officer, record_type=RecordType.DISBURSEMENT, department=finance, year=YEAR,
                                  title="2026年第一季度民生资金发放（到人到户）")  # fmt: skip
    published_rows = disbursements(first, DISBURSEMENTS, seed=1)
    first = publish(first)

    correction = services.batch_create(
        actor=officer, record_type=RecordType.DISBURSEMENT, department=finance, year=YEAR,
        title="更正：2026年第一季度民生资金发放", corrects=first, note="两户发放金额录入有误，予以更正。",
    )  # fmt: skip
    for number, wrong in enumerate(published_rows[:2], start=2):
        fixed = Disbursement(
            batch=correction, row_number=number, program=wrong.program, recipient_name=wrong.recipient_name,
            id_number=wrong.id_number, township=wrong.township, village=wrong.village,
            household_size=wrong.household_size, amount=wrong.amount + Decimal("100.00"), paid_on=wrong.paid_on,
            paying_department=wrong.paying_department, supersedes_id=wrong.pk,
        )  # fmt: skip
        services.prepare_disbursement(fixed).save()
    publish(correction)

    waiting = services.batch_create(actor=officer, record_type=RecordType.DISBURSEMENT, department=finance, year=YEAR,
                                    title="2026年4月临时救助资金发放")  # fmt: skip
    disbursements(waiting, 200, seed=2)
    services.batch_submit(actor=officer, batch=waiting)

    projects = services.batch_create(actor=officer, record_type=RecordType.PROJECT, department=finance, year=YEAR,
                                     title="2026年高标准农田建设项目资金分配")  # fmt: skip
    ProjectAllocation.objects.bulk_create(
        ProjectAllocation(
            batch=projects,
            program=farmland,
            project_name=f"{township}高标准农田建设项目（{number}期）",
            undertaking_body=f"示范县{township}人民政府",
            location=township,
            amount=Decimal(rng.randint(800, 3200) * 1000),
            allocated_on=datetime.date(YEAR, 3, 20),
        )  # fmt: skip
        for number, township in enumerate(("城关镇", "河口镇", "石桥镇", "杨河镇", "白沙乡", "青山乡"), start=1)
    )
    publish(projects)

    budgets = services.batch_create(actor=officer, record_type=RecordType.BUDGET, department=finance, year=YEAR,
                                    title="2026年部门预算公开")  # fmt: skip
    DepartmentBudget.objects.bulk_create(
        DepartmentBudget(
            batch=budgets,
            department=department,
            year=YEAR,
            basic_expenditure=Decimal(rng.randint(300, 3000) * 10000),
            project_expenditure=Decimal(rng.randint(100, 5000) * 10000),
            travel_abroad=Decimal(0),
            vehicle_purchase=Decimal(rng.choice((0, 0, 180000))),
            vehicle_running=Decimal(rng.randint(2, 30) * 10000),
            reception=Decimal(rng.randint(1, 8) * 10000),
        )  # fmt: skip
        for code, department in departments.items()
        if code not in ("county", "finance-budget")
    )
    publish(budgets)

    staffing = services.batch_create(actor=officer, record_type=RecordType.STAFFING, department=finance, year=YEAR,
                                     title="2026年机构编制和实名制信息")  # fmt: skip
    from shared.bigrams import bigrams

    maker = RowMaker(year=YEAR, seed=3)
    for name, unit_type, parent, admin_posts, institution, worker, leaders, actual in UNITS:
        unit = StaffingUnit.objects.create(
            batch=staffing, name=name, unit_type=unit_type, parent_name=parent, approved_administrative=admin_posts,
            approved_institution=institution, approved_worker=worker, leadership_posts=leaders, actual_staff=actual,
            name_bigrams=bigrams(name),
        )  # fmt: skip
        establishment = EstablishmentType.INSTITUTION if institution else EstablishmentType.ADMINISTRATIVE
        StaffMember.objects.bulk_create(
            StaffMember(
                batch=staffing,
                unit=unit,
                name=(person := maker.name()),
                post=rng.choice(POSTS),
                establishment_type=establishment,
                name_bigrams=bigrams(person),
            )  # fmt: skip
            for _ in range(min(actual, 8))
        )
    publish(staffing)

    admin = User.objects.get(username="admin")
    new = {
        "natural_person": 38,
        "business": 4,
        "research": 0,
        "public_interest": 1,
        "legal_services": 2,
        "other_org": 0,
    }
    carried = {
        "natural_person": 3,
        "business": 0,
        "research": 0,
        "public_interest": 0,
        "legal_services": 1,
        "other_org": 0,
    }
    disclosed = {
        "natural_person": 25,
        "business": 3,
        "research": 0,
        "public_interest": 1,
        "legal_services": 2,
        "other_org": 0,
    }
    partly = {
        "natural_person": 6,
        "business": 1,
        "research": 0,
        "public_interest": 0,
        "legal_services": 0,
        "other_org": 0,
    }
    unable = {
        "natural_person": 7,
        "business": 0,
        "research": 0,
        "public_interest": 0,
        "legal_services": 0,
        "other_org": 0,
    }
    forward = {
        "natural_person": 3,
        "business": 0,
        "research": 0,
        "public_interest": 0,
        "legal_services": 1,
        "other_org": 0,
    }
    annual_report_save(
        actor=admin, report=AnnualReport(year=YEAR - 1),
        section2={"rules": {"made": 1, "abolished": 0, "in_force": 6}, "normative": {"made": 9, "abolished": 3, "in_force": 41},
                  "licensing": {"decisions": 5230}, "penalty": {"decisions": 412}, "enforcement": {"decisions": 17},
                  "fees": {"amount": "126.4500"}},
        section3={"new": new, "carried_over": carried, "disclosed": disclosed, "partly": partly,
                  "unable_not_held": unable, "carried_forward": forward},
        section4={},
    )  # fmt: skip
    return Disbursement.objects.count()
