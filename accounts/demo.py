"""The demo county: departments and one user per role (used by `manage.py seed_demo`)."""

import hashlib

from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.models import Department, ReviewLevel, User

# (code, name, parent code)
DEPARTMENTS = [
    ("county", "示范县人民政府", None),
    ("county-office", "县政府办公室", "county"),
    ("finance", "县财政局", "county"),
    ("finance-budget", "预算股", "finance"),
    ("staffing", "县委编办", "county"),
    ("police", "县公安局", "county"),
    ("education", "县教育局", "county"),
    ("discipline", "县纪委监委", "county"),
]

# The portal's editor and reviewers sit at the county level, so they handle every department's
# articles; the department handlers show scoping.
# Demo passwords are printed on purpose: this is a local demonstration, never production.
DEMO_USERS = [
    # username, real name, department code, role, review level, superuser
    ("admin", "系统管理员", "county-office", roles.ADMINISTRATOR, None, True),
    ("editor", "王编辑", "county", roles.EDITOR, None, False),
    ("reviewer1", "李初审", "county", roles.REVIEWER, ReviewLevel.FIRST, False),
    ("reviewer2", "赵复审", "county", roles.REVIEWER, ReviewLevel.SECOND, False),
    ("reviewer3", "钱终审", "county", roles.REVIEWER, ReviewLevel.FINAL, False),
    ("discloser", "孙公开", "finance", roles.DISCLOSURE_OFFICER, None, False),
    ("registrar", "周受理", "county-office", roles.COMPLAINT_REGISTRAR, None, False),
    ("handler", "吴办理", "education", roles.DEPARTMENT_HANDLER, None, False),
    ("handler-police", "郑办理", "police", roles.DEPARTMENT_HANDLER, None, False),
    ("head-edu", "刘主任", "education", roles.COMPLAINT_REVIEWER, None, False),
    ("head-police", "陈主任", "police", roles.COMPLAINT_REVIEWER, None, False),
    ("sysadmin", "冯管理", "county-office", roles.ADMINISTRATOR, None, False),
    ("secadmin", "蒋安全", "county-office", roles.SECURITY_ADMINISTRATOR, None, False),
    ("auditor", "韩审计", "county-office", roles.AUDIT_ADMINISTRATOR, None, False),
]
DEMO_PASSWORD = "Demo-Gov-2026!"  # noqa: S105 - printed demo login, never production

# Demo users come enrolled in the second factor, so a newcomer gets in without a phone: each has a
# TOTP device named "demo" whose key is the first 20 bytes of SHA-256("govcms-demo:<username>").
# `manage.py demo_otp <username>` (DEBUG only) prints the current code and the key in base32 for an app.
DEMO_DEVICE_NAME = "demo"


def demo_totp_key(username: str) -> str:
    """The fixed, documented demo key (hex, as django-otp stores it) of a demo user's authenticator."""
    return hashlib.sha256(f"govcms-demo:{username}".encode()).hexdigest()[:40]


def seed() -> tuple[dict[str, Department], list[tuple[str, str, str, str]]]:
    """Create or update the demo departments and users; returns them for the next seeders and the printout."""
    departments = {}
    for code, name, parent_code in DEPARTMENTS:
        department, _ = Department.objects.update_or_create(
            code=code, defaults={"name": name, "parent": departments.get(parent_code)}
        )
        departments[code] = department

    rows = []
    for username, real_name, dept_code, role, level, superuser in DEMO_USERS:
        user, created = User.objects.update_or_create(
            username=username,
            defaults={
                "real_name": real_name,
                "department": departments[dept_code],
                "review_level": level,
                "is_staff": True,
                "is_superuser": superuser,
            },
            create_defaults={
                "real_name": real_name,
                "department": departments[dept_code],
                "review_level": level,
                "is_staff": True,
                "is_superuser": superuser,
                "phone": f"1380000{len(rows) + 1:04d}",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        TOTPDevice.objects.update_or_create(
            user=user, name=DEMO_DEVICE_NAME, defaults={"key": demo_totp_key(username), "confirmed": True}
        )
        rows.append((username, role + (f"（{ReviewLevel(level).label}）" if level else ""), real_name, dept_code))
    return departments, rows
