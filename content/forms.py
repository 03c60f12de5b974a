import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_ckeditor_5.widgets import CKEditor5Widget

from accounts.models import ReviewLevel
from content.images import validate_image
from content.models import Article, Column
from content.sanitize import html_to_text, sanitize_html
from content.services import EditConflict, check_version

TAG_SEPARATORS = re.compile(r"[,，、;；\s]+")


class TagsField(forms.CharField):
    """Tags typed as one line, separated by commas, 、 or spaces."""

    def prepare_value(self, value):
        return "，".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        tags = [tag for tag in TAG_SEPARATORS.split(super().to_python(value) or "") if tag]
        for tag in tags:
            if len(tag) > 20:
                raise forms.ValidationError(_("Each tag may have at most 20 characters: %(tag)s"), params={"tag": tag})
        if len(tags) > 10:
            raise forms.ValidationError(_("At most 10 tags."))
        return list(dict.fromkeys(tags))


class ArticleForm(forms.ModelForm):
    loaded_version = forms.IntegerField(label=_("version being edited"), widget=forms.HiddenInput, required=False)
    tags = TagsField(label=_("tags"), required=False, help_text=_("Separate tags with commas or spaces."))
    # A plain file field, so our image check (which names SVGs and oversized files) gives the message.
    cover = forms.FileField(label=_("cover image"), required=False, widget=forms.ClearableFileInput)
    source_url = forms.URLField(label=_("original source URL"), max_length=1000, required=False, assume_scheme="https")

    class Meta:
        model = Article
        fields = [
            "title", "short_title", "author", "column", "department", "digest", "body", "cover",
            "tags", "source_url", "comments_open",
        ]  # fmt: skip
        widgets = {
            "body": CKEditor5Widget(config_name="default"),
            "digest": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.version
        if "column" in self.fields:  # absent when the user may only view
            self.fields["column"].queryset = Column.objects.filter(is_active=True)

    def clean_title(self):
        return self.cleaned_data["title"].strip()

    def clean_body(self):
        body = self.cleaned_data.get("body") or ""
        limit = settings.CONTENT_MAX_BODY_BYTES
        size = len(body.encode())
        if size > limit:
            raise forms.ValidationError(
                _(
                    "The body is %(size).1f MB; an article body may be at most %(limit).1f MB. "
                    "Split the article, or paste it as plain text to drop hidden formatting."
                ),
                params={"size": size / 1024 / 1024, "limit": limit / 1024 / 1024},
            )
        clean = sanitize_html(body)
        if not html_to_text(clean).strip() and "<img" not in clean:
            raise forms.ValidationError(_("The body is empty."))
        return clean

    def clean_cover(self):
        cover = self.cleaned_data.get("cover")
        if cover and hasattr(cover, "content_type"):  # a new upload, not the stored file
            validate_image(cover)
        return cover

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            try:
                # Runs inside the admin's transaction and locks the row until the save.
                check_version(article=self.instance, expected_version=cleaned.get("loaded_version"))
            except EditConflict as conflict:
                raise forms.ValidationError(conflict.messages) from None
        return cleaned


class ColumnForm(forms.ModelForm):
    review_levels = forms.TypedMultipleChoiceField(
        label=_("review steps"),
        choices=ReviewLevel.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Articles of this column pass the ticked levels, in this order."),
    )

    class Meta:
        model = Column
        fields = ["name", "slug", "parent", "order", "show_on_home", "review_levels", "is_active"]

    def clean_review_levels(self):
        levels = sorted(set(self.cleaned_data["review_levels"]))
        if not 1 <= len(levels) <= 3:
            raise forms.ValidationError(_("Choose between one and three review steps."))
        return levels
