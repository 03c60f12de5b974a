from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, using, apps=None, **kwargs):
    # After every migrate, so permissions of apps added later reach their roles.
    from accounts.roles import sync_role_permissions

    apps = apps or sender.apps
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:
        return
    sync_role_permissions(group_model, permission_model)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and security")

    def ready(self):
        from accounts import receivers  # noqa: F401 - connects the audit receivers

        post_migrate.connect(_sync_roles, dispatch_uid="accounts_sync_roles")
