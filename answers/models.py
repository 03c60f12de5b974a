"""The answer library (口径库): the office's agreed answers to citizens' recurring questions, matched
against WeChat followers' messages by keyword (answers/matching.py). An entry answers only once
someone other than its author approved it (answers/actions.py), and only within its validity."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Department


def _person(verbose_name):
    """Who did something to the entry (set by the admin and the actions, never typed in)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )


class EntryState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Waiting for approval")
    APPROVED = "approved", _("Approved")


class AnswerKind(models.TextChoices):
    TEXT = "text", _("Text")
    ARTICLE = "article", _("Portal article")
    WECHAT_ARTICLE = "wechat_article", _("Published WeChat article")
    IMAGE = "image", _("Image")


class AnswerEntry(models.Model):
    question = models.CharField(_("standard question"), max_length=200)
    exact_keywords = ArrayField(
        models.CharField(max_length=100),
        verbose_name=_("exact keywords"),
        blank=True,
        default=list,
        help_text=_("The whole message must be one of these (spaces and punctuation ignored)."),
    )
    contained_keywords = ArrayField(
        models.CharField(max_length=100),
        verbose_name=_("contained keywords"),
        blank=True,
        default=list,
        help_text=_("The message only has to contain one of these; the longest one found wins."),
    )
    kind = models.CharField(_("answer type"), max_length=16, choices=AnswerKind.choices, default=AnswerKind.TEXT)
    answer_text = models.TextField(_("answer text"), blank=True, max_length=600)
    article = models.ForeignKey(
        "content.Article",
        verbose_name=_("portal article"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    wechat_url = models.URLField(_("WeChat article link"), blank=True, max_length=1024)
    image = models.ImageField(_("image"), upload_to="answers/", blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("owning department"), on_delete=models.PROTECT, related_name="answer_entries"
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid until"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=EntryState.choices, default=EntryState.DRAFT)
    priority = models.IntegerField(
        _("priority"), default=0, help_text=_("Between keywords of the same length, the higher priority answers.")
    )
    hit_count = models.PositiveIntegerField(_("hits"), default=0, editable=False)
    created_by = _person(_("author"))
    updated_by = _person(_("last edited by"))
    approved_by = _person(_("approved by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("answer library entry")
        verbose_name_plural = _("answer library entries")
        ordering = ["-priority", "id"]
        permissions = [("approve_answerentry", _("Can approve answer library entries"))]
        indexes = [models.Index(fields=["state", "valid_to"])]

    def __str__(self):
        return self.question

    def clean(self):
        needs = {
            AnswerKind.TEXT: ("answer_text", _("A text answer needs its text.")),
            AnswerKind.ARTICLE: ("article", _("Choose the portal article this answer links to.")),
            AnswerKind.WECHAT_ARTICLE: ("wechat_url", _("Give the link of the published WeChat article.")),
            AnswerKind.IMAGE: ("image", _("Upload the image this answer shows.")),
        }
        if self.kind in needs:
            field, message = needs[self.kind]
            if not getattr(self, field if field != "article" else "article_id"):
                raise ValidationError({field: message})
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValidationError({"valid_to": _("The end of validity must come after its start.")})
