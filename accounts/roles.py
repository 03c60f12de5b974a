"""The roles (Django groups) and the model permissions each one holds.

This table is the single place permissions are granted: later apps add their codenames
here. `sync_role_permissions` makes the groups match it exactly (it also removes
permissions that are no longer listed), and runs after every migrate.
"""

from django.db.models import Q

# Group names are data shown to staff, so they are stored in Chinese.
EDITOR = "编辑"
REVIEWER = "审核员"
DISCLOSURE_OFFICER = "信息公开专员"
COMPLAINT_REGISTRAR = "投诉受理员"
DEPARTMENT_HANDLER = "部门办理人"
# The office head (办公室负责人) who approves every reply before it reaches the citizen, and deadline extensions.
COMPLAINT_REVIEWER = "办件审核人"
ADMINISTRATOR = "系统管理员"
# 三权分立 (MLPS 2.0 level 3): the system administrator manages users and departments, the security
# administrator decides who may approve and what each role may do, the audit administrator reads the log.
SECURITY_ADMINISTRATOR = "安全管理员"
AUDIT_ADMINISTRATOR = "审计管理员"

# Roles whose holders approve someone else's work (four-eyes): only a security administrator grants them.
APPROVER_ROLES = frozenset({REVIEWER, COMPLAINT_REVIEWER})
ADMINISTRATOR_ROLES = frozenset({ADMINISTRATOR, SECURITY_ADMINISTRATOR, AUDIT_ADMINISTRATOR})

# Permissions that belong to no model; sync_role_permissions creates them on accounts.User.
# Their names are data shown to staff, like the group names.
EXTRA_PERMISSIONS = {
    "grant_approver_roles": "可授予审核类角色",
    "grant_administrator_roles": "可授予管理员角色",
    "reset_second_factor": "可重置用户的双因素认证",
}

ROLE_PERMISSIONS: dict[str, set[str]] = {
    EDITOR: {
        "accounts.view_department",
        "content.view_column",
        "content.add_article",
        "content.change_article",
        "content.view_article",
        "content.publish_article",
        "publishing.add_schedule",
        "publishing.change_schedule",
        "publishing.view_schedule",
        "publishing.view_channelaccount",
        "publishing.view_delivery",
        # The answer library (口径库): editors write the answers, a reviewer approves them.
        "answers.add_answerentry",
        "answers.change_answerentry",
        "answers.view_answerentry",
    },
    REVIEWER: {
        "accounts.view_department",
        "content.view_column",
        "content.view_article",
        "content.review_article",
        "content.withdraw_article",
        "answers.view_answerentry",
        "answers.change_answerentry",
        "answers.approve_answerentry",
        # Disclosure batches are reviewed as a whole before they are published.
        "disclosure.view_disclosurebatch",
        "disclosure.review_disclosurebatch",
        *(
            f"disclosure.view_{model}"
            for model in (
                "disbursement",
                "projectallocation",
                "departmentbudget",
                "staffingunit",
                "staffmember",
                "fundprogram",
            )
        ),
    },  # fmt: skip
    DISCLOSURE_OFFICER: {
        "accounts.view_department",
        *(
            f"disclosure.{verb}_{model}"
            for verb in ("add", "change", "view", "delete")
            for model in (
                "disclosurebatch",
                "disbursement",
                "projectallocation",
                "departmentbudget",
                "staffingunit",
                "staffmember",
            )
        ),
        "disclosure.withdraw_disclosurebatch",
        "disclosure.add_fundprogram",
        "disclosure.change_fundprogram",
        "disclosure.view_fundprogram",
        "disclosure.add_annualreport",
        "disclosure.change_annualreport",
        "disclosure.view_annualreport",
    },  # fmt: skip
    COMPLAINT_REGISTRAR: {
        "accounts.view_department",
        "accounts.view_user",
        "complaints.add_case",
        "complaints.change_case",
        "complaints.view_case",
        "complaints.register_case",
        "complaints.view_statistics",
        "complaints.view_category",
        "complaints.view_routingrule",
        "complaints.view_deadlinepolicy",
        "complaints.view_replytemplate",
    },
    DEPARTMENT_HANDLER: {
        "accounts.view_department",
        "accounts.view_user",
        "complaints.change_case",
        "complaints.view_case",
        "complaints.handle_case",
        "complaints.add_replytemplate",
        "complaints.change_replytemplate",
        "complaints.view_replytemplate",
    },
    COMPLAINT_REVIEWER: {
        "accounts.view_department",
        "accounts.view_user",
        "complaints.change_case",
        "complaints.view_case",
        "complaints.handle_case",
        "complaints.review_reply",
        "complaints.approve_extension",
        "complaints.view_statistics",
        "complaints.add_replytemplate",
        "complaints.change_replytemplate",
        "complaints.view_replytemplate",
    },
    ADMINISTRATOR: {
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_user",
        "accounts.add_department",
        "accounts.change_department",
        "accounts.view_department",
        "auth.view_group",
        "content.add_column",
        "content.change_column",
        "content.view_column",
        "content.view_article",
        "content.withdraw_article",
        # Unlocking a locked-out account is deleting its access attempts.
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
        "axes.view_accessfailurelog",
        "publishing.add_channelaccount",
        "publishing.change_channelaccount",
        "publishing.view_channelaccount",
        "publishing.add_quotarule",
        "publishing.change_quotarule",
        "publishing.delete_quotarule",
        "publishing.view_quotarule",
        # A WeChat account's custom menu (items edited inline) and its follower tags, pulled from WeChat.
        "publishing.add_wechatmenu",
        "publishing.change_wechatmenu",
        "publishing.view_wechatmenu",
        "publishing.add_wechatmenuitem",
        "publishing.change_wechatmenuitem",
        "publishing.delete_wechatmenuitem",
        "publishing.view_wechatmenuitem",
        "publishing.view_wechattag",
        "publishing.view_accounthealthnotice",
        "publishing.view_schedule",
        "publishing.change_schedule",
        "publishing.view_delivery",
        "disclosure.view_disclosurebatch",
        "disclosure.withdraw_disclosurebatch",
        "disclosure.view_fundprogram",
        "disclosure.add_publicfields",
        "disclosure.change_publicfields",
        "disclosure.view_publicfields",
        "disclosure.view_annualreport",
        "disclosure.change_annualreport",
        # The holiday calendar deadlines are counted with (for years the chinesecalendar package lacks).
        "complaints.add_calendaroverride",
        "complaints.change_calendaroverride",
        "complaints.delete_calendaroverride",
        "complaints.view_calendaroverride",
        "complaints.view_case",
        "complaints.view_statistics",
        *(
            f"complaints.{verb}_{model}"
            for verb in ("add", "change", "delete", "view")
            for model in ("category", "routingrule", "deadlinepolicy", "replytemplate")
        ),
    },
    SECURITY_ADMINISTRATOR: {
        "accounts.view_user",
        "accounts.change_user",
        "accounts.view_department",
        "accounts.grant_approver_roles",
        "accounts.reset_second_factor",
        "auth.view_group",
        "auth.change_group",
    },
    AUDIT_ADMINISTRATOR: {
        "accounts.view_auditlog",
        "axes.view_accessattempt",
        "axes.view_accesslog",
        "axes.view_accessfailurelog",
    },
}

# The permission that lets someone hand out each role; administrator roles only superusers grant
# (no group holds grant_administrator_roles), so nobody raises a peer or themself.
ROLE_GRANTED_WITH = {
    **{role: "accounts.change_user" for role in ROLE_PERMISSIONS},
    **{role: "accounts.grant_approver_roles" for role in APPROVER_ROLES},
    **{role: "accounts.grant_administrator_roles" for role in ADMINISTRATOR_ROLES},
}


def sync_role_permissions(group_model, permission_model) -> None:
    """Create the groups and give each exactly the permissions listed (models passed in so migrations can call it)."""
    content_type_model = permission_model._meta.get_field("content_type").related_model
    user_type, _ = content_type_model.objects.get_or_create(app_label="accounts", model="user")
    for codename, name in EXTRA_PERMISSIONS.items():
        permission_model.objects.get_or_create(content_type=user_type, codename=codename, defaults={"name": name})
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        query = Q(pk__in=[])
        for perm in perms:
            app_label, codename = perm.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        # Permissions of models that do not exist yet (an app migrated later) appear on a later run.
        group.permissions.set(permission_model.objects.filter(query))


def is_administrator(user) -> bool:
    """Superusers and the system and security administrators see every department."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_is_administrator", None)
    if cached is None:
        cached = user.groups.filter(name__in=[ADMINISTRATOR, SECURITY_ADMINISTRATOR]).exists()
        user._is_administrator = cached
    return cached


def grantable_roles(actor) -> set[str]:
    """The roles `actor` may give to (or take from) someone else."""
    return {role for role, perm in ROLE_GRANTED_WITH.items() if actor.has_perm(perm)}


def may_manage_user(actor, target) -> bool:
    """Whether `actor` may change `target` (details, roles, a password reset, the second factor).

    Never a superuser (unless the actor is one), never oneself, never someone holding a role the
    actor could not grant: a system administrator cannot touch a reviewer or a fellow administrator.
    """
    if actor.is_superuser:
        return True
    if target.is_superuser or target.pk == actor.pk or not actor.has_perm("accounts.change_user"):
        return False
    held = set(target.groups.values_list("name", flat=True))
    return held <= grantable_roles(actor)
