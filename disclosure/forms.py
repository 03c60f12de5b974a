"""The public search and filter forms. None carries a CSRF token: the public pages set no cookies,
and a search changes nothing. They are GET forms, except the lookup by name and identity-number
tail, which is posted so that the tail stays out of addresses, server logs and browser history
(on the shared computers of a village service centre, say)."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from disclosure import page_cache
from disclosure.models import BatchState, DisclosureBatch, FundKind, FundProgram, RecordType
from shared.captcha import CaptchaFormMixin

# Chinese characters: the basic block, extension A, the compatibility block and extensions B-G
# (many rural names use rare characters outside the basic block).
CHINESE_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
ID_TAIL = re.compile(r"\d{5}[\dX]")


def _year_choices(years) -> list[tuple[str, str]]:
    return [("", _("All years"))] + [(str(year), str(year)) for year in sorted(set(years), reverse=True)]


def _id_field(label, empty_label) -> forms.TypedChoiceField:
    """A choice of rows by id. Not a ModelChoiceField: that one reads its rows again through a
    server-side cursor on every render, three round trips on a page that should cost a few."""
    field = forms.TypedChoiceField(label=label, coerce=int, empty_value=None)
    field.empty_label = empty_label
    return field


def _set_rows(field, rows) -> None:
    field.choices = [("", field.empty_label)] + [(row.pk, str(row)) for row in rows]


class ProgramYearForm:
    """Programme and year choices of one kind of fund, from a single query."""

    def set_programs(self, kind: str) -> None:
        programs = page_cache.memoized(
            ("programs", kind), lambda: list(FundProgram.objects.filter(kind=kind).only("name", "year"))
        )
        _set_rows(self.fields["program"], programs)
        self.fields["year"].choices = _year_choices(program.year for program in programs)


class PublicForm(forms.Form):
    """Empty choices mean "all"; `narrowed()` says whether anything was asked. Labels stand above
    their fields, without the admin's colon."""

    def __init__(self, data=None, **kwargs):
        super().__init__(data, label_suffix="", **kwargs)
        for field in self.fields.values():
            field.required = False

    def narrowed(self, *names) -> bool:
        return self.is_valid() and any(self.cleaned_data.get(name) for name in names)


def clean_person_name(name: str) -> str:
    if not name:
        return name
    if not CHINESE_NAME.fullmatch(name):
        raise forms.ValidationError(_("Type the name in Chinese characters only, without spaces or punctuation."))
    if len(name) < 2:
        raise forms.ValidationError(
            _("Type at least two characters of the name: one character alone matches far too many people.")
        )
    if len(name) > 4:
        raise forms.ValidationError(_("Type at most four characters of the name."))
    return name


class FundSearchForm(ProgramYearForm, PublicForm):
    name = forms.CharField(label=_("Name (2-4 Chinese characters)"), strip=True)
    township = forms.CharField(label=_("Township"), max_length=50, strip=True)
    village = forms.CharField(label=_("Village"), max_length=50, strip=True)
    program = _id_field(_("Fund programme"), _("All programmes"))
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, empty_value=None)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.set_programs(FundKind.PERSONS)

    def clean_name(self):
        return clean_person_name(self.cleaned_data["name"])

    def searching(self) -> bool:
        return self.narrowed("name", "village", "township", "program")


class FundLookupForm(CaptchaFormMixin, forms.Form):
    """One's own records: the full name and the last six characters of the identity number, and the captcha
    (the offline one of the complaints forms): a script cannot try one tail after another."""

    prefix = "own"
    name = forms.CharField(label=_("Full name"), strip=True)
    id_tail = forms.CharField(label=_("Last six characters of the identity number"), strip=True)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, label_suffix="", **kwargs)

    def clean_name(self):
        return clean_person_name(self.cleaned_data["name"])

    def clean_id_tail(self):
        tail = self.cleaned_data["id_tail"].upper()
        if not ID_TAIL.fullmatch(tail):
            raise forms.ValidationError(
                _("The last six characters of an identity number are six digits, or five digits and an X.")
            )
        return tail


class CatalogueFilterForm(PublicForm):
    department = _id_field(_("Department"), _("All departments"))
    record_type = forms.ChoiceField(label=_("Record type"), choices=[("", _("All record types")), *RecordType.choices])
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, empty_value=None)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        published = DisclosureBatch.objects.filter(state=BatchState.PUBLISHED)
        departments = Department.objects.filter(pk__in=published.values("department_id")).order_by("path")
        _set_rows(self.fields["department"], departments.only("name"))
        self.fields["year"].choices = _year_choices(published.values_list("year", flat=True))


class ProjectFilterForm(ProgramYearForm, PublicForm):
    program = _id_field(_("Fund programme"), _("All programmes"))
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, empty_value=None)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.set_programs(FundKind.PROJECTS)


class BudgetFilterForm(PublicForm):
    department = _id_field(_("Department"), _("All departments"))
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, empty_value=None)

    def __init__(self, data=None, budgets=None, **kwargs):
        super().__init__(data, **kwargs)
        departments = Department.objects.filter(pk__in=budgets.values("department_id")).order_by("path")
        _set_rows(self.fields["department"], departments.only("name"))
        self.fields["year"].choices = _year_choices(budgets.values_list("year", flat=True))


class StaffingSearchForm(PublicForm):
    q = forms.CharField(label=_("Unit or staff name"), max_length=50, strip=True)

    def clean_q(self):
        term = "".join(self.cleaned_data["q"].split())
        if term and len(term) < 2:
            raise forms.ValidationError(_("Type at least two characters."))
        return term
