"""The admin's workflow buttons (submit, approve, publish, withdraw, ...), shared by articles, disclosure
batches and cases: a POST runs the action and says how it went. An action that needs a reason first shows
the reason form; an action with a `confirm` question (publish, withdraw, cancel, delete) first shows a
confirmation page naming what will happen, and runs only on that page's POST (no script needed)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# The confirmation page's POST carries this field; a POST without it (an old page, a stray form) only asks.
CONFIRMED = "confirmed"


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)


def next_url(request, default: str) -> str:
    """Where to go after the action: the page that asked for it (`next`, same site only), else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def workflow_action(model_admin, request, obj, *, run, label, needs_reason: bool, confirm: str = "", refusal=None):
    """`run(reason)` calls the service (reason is None when the action needs none); its
    PermissionDenied or ValidationError becomes an error message on the object's page.

    With `confirm`, a GET (or a POST without the confirmation field) shows the confirmation page and
    changes nothing; an action that needs a reason shows `confirm` on its reason form instead, since
    typing the reason and sending it is the confirmation. `refusal()` (the action's check) is asked before
    showing either page, so nobody types a reason or confirms what would be refused."""
    opts = model_admin.model._meta
    change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    back = next_url(request, change_url)
    form = ReasonForm(request.POST or None) if needs_reason else None
    confirmed = not confirm or needs_reason or request.POST.get(CONFIRMED) == "1"
    if request.method == "POST" and confirmed and (form is None or form.is_valid()):
        try:
            run(form.cleaned_data["reason"] if form is not None else None)
        except (PermissionDenied, ValidationError) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, gettext("Done: %(action)s.") % {"action": label})
        return redirect(back)
    if form is None and not confirm:
        return redirect(back)
    refused = refusal() if refusal is not None else ""
    if refused:
        messages.error(request, refused)
        return redirect(back)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "original": obj,
        "title": label,
        "form": form,
        "confirm": confirm,
        "next": back,
        "change_url": change_url,
        "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
    }
    template = "admin/reason_form.html" if form is not None else "admin/confirm_action.html"
    return TemplateResponse(request, template, context)


def run_action(model_admin, request, obj, action, **params):
    """An admin button for a `govcms.actions.Action`: the reason form or the confirmation page first when the
    action has one, then `action.execute(user, obj, **params)`; a refusal is shown on the object's page and
    changes nothing. When the action made a new object of the same model (a correction batch), the admin
    opens it."""
    made = []

    def run(reason):
        result = action.execute(request.user, obj, **params, **({"reason": reason} if action.needs_reason else {}))
        made.append(result)
        return result

    response = workflow_action(
        model_admin,
        request,
        obj,
        run=run,
        label=action.label,
        needs_reason=action.needs_reason,
        confirm=action.confirm,
        refusal=lambda: action.check(request.user, obj),
    )
    result = made[0] if made else None
    if isinstance(result, model_admin.model) and result.pk not in (None, obj.pk):
        opts = model_admin.model._meta
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[result.pk]))
    return response


class WorkflowButtonsMixin:
    """A ModelAdmin whose change page shows the buttons of `workflow_actions` (a `govcms.actions.Actions`): exactly
    `available(user, obj)`, for admin/_workflow_buttons.html with workflow_url "admin:<app>_<model>_workflow", and
    runs the one pressed with `run_action` at <pk>/workflow/<code>/ (refused unless the user may view the object).
    An admin adds to the change page's context in `workflow_context` and to an action's arguments in
    `workflow_params`."""

    workflow_actions = None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if obj is not None:
            extra_context.update(self.workflow_context(request, obj))
        return super().change_view(request, object_id, form_url, extra_context)

    def workflow_context(self, request, obj) -> dict:
        return {"workflow_buttons": self.workflow_actions.available(request.user, obj)}

    def workflow_params(self, request, obj, action) -> dict:
        """Keyword arguments of `action.execute` taken from the request (none by default)."""
        return {}

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<int:pk>/workflow/<str:action>/",
                self.admin_site.admin_view(self.workflow_view),
                name=f"{opts.app_label}_{opts.model_name}_workflow",
            ),
            *super().get_urls(),
        ]

    def workflow_view(self, request, pk, action):
        if action not in self.workflow_actions:
            raise PermissionDenied
        obj = self.get_object(request, str(pk))
        if obj is None or not self.has_view_permission(request, obj):
            raise PermissionDenied
        action = self.workflow_actions[action]
        return run_action(self, request, obj, action, **self.workflow_params(request, obj, action))
