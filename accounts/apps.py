from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, using, apps=None, **kwargs):
    # After every migrate (and every flush of a test database), so permissions of apps added later reach their
    # roles. Django sends post_migrate once per app, in INSTALLED_APPS order, creating that app's permissions
    # first; the roles are synced once, at the last app, when every permission exists.
    from django.apps import apps as installed

    from accounts.roles import sync_role_permissions

    with_models = [config for config in installed.get_app_configs() if config.models_module is not None]
    if with_models and sender.label != with_models[-1].label:
        return

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
