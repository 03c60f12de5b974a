"""The admin's left menu by task and role (settings.UNFOLD["SIDEBAR"]["navigation"] names these callables).

Each item shows for the roles (groups) whose work it is, and, where it opens a list, only with the permission
that list needs. Badges count the rows the linked list shows: the list's own queryset (its ModelAdmin, so the
same department scoping) narrowed by the same filter function the list uses, one COUNT each, once per request
(on the workbench, the section holding the same rows has counted them already: govcms.workbench.count_once, keyed
by the badge function's name).
"""

from urllib.parse import parse_qs, urlsplit

from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from accounts import roles
from govcms.workbench import count_once

REVIEWERS = {roles.REVIEWER}
EDITORS = {roles.EDITOR}
DISCLOSERS = {roles.DISCLOSURE_OFFICER}
HANDLERS = {roles.DEPARTMENT_HANDLER, roles.COMPLAINT_REGISTRAR}
HEADS = {roles.COMPLAINT_REVIEWER}


def _roles(request) -> set[str]:
    if not hasattr(request, "_govcms_roles"):
        request._govcms_roles = set(request.user.groups.values_list("name", flat=True))
    return request._govcms_roles


def _has(request, groups, permission: str) -> bool:
    return bool(_roles(request) & groups) and request.user.has_perm(permission)


def _count(request, key: str, rows) -> str:
    """One COUNT per badge and request; "" for none (the menu then shows no badge)."""
    count = count_once(request, key, lambda: rows().count())
    return str(count) if count else ""


def _list_queryset(request, model):
    return admin.site.get_model_admin(model).get_queryset(request)


# -- who sees which item --------------------------------------------------------------------------------------


def is_editor(request) -> bool:
    return _has(request, EDITORS, "content.add_article")


def is_scheduler(request) -> bool:
    return _has(request, EDITORS, "publishing.view_schedule")


def is_answer_keeper(request) -> bool:
    """Editors write the answer library's entries, reviewers approve them."""
    return _has(request, EDITORS | REVIEWERS, "answers.view_answerentry")


def is_reviewer(request) -> bool:
    return _has(request, REVIEWERS, "content.review_article")


def is_discloser(request) -> bool:
    return _has(request, DISCLOSERS, "disclosure.view_disclosurebatch")


def is_importer(request) -> bool:
    return _has(request, DISCLOSERS, "disclosure.add_disbursement")


def is_report_writer(request) -> bool:
    return _has(request, DISCLOSERS, "disclosure.view_annualreport")


def is_handler(request) -> bool:
    return _has(request, HANDLERS, "complaints.view_case")


def is_head(request) -> bool:
    return _has(request, HEADS, "complaints.view_case")


def is_account_manager(request) -> bool:
    return _has(request, roles.ADMINISTRATOR_ROLES, "accounts.view_user")


def is_auditor(request) -> bool:
    return _has(request, roles.ADMINISTRATOR_ROLES, "accounts.view_auditlog")


def is_channel_manager(request) -> bool:
    return _has(request, roles.ADMINISTRATOR_ROLES, "publishing.change_wechatmenu")


# -- links that depend on the person ------------------------------------------------------------------------------


def my_articles_link(request) -> str:
    try:
        return reverse("admin:content_article_changelist", query={"created_by__id__exact": request.user.pk})
    except NoReverseMatch:  # a test's own admin site without articles
        return ""


# -- badges -------------------------------------------------------------------------------------------------------


def articles_waiting_for_review(request) -> str:
    from content.admin_work import WAITING, review_work
    from content.models import Article

    return _count(
        request,
        "articles_waiting_for_review",
        lambda: review_work(_list_queryset(request, Article), request.user, WAITING),
    )


def _cases(request, badge: str, key: str) -> str:
    from complaints.admin_work import case_work
    from complaints.models import Case

    return _count(request, badge, lambda: case_work(_list_queryset(request, Case), request.user, key))


def cases_to_do(request) -> str:
    from complaints.admin_work import TO_DO

    return _cases(request, "cases_to_do", TO_DO)


def cases_to_approve(request) -> str:
    from complaints.admin_work import APPROVE

    return _cases(request, "cases_to_approve", APPROVE)


def cases_due_soon(request) -> str:
    from complaints.admin import due_soon_limit
    from complaints.models import Case
    from complaints.selectors import due_soon_cases

    def rows():
        # The same rows as the list's deadline filter (complaints.admin.DeadlineFilter, "due_soon").
        today, soon = due_soon_limit(request)
        return due_soon_cases(_list_queryset(request, Case), today=today, until=soon)

    return _count(request, "cases_due_soon", rows)


def link_is_active(request, link) -> bool:
    """The menu item for the page shown: a list link with a query (待办件 = ?work=todo) only on that filtered
    list, one without (公开批次) on every page under its path. (unfold's own rule ignores the query, so all
    three of 待办件 / 即将到期 / 已办结 lit up together.)"""
    link = str(link(request) if callable(link) else link)
    if not link:
        return False
    url = urlsplit(link)
    if url.query:
        wanted = parse_qs(url.query)
        return request.path == url.path and all(request.GET.getlist(key) == value for key, value in wanted.items())
    return request.path.startswith(url.path)
