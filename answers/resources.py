"""The answer library as an xlsx sheet (django-import-export), for the admin's import with preview and
export. Columns carry Chinese headers; a bad cell is reported on its row in Chinese. Imported rows are
drafts (new or changed), so nothing answers followers before its approval."""

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets

from accounts.models import Department
from accounts.scoping import departments_for
from answers.models import AnswerEntry, AnswerKind, EntryState
from answers.services import library_changed_on_commit

TEXT = widgets.CharWidget(allow_blank=True)  # an empty cell is "", not NULL
KEYWORD_MAX = AnswerEntry._meta.get_field("exact_keywords").base_field.max_length
_SEPARATORS = re.compile(r"[、,，;；|\n]+")


class KeywordsWidget(widgets.Widget):
    """Keywords in one cell, separated by 、 , ； | or new lines."""

    def clean(self, value, row=None, **kwargs):
        keywords = [word.strip() for word in _SEPARATORS.split(str(value or "")) if word.strip()]
        too_long = [word for word in keywords if len(word) > KEYWORD_MAX]
        if too_long:
            # The model's own check would only number the item; this names the keyword.
            raise ValueError(_("The keyword “%(keyword)s” is longer than 100 characters.") % {"keyword": too_long[0]})
        return keywords

    def render(self, value, obj=None, **kwargs):
        return "、".join(value or [])


class KindWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return AnswerKind.TEXT
        for kind in AnswerKind:
            if text in (kind.value, str(kind.label)):
                return kind.value
        raise ValueError(
            _("Unknown answer type “%(value)s”; use one of: %(choices)s.")
            % {"value": text, "choices": "、".join(str(kind.label) for kind in AnswerKind)}
        )

    def render(self, value, obj=None, **kwargs):
        return str(AnswerKind(value).label) if value else ""


class DepartmentWidget(widgets.Widget):
    """A department by its code, among those the importing user works for."""

    def __init__(self, user=None):
        super().__init__()
        self.user = user

    def clean(self, value, row=None, **kwargs):
        code = str(value or "").strip()
        if not code:
            raise ValueError(_("The owning department's code is missing."))
        reachable = departments_for(self.user) if self.user is not None else Department.objects.all()
        department = reachable.filter(code=code).first()
        if department is None:
            raise ValueError(_("No department you work for has the code “%(code)s”.") % {"code": code})
        return department

    def render(self, value, obj=None, **kwargs):
        return value.code if value else ""


class MomentWidget(widgets.Widget):
    """A date and time (Asia/Shanghai) as a spreadsheet cell or text “2026-01-31 17:00”."""

    FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%Y/%m/%d")

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        if isinstance(value, datetime):
            moment = value
        else:
            text = str(value).strip()
            for fmt in self.FORMATS:
                try:
                    moment = datetime.strptime(text, fmt)  # noqa: DTZ007 (made aware below)
                    break
                except ValueError:
                    continue
            else:
                raise ValueError(_("“%(value)s” is not a date and time like 2026-01-31 17:00.") % {"value": text})
        return timezone.make_aware(moment) if timezone.is_naive(moment) else moment

    def render(self, value, obj=None, **kwargs):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class PriorityWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return 0
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        if number is None or number != int(number):
            raise ValueError(_("The priority “%(value)s” is not a whole number.") % {"value": value})
        return int(number)

    def render(self, value, obj=None, **kwargs):
        return value


class ArticleWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        from content.models import Article

        if value in (None, ""):
            return None
        try:
            return Article.objects.get(pk=int(float(value)))
        except (TypeError, ValueError, Article.DoesNotExist):
            raise ValueError(_("No portal article has the number “%(value)s”.") % {"value": value}) from None

    def render(self, value, obj=None, **kwargs):
        return value.pk if value else ""


class AnswerEntryResource(resources.ModelResource):
    id = fields.Field(attribute="id", column_name=gettext_lazy("Number"), widget=widgets.IntegerWidget())
    question = fields.Field(attribute="question", column_name=gettext_lazy("Standard question"), widget=TEXT)
    exact_keywords = fields.Field(
        attribute="exact_keywords", column_name=gettext_lazy("Exact keywords"), widget=KeywordsWidget()
    )
    contained_keywords = fields.Field(
        attribute="contained_keywords", column_name=gettext_lazy("Contained keywords"), widget=KeywordsWidget()
    )
    kind = fields.Field(attribute="kind", column_name=gettext_lazy("Answer type"), widget=KindWidget())
    answer_text = fields.Field(attribute="answer_text", column_name=gettext_lazy("Answer text"), widget=TEXT)
    article = fields.Field(
        attribute="article", column_name=gettext_lazy("Portal article number"), widget=ArticleWidget()
    )
    wechat_url = fields.Field(attribute="wechat_url", column_name=gettext_lazy("WeChat article link"), widget=TEXT)
    department = fields.Field(attribute="department", column_name=gettext_lazy("Department code"))
    valid_from = fields.Field(attribute="valid_from", column_name=gettext_lazy("Valid from"), widget=MomentWidget())
    valid_to = fields.Field(attribute="valid_to", column_name=gettext_lazy("Valid until"), widget=MomentWidget())
    priority = fields.Field(attribute="priority", column_name=gettext_lazy("Priority"), widget=PriorityWidget())
    hit_count = fields.Field(attribute="hit_count", column_name=gettext_lazy("Hits"), readonly=True)
    state = fields.Field(attribute="get_state_display", column_name=gettext_lazy("State"), readonly=True)

    class Meta:
        model = AnswerEntry
        fields = (
            "id", "question", "exact_keywords", "contained_keywords", "kind", "answer_text", "article", "wechat_url",
            "department", "valid_from", "valid_to", "priority", "hit_count", "state",
        )  # fmt: skip
        import_id_fields = ("id",)
        clean_model_instances = True
        skip_unchanged = True
        use_bulk = False

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self.fields["department"].widget = DepartmentWidget(user)
        self.changed_live = False

    def get_queryset(self):
        queryset = AnswerEntry.objects.select_related("department", "article")
        if self.user is not None:
            queryset = queryset.filter(department__in=departments_for(self.user))
        return queryset

    def get_instance(self, instance_loader, row):
        if row.get(str(self.fields["id"].column_name)) in (None, ""):
            return None
        return super().get_instance(instance_loader, row)

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        number = row.get(str(self.fields["id"].column_name))
        if instance._state.adding and number not in (None, ""):
            # A number names an existing entry of the user's departments; a new entry leaves it empty.
            raise ValidationError({"id": _("No entry you can change has the number “%(value)s”.") % {"value": number}})

    def before_save_instance(self, instance, row, **kwargs):
        user = kwargs.get("user") or self.user
        if instance.pk is None or instance.created_by_id is None:
            instance.created_by = user
        instance.updated_by = user
        if instance.state == EntryState.APPROVED:
            self.changed_live = True
        instance.state = EntryState.DRAFT
        instance.approved_by = None

    def after_import(self, dataset, result, **kwargs):
        if not kwargs.get("dry_run") and self.changed_live:
            library_changed_on_commit()
