"""The workbench's disclosure batches (govcms/workbench.py): a reviewer's batches waiting for approval; an officer's
running imports, batches sent back with the reviewer's comment and drafts; the 已办 tab shows the officer's batches
waiting for review or published and the reviewer's decisions. "May act on now" is an action's candidates
(disclosure/actions.py), counted in SQL."""

from django.urls import reverse
from django.utils.translation import gettext

from accounts.scoping import departments_for
from disclosure.actions import EDIT, PUBLISH
from disclosure.models import BatchState, DisclosureBatch
from govcms.workbench import DONE, Row, panel, section, waiting


def _row(batch, **more) -> Row:
    return Row(
        url=reverse("admin:disclosure_disclosurebatch_change", args=[batch.pk]),
        title=batch.title,
        details=[str(batch.department), batch.get_record_type_display()],
        **more,
    )


def _importing_row(batch) -> Row:
    row = _row(batch, since=batch.import_started_at or batch.created_at)
    row.details.append(gettext("%(rows)s rows read") % {"rows": batch.rows_read})
    return row


def _returned_row(batch) -> Row:
    return _row(batch, note=batch.review_comment, note_by=str(batch.reviewed_by or ""), since=batch.submitted_at)


def _reviewed_row(batch) -> Row:
    row = _row(batch, note=batch.review_comment, since=batch.published_at or batch.submitted_at)
    row.details.append(batch.get_state_display())
    return row


def disclosure_panel(request):
    user = request.user
    if not user.has_perm("disclosure.view_disclosurebatch"):
        return None
    changelist = reverse("admin:disclosure_disclosurebatch_changelist")
    batches = DisclosureBatch.objects.filter(department__in=departments_for(user)).select_related(
        "department", "reviewed_by"
    )
    sections = [
        waiting("to_review", gettext("Batches waiting for my review"), PUBLISH, user,
                batches.order_by("submitted_at", "id"), lambda b: _row(b, since=b.submitted_at),
                url=f"{changelist}?state__exact={BatchState.SUBMITTED}"),
    ]  # fmt: skip
    if user.has_perm(EDIT.permission):
        sections += [
            section("importing", gettext("Imports running"), batches.filter(state=BatchState.IMPORTING)
                    .order_by("-created_at", "-id"), _importing_row,
                    url=f"{changelist}?state__exact={BatchState.IMPORTING}"),
            section("import_failed", gettext("Imports failed"), batches.filter(state=BatchState.IMPORT_FAILED)
                    .order_by("-created_at", "-id"), lambda b: _row(b, note=b.import_error, since=b.created_at),
                    url=f"{changelist}?state__exact={BatchState.IMPORT_FAILED}", alarm=True),
            waiting("returned", gettext("Batches sent back"), EDIT, user,
                    batches.filter(state=BatchState.REJECTED).order_by("-submitted_at", "-id"), _returned_row,
                    url=f"{changelist}?state__exact={BatchState.REJECTED}"),
            waiting("drafts", gettext("Draft batches"), EDIT, user,
                    batches.filter(state=BatchState.DRAFT).order_by("-created_at", "-id"),
                    lambda b: _row(b, since=b.created_at), url=f"{changelist}?state__exact={BatchState.DRAFT}"),
            section("submitted", gettext("Submitted, waiting for review"), batches.filter(
                    state=BatchState.SUBMITTED, created_by=user).order_by("-submitted_at", "-id"),
                    lambda b: _row(b, since=b.submitted_at), tab=DONE,
                    url=f"{changelist}?state__exact={BatchState.SUBMITTED}&created_by={user.pk}"),
            section("published", gettext("Published"), batches.filter(state=BatchState.PUBLISHED, created_by=user)
                    .order_by("-published_at", "-id"), lambda b: _row(b, since=b.published_at), tab=DONE,
                    url=f"{changelist}?state__exact={BatchState.PUBLISHED}&created_by={user.pk}"),
        ]  # fmt: skip
    if user.has_perm(PUBLISH.permission):
        sections.append(
            section(
                "reviewed",
                gettext("Reviewed by me"),
                batches.filter(reviewed_by=user).order_by("-published_at", "-id"),
                _reviewed_row,
                tab=DONE,
                url=f"{changelist}?reviewed_by={user.pk}",
            )  # fmt: skip
        )
    return panel("disclosure", gettext("Disclosure batches"), sections)
