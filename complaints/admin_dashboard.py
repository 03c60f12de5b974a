"""The workbench's citizens' messages (govcms/workbench.py) for the person logged in, within the cases they may see:
what waits for them (to route; newly assigned, being drafted, reply sent back; replies and extensions to approve),
what is overdue or about to be, and on the 已办 tab the replies they wrote or reviewed that went out. "Waits for me"
is what the action's own `check` allows (complaints.actions.waiting_for, counted by the database), so a list never
offers a case whose button the case page would not show."""

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext

from complaints import actions, selectors, workdays
from complaints.models import CaseState, ReplyDraft
from govcms.workbench import DONE, TO_DO, TOP, Card, Row, Section, active_tab, panel, section

Draft = ReplyDraft.State


def _row(case, **more) -> Row:
    return Row(
        url=reverse("admin:complaints_case_change", args=[case.pk]),
        title=f"{case.number} {case.subject}",
        details=[str(case.department or "—")],
        due=case.due_date,
        **more,
    )


def _sent_back_row(case) -> Row:
    draft = actions.current_draft(case)
    return _row(case, note=draft.review_comment if draft else "", note_by=str(draft.reviewer or "") if draft else "",
                since=draft.reviewed_at if draft else None)  # fmt: skip


def _waiting(user, action, scope, key: str, title: str, *, url: str, shown: bool, row=_row) -> Section | None:
    """The cases on which the action's own check lets this user act now (oldest deadline first); their rows are
    read in the same call when the 待办 tab is `shown`, else only counted."""
    if action.permission and not user.has_perm(action.permission):
        return None
    ordered = scope.select_related("department").order_by("due_date", "id")
    count, cases = actions.waiting_for(user, action, ordered, first=TOP if shown else 0)
    return Section(key, title, count, [row(case) for case in cases], url=url)


def cases_panel(request):
    """One group with a section per kind of work; None for people who see no cases."""
    user = request.user
    if not user.has_perm("complaints.view_case"):
        return None
    scope = selectors.cases_for(user)
    changelist = reverse("admin:complaints_case_changelist")
    today = workdays.shanghai_today()
    shown = active_tab(request) == TO_DO
    sent_back = Exists(ReplyDraft.objects.filter(case=OuterRef("pk"), state=Draft.DRAFT, reviewed_at__isnull=False))
    drafting = scope.filter(state=CaseState.DRAFTING)
    sections = [
        _waiting(user, actions.ROUTE, scope, "to_route", gettext("Received messages waiting to be routed"),
                 url=f"{changelist}?work=todo&state__exact={CaseState.RECEIVED}", shown=shown),
        _waiting(user, actions.REPLY, scope.filter(state=CaseState.ASSIGNED), "assigned", gettext("Newly assigned"),
                 url=f"{changelist}?work=todo&state__exact={CaseState.ASSIGNED}", shown=shown),
        _waiting(user, actions.REPLY, drafting.exclude(sent_back), "drafting", gettext("Reply being drafted"),
                 url=f"{changelist}?work=todo&state__exact={CaseState.DRAFTING}", shown=shown),
        _waiting(user, actions.REPLY, drafting.filter(sent_back), "sent_back", gettext("Reply sent back"),
                 url=f"{changelist}?work=todo&state__exact={CaseState.DRAFTING}", shown=shown, row=_sent_back_row),
        _waiting(user, actions.APPROVE, scope, "to_review", gettext("Replies waiting for my review"),
                 url=f"{changelist}?work=approve&state__exact={CaseState.REPLY_IN_REVIEW}", shown=shown),
        _waiting(user, actions.EXTENSION_APPROVE, scope, "extensions", gettext("Extensions waiting for my approval"),
                 url=f"{changelist}?work=approve", shown=shown),
    ]  # fmt: skip
    overdue = section(
        "overdue",
        gettext("Overdue"),
        selectors.overdue_cases(scope, today=today).select_related("department").order_by("due_date", "id"),
        lambda case: _row(case, alarm=True),
        url=f"{changelist}?deadline=overdue",
        alarm=True,
        in_total=False,
    )
    due_soon = section(
        "due_soon",
        gettext("Due within %(days)s working days") % {"days": selectors.DUE_SOON_WORKDAYS},
        selectors.due_soon_cases(scope, workdays_ahead=selectors.DUE_SOON_WORKDAYS, today=today)
        .select_related("department")
        .order_by("due_date", "id"),
        _row,
        url=f"{changelist}?deadline=due_soon",
        in_total=False,
        badge="cases_due_soon",  # the same rows: govcms.navigation counts them no more
    )
    sections += [overdue, due_soon]
    if user.has_perm("complaints.handle_case"):
        wrote = Exists(ReplyDraft.objects.filter(case=OuterRef("pk"), author=user, state=Draft.APPROVED))
        sections.append(
            section(
                "replied",
                gettext("Replies I wrote that went out"),
                scope.filter(wrote).select_related("department").order_by("-replied_at", "-id"),
                lambda case: _row(case, since=case.replied_at),
                tab=DONE,
                url=f"{changelist}?work=done",
            )  # fmt: skip
        )
    if user.has_perm("complaints.review_reply"):
        reviewed = Exists(ReplyDraft.objects.filter(case=OuterRef("pk"), reviewer=user))
        sections.append(
            section(
                "reviewed",
                gettext("Replies I reviewed"),
                scope.filter(reviewed).select_related("department").order_by("-replied_at", "-id"),
                lambda case: _row(case, since=case.replied_at),
                tab=DONE,
            )  # fmt: skip
        )
    cards = [Card("overdue", gettext("Overdue cases"), overdue.count, url=overdue.url, alarm=bool(overdue.count))]
    return panel("cases", gettext("Citizen messages"), sections, cards)
