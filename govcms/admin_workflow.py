"""The admin's workflow buttons (submit, approve, publish, withdraw, ...), shared by articles and
disclosure batches: a POST runs the service and says how it went; an action that needs a reason
first shows the reason form."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)


def workflow_action(model_admin, request, obj, *, run, label, needs_reason: bool):
    """`run(reason)` calls the service (reason is None when the action needs none); its
    PermissionDenied or ValidationError becomes an error message on the object's page."""
    opts = model_admin.model._meta
    change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    form = ReasonForm(request.POST or None) if needs_reason else None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            run(form.cleaned_data["reason"] if form is not None else None)
        except (PermissionDenied, ValidationError) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, gettext("Done: %(action)s.") % {"action": label})
        return redirect(change_url)
    if form is None:
        return redirect(change_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "original": obj,
        "title": label,
        "form": form,
        "change_url": change_url,
        "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
    }
    return TemplateResponse(request, "admin/reason_form.html", context)


def run_action(model_admin, request, obj, action, **params):
    """An admin button for a `govcms.actions.Action`: the reason form first when the action needs one,
    then `action.execute(user, obj, **params)`; a refusal is shown on the object's page and changes
    nothing. When the action made a new object of the same model (a correction batch), the admin
    opens it."""
    made = []

    def run(reason):
        result = action.execute(request.user, obj, **params, **({"reason": reason} if action.needs_reason else {}))
        made.append(result)
        return result

    response = workflow_action(model_admin, request, obj, run=run, label=action.label, needs_reason=action.needs_reason)
    result = made[0] if made else None
    if isinstance(result, model_admin.model) and result.pk not in (None, obj.pk):
        opts = model_admin.model._meta
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[result.pk]))
    return response
