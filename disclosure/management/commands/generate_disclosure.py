import time
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Department
from disclosure import sample_data
from disclosure.models import FundKind, FundProgram


class Command(BaseCommand):
    help = (
        "Write a realistic file of fund disbursements to persons/households (到人到户) in the import's format, "
        "streamed row by row (a million csv rows take seconds and little memory)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, required=True, help="data rows below the header row")
        parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
        parser.add_argument("--out", help="file to write (default: var/disclosure-<rows>.<format>)")
        parser.add_argument("--year", type=int, default=2026, help="year of the payments and the programmes")
        parser.add_argument("--invalid-percent", type=float, default=0.0,
                            help="share of rows with one deliberate mistake each, of every kind the import rejects")  # fmt: skip
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--encoding", choices=("utf-8-sig", "utf-8", "gb18030"), default="utf-8-sig",
                            help="csv only; utf-8-sig (with BOM) is what Excel opens correctly")  # fmt: skip
        parser.add_argument("--correction-column", action="store_true",
                            help="add the empty optional column 更正记录编号")  # fmt: skip
        parser.add_argument("--create-programmes", action="store_true",
                            help="also create the file's fund programmes for --year, so the file imports")  # fmt: skip
        parser.add_argument("--department", help="code of the department owning the created programmes")

    def handle(self, *args, **options):
        if options["rows"] < 0:
            raise CommandError("--rows must be 0 or more")
        if options["create_programmes"]:
            self.create_programmes(options["year"], options["department"])
        fmt = options["format"]
        out = Path(options["out"] or f"var/disclosure-{options['rows']}.{fmt}")
        started = time.monotonic()
        spoilt = sample_data.write_file(
            out, rows=options["rows"], fmt=fmt, year=options["year"], invalid_percent=options["invalid_percent"],
            seed=options["seed"], encoding=options["encoding"], correction_column=options["correction_column"],
        )  # fmt: skip
        self.stdout.write(
            f"Wrote {out}: {options['rows']} rows ({spoilt} with a deliberate mistake) "
            f"in {time.monotonic() - started:.1f} s."
        )

    @transaction.atomic
    def create_programmes(self, year: int, code: str | None):
        if not code:
            raise CommandError("--create-programmes needs --department CODE")
        department = Department.objects.filter(code=code).first()
        if department is None:
            raise CommandError(f"No department with code {code!r}")
        created = 0
        for name, _payer, _low, high in sample_data.PROGRAMMES:
            _program, new = FundProgram.objects.get_or_create(
                name=name, year=year,
                defaults={"department": department, "kind": FundKind.PERSONS, "total_amount": Decimal(high) * 100_000},
            )  # fmt: skip
            created += new
        self.stdout.write(
            f"Fund programmes of {year}: {created} created, {len(sample_data.PROGRAMMES) - created} existed."
        )
