"""What the public may see of each record type: the one place public pages and exports ask.

Administrators choose the public fields per record type (`PublicFields`); the defaults below
apply until they do. Identity numbers, their hashes and phone numbers are never public: they
are not in the allowed set, whatever is stored. A disbursement's identity number can be shown
only masked (4209**********1234), and only if an administrator adds "id_masked".

Recipients' names are masked (张*明) unless their fund programme publishes full names
(`FundProgram.full_names_public`, off by default): a list of a township's 低保 recipients must not be
one search away. Staff names are masked only when the record type's setting asks for it.
"""

import operator
from dataclasses import dataclass

from accounts.masking import mask_id_number, mask_name
from disclosure.models import (
    DepartmentBudget,
    Disbursement,
    FundProgram,
    ProjectAllocation,
    PublicFields,
    RecordType,
    StaffingUnit,
    StaffMember,
)

MODELS = {
    RecordType.DISBURSEMENT: Disbursement,
    RecordType.PROJECT: ProjectAllocation,
    RecordType.BUDGET: DepartmentBudget,
    RecordType.STAFFING: StaffingUnit,
    RecordType.STAFF_MEMBER: StaffMember,
}

# Fields that may be made public, in display order; anything else never leaves the admin.
ALLOWED: dict[str, tuple[str, ...]] = {
    RecordType.DISBURSEMENT: (
        "program",
        "recipient_name",
        "id_masked",
        "township",
        "village",
        "household_size",
        "amount",
        "paid_on",
        "paying_department",
    ),  # fmt: skip
    RecordType.PROJECT: ("program", "project_name", "undertaking_body", "location", "amount", "allocated_on"),
    RecordType.BUDGET: (
        "department",
        "year",
        "basic_expenditure",
        "project_expenditure",
        "travel_abroad",
        "vehicle_purchase",
        "vehicle_running",
        "reception",
    ),  # fmt: skip
    RecordType.STAFFING: (
        "name",
        "unit_type",
        "parent_name",
        "approved_administrative",
        "approved_institution",
        "approved_worker",
        "leadership_posts",
        "actual_staff",
    ),  # fmt: skip
    RecordType.STAFF_MEMBER: ("unit", "name", "post", "establishment_type"),
}

DEFAULTS: dict[str, tuple[str, ...]] = {
    **ALLOWED,
    # Even masked, identity numbers stay off the public pages until an administrator decides otherwise.
    RecordType.DISBURSEMENT: tuple(name for name in ALLOWED[RecordType.DISBURSEMENT] if name != "id_masked"),
}

# Fields holding a person's name: masked on public pages when the setting asks for it.
PERSON_NAME_FIELDS = {RecordType.DISBURSEMENT: "recipient_name", RecordType.STAFF_MEMBER: "name"}

NEVER_PUBLIC = frozenset({"id_number", "id_hash", "name_tail_hash", "phone", "name_bigrams"})
_GETTERS: dict[tuple, list] = {}


@dataclass(frozen=True)
class Visibility:
    record_type: str
    fields: tuple[str, ...]
    mask_names: bool
    # Disbursements only: the programmes whose recipients' full names are public (all others are masked).
    full_name_programs: frozenset[int] = frozenset()

    @property
    def names_by_program(self) -> bool:
        return self.record_type == RecordType.DISBURSEMENT and not self.mask_names

    def _public_name(self, record, name: str) -> str:
        value = getattr(record, name)
        if self.names_by_program and record.program_id in self.full_name_programs:
            return value
        return mask_name(value, keep_last=True)

    def labels(self) -> list[str]:
        model = MODELS[self.record_type]
        return [str(model._meta.get_field(name).verbose_name) for name in self.fields]

    def value(self, record, name: str):
        """The public value of one field: choices by label, names masked as configured."""
        if name in NEVER_PUBLIC or name not in self.fields:
            raise KeyError(name)
        if name == "id_masked":
            return record.id_masked
        field = record._meta.get_field(name)
        if field.choices:
            return getattr(record, f"get_{name}_display")()
        if self._masks(name):
            return self._public_name(record, name)
        return getattr(record, name)

    def reads(self, name: str) -> tuple[str, ...]:
        """Other fields the public value of `name` depends on (the query must load them too)."""
        return ("program",) if self._masks(name) and self.names_by_program else ()

    def _masks(self, name: str) -> bool:
        return PERSON_NAME_FIELDS.get(self.record_type) == name and (self.mask_names or self.names_by_program)

    def row(self, record) -> list:
        return [getter(record) for getter in self.getters(type(record))]

    def getters(self, model) -> list:
        """One function per public field giving its public value (what `value` computes), worked out
        once per model: a page renders hundreds of cells."""
        key = (model, self.fields, self.mask_names, self.full_name_programs)
        found = _GETTERS.get(key)
        if found is None:
            found = _GETTERS[key] = [self._getter(model, name) for name in self.fields]
        return found

    def _getter(self, model, name: str):
        if name in NEVER_PUBLIC:
            raise KeyError(name)
        if name == "id_masked":
            return operator.attrgetter("id_masked")
        field = model._meta.get_field(name)
        if field.choices:
            return operator.methodcaller(f"get_{name}_display")
        if self._masks(name):
            return lambda record: self._public_name(record, name)
        return operator.attrgetter(name)


def visibility_for(record_type: str) -> Visibility:
    setting = PublicFields.objects.filter(record_type=record_type).first()
    full_name_programs = frozenset()
    if record_type == RecordType.DISBURSEMENT:
        full_name_programs = frozenset(FundProgram.objects.filter(full_names_public=True).values_list("pk", flat=True))
    if setting is None:
        return Visibility(record_type, DEFAULTS[record_type], mask_names=False, full_name_programs=full_name_programs)
    allowed = ALLOWED[record_type]
    # Kept in the allowed order; anything not allowed (an identity number, say) is dropped.
    chosen = tuple(name for name in allowed if name in set(setting.fields))
    return Visibility(record_type, chosen, mask_names=setting.mask_names, full_name_programs=full_name_programs)


def masked_id(id_number: str) -> str:
    """The only form of an identity number that may leave the admin."""
    return mask_id_number(id_number)
