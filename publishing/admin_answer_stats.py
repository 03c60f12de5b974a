"""The answer library's statistics page in the admin (口径库统计): the figures of publishing.answer_stats over
the WeChat accounts of the person's departments, with a date range and an account to choose, and a link from
each frequent unanswered question to a new library entry prefilled with it.

publishing.admin wires the view into the channel accounts' admin URLs (admin:publishing_answer_statistics)
behind admin_view; the view checks that the person may read the answer library, which is whose page it is.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.scoping import scope_to_department
from answers.models import AnswerEntry
from publishing import answer_stats
from publishing.health import shanghai_today
from publishing.models import ChannelAccount, Platform

PERMISSION = "answers.view_answerentry"
DEFAULT_DAYS = 14
# A year of days per account is the longest table still worth reading on one page.
MAX_DAYS = 366
# The longest standard question and exact keyword the library's entry holds.
QUESTION_MAX = AnswerEntry._meta.get_field("question").max_length
KEYWORD_MAX = AnswerEntry._meta.get_field("exact_keywords").base_field.max_length


def _date_field(label):
    # <input type="date"> takes only ISO dates; the Chinese locale's first format (2026/12/01) would leave it empty.
    return forms.DateField(label=label, required=False, widget=forms.DateInput({"type": "date"}, "%Y-%m-%d"))


class AnswerStatisticsForm(forms.Form):
    first = _date_field(_("From date"))
    last = _date_field(_("To date"))
    account = forms.ModelChoiceField(label=_("account"), required=False, queryset=None, empty_label=_("All accounts"))

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        today = shanghai_today()
        last = cleaned.get("last") or today
        first = cleaned.get("first") or last - timedelta(days=DEFAULT_DAYS - 1)
        if last < first:
            raise forms.ValidationError(gettext("The end date is before the start date."))
        if (last - first).days >= MAX_DAYS:
            raise forms.ValidationError(gettext("Choose a period of at most a year."))
        cleaned["first"], cleaned["last"] = first, last
        return cleaned


def wechat_accounts_for(user):
    """The WeChat accounts of the person's departments (all of them for an administrator)."""
    return scope_to_department(ChannelAccount.objects.filter(platform=Platform.WECHAT), user).order_by("name", "pk")


def add_entry_url(question: answer_stats.Question) -> str:
    """The library's add page, its standard question and exact keyword filled in with the question."""
    query = {"question": question.text[:QUESTION_MAX]}
    # The keywords field is a comma-separated list: a comma inside the question would split it in two, and
    # the matcher ignores punctuation anyway.
    keyword = question.text.replace(",", " ")
    if len(keyword) <= KEYWORD_MAX:
        query["exact_keywords"] = keyword
    return reverse("admin:answers_answerentry_add") + "?" + urlencode(query)


def statistics_view(request):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    accounts = wechat_accounts_for(request.user)
    today = shanghai_today()
    data = request.GET or {"first": today - timedelta(days=DEFAULT_DAYS - 1), "last": today}
    form = AnswerStatisticsForm(data, accounts=accounts)
    context = {
        **admin.site.each_context(request),
        "opts": AnswerEntry._meta,  # the answer library's page, under its name
        "title": gettext("Answer statistics"),
        "form": form,
        "has_accounts": accounts.exists(),
        "can_add_entry": request.user.has_perm("answers.add_answerentry"),
        "shown": False,
    }
    if form.is_valid():
        cleaned = form.cleaned_data
        chosen = accounts.filter(pk=cleaned["account"].pk) if cleaned.get("account") else accounts
        lines = answer_stats.daily_figures(chosen, cleaned["first"], cleaned["last"])
        questions = answer_stats.unanswered_questions(chosen, cleaned["first"], cleaned["last"])
        context.update(
            shown=True,
            first=cleaned["first"],
            last=cleaned["last"],
            lines=lines,
            total=answer_stats.total_of(lines),
            questions=[(question, add_entry_url(question)) for question in questions],
        )
    return TemplateResponse(request, "admin/publishing/answer_statistics.html", context)
