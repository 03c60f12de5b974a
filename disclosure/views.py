"""The public disclosure pages: the guide, the catalogue of published batches, and the record searches.

Like the portal's pages they never touch the session or the CSRF token (the searches are GET forms;
the one posted form, the lookup of one's own records, is exempt: see `funds`), so they set no
cookies and no `Vary: Cookie`. They show only published, current records (`public_records`), only
the fields the administrators made public (`visibility_for`), with recipients' names masked unless
their programme publishes full names; identity numbers are never loaded. The searches over personal
records are rate-limited per client IP.

The lookup of one's own records (full name + last six characters of the identity number) would confirm
someone else's digits one guess at a time: it has its own page, never cached, with the captcha, a limit
per client IP and a limit per name on lookups that found nothing (a name guessed at from many addresses).
"""

import math

from django.conf import settings
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from accounts.crypto import keyed_hash
from disclosure import forms, page_cache, selectors
from disclosure.models import (
    DepartmentBudget,
    ProjectAllocation,
    RecordType,
    StaffingUnit,
    StaffMember,
)
from disclosure.page_cache import cached_page
from disclosure.services import name_tail_hash
from disclosure.visibility import visibility_for
from govcms.paginators import EstimatedCountPaginator
from shared import ratelimit
from shared.client_ip import client_ip
from shared.ratelimit import rate_limited

PAGE_SIZE = 20
LOOKUP_SIZE = 100
LOOKUP_NAME_PURPOSE = "disclosure-lookup-name-limit"

search_rate_limited = rate_limited(
    "disclosure-search", limit_setting="DISCLOSURE_SEARCH_RATE", window_setting="DISCLOSURE_SEARCH_RATE_WINDOW"
)

# Related rows shown by name, and the columns their names need.
RELATED = {
    "program": ("name", "year"),
    "department": ("name",),
    "unit": ("name",),
}

# Sums shown next to the stored figures, when every figure they add up is public.
SUMS = {
    RecordType.BUDGET: [
        (_("Total budget"), "total", {"basic_expenditure", "project_expenditure"}),
        (
            _("“Three public” expenses in total"),
            "three_public",
            {"travel_abroad", "vehicle_purchase", "vehicle_running", "reception"},
        ),
    ],
    RecordType.STAFFING: [
        (
            _("Approved posts in total"),
            "approved_total",
            {"approved_administrative", "approved_institution", "approved_worker"},
        ),
    ],
}


def _render(request, template: str, section: str, context: dict, *, status: int = 200):
    return TemplateResponse(request, template, {"section": section, **context}, status=status)


def _query_prefix(request) -> str:
    """The query string without the page number, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    encoded = query.urlencode()
    return f"{encoded}&" if encoded else ""


# The public fields a record's card shows on a phone, in order; the first is the card's title.
CARD_FIELDS = {
    RecordType.DISBURSEMENT: ("recipient_name", "amount", "program", "township", "village", "paid_on"),
}


class Table:
    """A page of records as the public sees them: headings, and per row its cells and correction date;
    for the record types with cards, per row the (label, value) pairs of its card."""

    def __init__(self, visibility, page):
        record_type = visibility.record_type
        sums = [(label, attr) for label, attr, needs in SUMS.get(record_type, []) if needs <= set(visibility.fields)]
        labels = visibility.labels()
        self.headings = labels + [str(label) for label, _attr in sums]
        shown = [
            visibility.fields.index(name) for name in CARD_FIELDS.get(record_type, ()) if name in visibility.fields
        ]
        self.has_cards = bool(shown)
        self.rows = []
        for record in page.object_list:
            cells = visibility.row(record)
            self.rows.append(
                {
                    "cells": cells + [getattr(record, attr) for _label, attr in sums],
                    "card": [(labels[i], cells[i]) for i in shown],
                    "corrected_at": record.corrected_at,
                }
            )


class PublicPaginator(EstimatedCountPaginator):
    # A citizen needs the exact count of a small result; "about 4,800" is as useful as the exact
    # figure for a common name, and counting it exactly would cost more than the page itself.
    exact_below = 1000


def _table(records, record_type: str, page_number, paginator=PublicPaginator, page_size=PAGE_SIZE):
    """One page of the records as a Table, loading only the public columns."""
    visibility = page_cache.memoized(("visibility", record_type), lambda: visibility_for(record_type))
    records = selectors.for_public_display(records, visibility, related=RELATED)
    page = paginator(records, page_size).get_page(page_number)
    return page, Table(visibility, page)


@require_safe
def guide(request):
    return _render(request, "disclosure/guide.html", "guide", {"record_types": RecordType.choices})


@require_safe
@cached_page
def catalogue(request):
    form = forms.CatalogueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    batches = selectors.catalogue_batches(
        department_id=filters.get("department"), record_type=filters.get("record_type", ""), year=filters.get("year")
    )
    page = Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.batch_record_counts(page.object_list)
    entries = [(batch, counts[batch.pk]) for batch in page.object_list]
    context = {"form": form, "page": page, "entries": entries, "query_prefix": _query_prefix(request)}
    return _render(request, "disclosure/catalogue.html", "catalogue", context)


@require_safe
@search_rate_limited
@cached_page
def funds(request):
    """The search by name part, place and programme (names shown masked unless the programme says otherwise)."""
    search = forms.FundSearchForm(request.GET or None)
    table = page = None
    if search.searching():
        data = search.cleaned_data
        records = selectors.public_disbursements(
            name=data["name"], village=data["village"], township=data["township"], program_id=data["program"],
            year=data["year"],
        )  # fmt: skip
        page, table = _table(records, RecordType.DISBURSEMENT, request.GET.get("page"))
    context = {
        "form": search, "page": page, "table": table, "query_prefix": _query_prefix(request),
        "asked": search.is_bound and search.is_valid() and not search.searching(),
    }  # fmt: skip
    return _render(request, "disclosure/funds.html", "funds", context)


def _lookup_name_key(name: str) -> str:
    # Keyed, so the limiter's keys in Redis do not list the names people looked up.
    return f"disclosure-lookup-name:{keyed_hash(name, purpose=LOOKUP_NAME_PURPOSE)}"


def _lookup_refusal(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return gettext("There have been too many lookups. Please wait about %(minutes)s minutes, then try again.") % {
        "minutes": minutes
    }


@never_cache  # the answer holds someone's records: no shared cache keeps it
@require_http_methods(["GET", "POST"])
# A lookup changes nothing and its answer goes only to whoever asked, so a forged cross-site post
# gains nothing; a CSRF token would need a cookie, which the public pages never set.
@csrf_exempt
def funds_own(request):
    """The lookup of one's own records by full name and the last six characters of the identity number."""
    window = settings.DISCLOSURE_LOOKUP_WINDOW
    lookup = forms.FundLookupForm()
    table = page = wait = None
    if request.method == "POST":
        address = client_ip(request) or "unknown"
        if not ratelimit.hit(f"disclosure-lookup-ip:{address}", settings.DISCLOSURE_LOOKUP_RATE_PER_IP, window):
            # Shown again unvalidated: the captcha is not spent on a refused request.
            lookup = forms.FundLookupForm(initial={"name": request.POST.get("own-name", "")})
            wait = ratelimit.seconds_left(window)
        else:
            lookup = forms.FundLookupForm(request.POST)
        if wait is None and lookup.is_valid():
            name = lookup.cleaned_data["name"]
            name_key = _lookup_name_key(name)
            # Refused before anything is looked up: past the limit a right tail looks exactly like a wrong one.
            if ratelimit.count(name_key, window) >= settings.DISCLOSURE_LOOKUP_FAILURES_PER_NAME:
                wait = ratelimit.seconds_left(window)
            else:
                tail_hash = name_tail_hash(name, lookup.cleaned_data["id_tail"])
                records = selectors.public_disbursements(name=name, name_tail_hash=tail_hash)
                # One page holds a person's records of several years: there is no pager for a posted form.
                page, table = _table(records, RecordType.DISBURSEMENT, 1, page_size=LOOKUP_SIZE)
                if not table.rows:
                    ratelimit.hit(name_key, settings.DISCLOSURE_LOOKUP_FAILURES_PER_NAME, window)
            lookup = forms.FundLookupForm(initial={"name": name})  # a new captcha for the next lookup
    context = {"lookup": lookup, "page": page, "table": table, "refusal": _lookup_refusal(wait) if wait else ""}
    response = _render(request, "disclosure/funds_own.html", "funds", context, status=429 if wait else 200)
    if wait:
        response["Retry-After"] = str(wait)
    return response


@require_safe
@cached_page
def projects(request):
    form = forms.ProjectFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    records = selectors.filter_program_year(
        selectors.public_records_memoized(ProjectAllocation, RecordType.PROJECT),
        program_id=filters.get("program"),
        year=filters.get("year"),
    )
    page, table = _table(records, RecordType.PROJECT, request.GET.get("page"))
    context = {"form": form, "page": page, "table": table,
               "query_prefix": _query_prefix(request)}  # fmt: skip
    return _render(request, "disclosure/projects.html", "projects", context)


@require_safe
@cached_page
def budgets(request):
    budgets = selectors.public_records_memoized(DepartmentBudget, RecordType.BUDGET)
    form = forms.BudgetFilterForm(request.GET or None, budgets=budgets)
    filters = form.cleaned_data if form.is_valid() else {}
    if filters.get("department"):
        budgets = budgets.filter(department_id=filters["department"])
    if filters.get("year"):
        budgets = budgets.filter(year=filters["year"])
    page, table = _table(budgets, RecordType.BUDGET, request.GET.get("page"))
    context = {"form": form, "page": page, "table": table,
               "query_prefix": _query_prefix(request)}  # fmt: skip
    return _render(request, "disclosure/budgets.html", "budgets", context)


@require_safe
@search_rate_limited
@cached_page
def staffing(request):
    form = forms.StaffingSearchForm(request.GET or None)
    term = form.cleaned_data["q"] if form.is_valid() else ""
    units = selectors.public_records_memoized(StaffingUnit, RecordType.STAFFING)
    members_table = None
    if term:
        units = units.filter(selectors.bigram_match(term))
        members = selectors.public_records_memoized(StaffMember, RecordType.STAFF_MEMBER).filter(
            selectors.bigram_match(term)
        )
        # Staff found are listed on one page (the pager is the units'): a name narrows them enough.
        members_page, members_table = _table(members, RecordType.STAFF_MEMBER, 1)
        members_table.total = members_page.paginator.count
    page, table = _table(units, RecordType.STAFFING, request.GET.get("page"))
    context = {"form": form, "term": term, "page": page, "table": table,
               "members": members_table, "query_prefix": _query_prefix(request)}  # fmt: skip
    return _render(request, "disclosure/staffing.html", "staffing", context)
