"""Trees stored with a materialised path, shared by departments and columns.

`path` holds the ids from the root ("/1/4/9/"), so a whole subtree is one indexed prefix
query and ancestors are read off the path; it is derived from `parent` on every save.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _


class PathTree(models.Model):
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    path = models.CharField(max_length=255, editable=False, default="", db_index=True)

    class Meta:
        abstract = True
        ordering = ["path", "order"]

    def save(self, *args, **kwargs):
        model = type(self)
        with transaction.atomic():
            super().save(*args, **kwargs)
            parent_path = model.objects.values_list("path", flat=True).get(pk=self.parent_id) if self.parent_id else "/"
            new_path = f"{parent_path}{self.pk}/"
            old_path = self.path
            if new_path != old_path:
                if old_path:
                    # Moving a node moves its whole subtree.
                    model.objects.filter(path__startswith=old_path).update(
                        path=Concat(models.Value(new_path), Substr("path", len(old_path) + 1))
                    )
                else:
                    model.objects.filter(pk=self.pk).update(path=new_path)
                self.path = new_path

    def clean(self):
        super().clean()
        if self.pk and self.parent_id:
            parent_path = type(self).objects.values_list("path", flat=True).get(pk=self.parent_id)
            if f"/{self.pk}/" in parent_path:
                raise ValidationError({"parent": _("An item cannot be placed under itself or one of its children.")})

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self) -> str:
        """The name indented by depth, so admin lists read as a tree."""
        return "\u3000" * self.depth + self.name

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to and including this node."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def subtree(self):
        return type(self).objects.filter(path__startswith=self.path)
