from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, ReviewLevel
from content.fields import SanitizedHTMLField
from shared.tree import PathTree


def default_review_levels():
    return [ReviewLevel.FIRST, ReviewLevel.SECOND, ReviewLevel.FINAL]


class Column(PathTree):
    """A portal column (栏目). Its review plan says which reviewer levels approve its articles, in order."""

    name = models.CharField(_("name"), max_length=50)
    slug = models.SlugField(_("URL name"), max_length=50, unique=True)
    show_on_home = models.BooleanField(_("show on home page"), default=False)
    review_levels = ArrayField(
        models.PositiveSmallIntegerField(choices=ReviewLevel.choices),
        verbose_name=_("review steps"),
        size=3,
        default=default_review_levels,
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta(PathTree.Meta):
        verbose_name = _("column")
        verbose_name_plural = _("columns")
        indexes = [models.Index(fields=["path"], name="column_path_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self):
        return self.name

    @property
    def review_plan_display(self) -> str:
        return " → ".join(str(ReviewLevel(level).label) for level in self.review_levels)


class ArticleState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Article(models.Model):
    """An article (图文). Its fields are the working copy editors change; `live_revision` is
    the approved copy the portal shows, so an edit after publication stays invisible to the
    public until it has been reviewed again."""

    title = models.CharField(_("title"), max_length=200)
    short_title = models.CharField(
        _("short title"),
        max_length=32,
        blank=True,
        help_text=_("At most 32 characters; used where the title is too long, e.g. WeChat."),
    )
    author = models.CharField(_("author"), max_length=50, blank=True)
    digest = models.CharField(_("digest"), max_length=300, blank=True)
    body = SanitizedHTMLField(_("body"))
    cover = models.ImageField(_("cover image"), upload_to="covers/%Y/%m/", blank=True)
    column = models.ForeignKey(Column, verbose_name=_("column"), on_delete=models.PROTECT, related_name="articles")
    department = models.ForeignKey(
        Department, verbose_name=_("source department"), on_delete=models.PROTECT, related_name="articles"
    )
    tags = ArrayField(models.CharField(max_length=20), verbose_name=_("tags"), default=list, blank=True)
    source_url = models.URLField(_("original source URL"), max_length=1000, blank=True)
    comments_open = models.BooleanField(_("open comments on WeChat"), default=False)

    state = models.CharField(
        _("state"), max_length=16, choices=ArticleState.choices, default=ArticleState.DRAFT, db_index=True
    )
    review_plan = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True, editable=False)
    review_step = models.PositiveSmallIntegerField(default=0, editable=False)
    rejection_reason = models.TextField(_("reason for return"), blank=True, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last edited by"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    images_missing_alt = models.PositiveSmallIntegerField(_("images without alt text"), default=0, editable=False)

    # The public copy.
    live_revision = models.ForeignKey(
        "ArticleRevision", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    live_column = models.ForeignKey(
        Column, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    is_live = models.BooleanField(_("on the portal"), default=False, editable=False)
    first_published_at = models.DateTimeField(_("first published at"), null=True, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    withdraw_reason = models.TextField(_("reason for withdrawal"), blank=True, editable=False)
    # Search over the live copy: title + body text, and its distinct character bigrams.
    search_title = models.CharField(max_length=200, blank=True, default="", editable=False)
    search_text = models.TextField(blank=True, default="", editable=False)
    search_bigrams = ArrayField(models.CharField(max_length=2), default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-updated_at"]
        permissions = [
            ("review_article", _("Can review articles")),
            ("publish_article", _("Can publish articles")),
            ("withdraw_article", _("Can withdraw published articles")),
        ]
        indexes = [
            GinIndex(fields=["search_bigrams"], name="article_search_bigrams"),
            models.Index(
                fields=["live_column", "-published_at"], name="article_live_by_column", condition=models.Q(is_live=True)
            ),
            models.Index(fields=["-published_at"], name="article_live_recent", condition=models.Q(is_live=True)),
        ]

    def __str__(self):
        return self.title

    @property
    def current_review_level(self) -> int | None:
        if self.state != ArticleState.IN_REVIEW or self.review_step >= len(self.review_plan):
            return None
        return self.review_plan[self.review_step]


class ArticleRevision(models.Model):
    """A saved state of an article. Revisions are never changed; restoring one makes a new one."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(_("revision"))
    title = models.CharField(_("title"), max_length=200)
    short_title = models.CharField(_("short title"), max_length=32, blank=True)
    author = models.CharField(_("author"), max_length=50, blank=True)
    digest = models.CharField(_("digest"), max_length=300, blank=True)
    body = SanitizedHTMLField(_("body"))
    cover = models.CharField(_("cover image"), max_length=255, blank=True)
    column = models.ForeignKey(Column, verbose_name=_("column"), on_delete=models.PROTECT, related_name="+")
    tags = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    source_url = models.URLField(max_length=1000, blank=True)
    comments_open = models.BooleanField(default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("saved by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("saved at"), auto_now_add=True)

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="revision_number_unique")]

    def __str__(self):
        return f"{self.article_id}#{self.number}"

    @property
    def cover_url(self) -> str:
        if not self.cover:
            return ""
        from django.core.files.storage import default_storage

        return default_storage.url(self.cover)


class ReviewDecision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Returned")


class ArticleReview(models.Model):
    """One reviewer's decision at one step."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="reviews")
    revision = models.ForeignKey(ArticleRevision, on_delete=models.PROTECT, related_name="+")
    step = models.PositiveSmallIntegerField(_("step"))
    level = models.PositiveSmallIntegerField(_("review level"), choices=ReviewLevel.choices)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), on_delete=models.PROTECT)
    decision = models.CharField(_("decision"), max_length=16, choices=ReviewDecision.choices)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.article_id} {self.get_level_display()} {self.get_decision_display()}"
