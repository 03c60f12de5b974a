from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.fields import EncryptedTextField
from accounts.masking import mask_phone
from shared.tree import PathTree


class Department(PathTree):
    """A node of the county's organisation tree (county government -> bureaus -> offices)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta(PathTree.Meta):
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        indexes = [models.Index(fields=["path"], name="department_path_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self):
        return self.name


class ReviewLevel(models.IntegerChoices):
    FIRST = 1, _("First review")
    SECOND = 2, _("Second review")
    FINAL = 3, _("Final review")


class User(AbstractUser):
    real_name = models.CharField(_("real name"), max_length=50, blank=True)
    phone = EncryptedTextField(_("mobile phone"), blank=True, default="")
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    review_level = models.PositiveSmallIntegerField(
        _("review level"),
        choices=ReviewLevel.choices,
        null=True,
        blank=True,
        help_text=_("Only for reviewers: which review step this person may approve."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.real_name or self.username

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class AuditLog(models.Model):
    """One thing someone did. Rows are append-only: a database trigger refuses UPDATE and DELETE."""

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_username = models.CharField(_("actor username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.ForeignKey(
        ContentType,
        verbose_name=_("target type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_repr = models.CharField(_("target"), max_length=255, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="auditlog_target")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"
