"""GovCMS settings. Every deploy-specific value comes from the environment (see README.md)."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from celery.schedules import crontab
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.functional import lazy
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from govcms.env import EnvError, database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("GOVCMS_VAR_DIR", str(BASE_DIR / "var")))

# Safe by default: development conveniences only when DEBUG is switched on explicitly
# (`make run` and `make test` do that).
DEBUG = env_bool("DEBUG", False)

# Fixed, obviously-fake values so a developer machine works out of the box; a production
# process refuses to start without real ones.
_DEV_SECRET_KEY = "dev-insecure-govcms-secret-key-do-not-use-in-production-0123456789"  # noqa: S105 - development only, refused when DEBUG is off
_DEV_FIELD_KEY = "ZGV2LW9ubHktZ292Y21zLWZpZWxkLWtleS0wMDAwMDA="

SECRET_KEY = env_str("SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else None)
if not SECRET_KEY:
    raise EnvError(
        "SECRET_KEY must be set when DEBUG is off (production). Generate one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

# Comma-separated Fernet keys; the first encrypts, all decrypt (key rotation).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY", [_DEV_FIELD_KEY] if DEBUG else [])
if not FIELD_ENCRYPTION_KEYS:
    raise EnvError(
        "FIELD_ENCRYPTION_KEY must be set when DEBUG is off (production). Generate one with: "
        "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    )

# The key of the keyed hashes that find encrypted values (case query codes, name + ID-tail lookups,
# phone limits). Separate from FIELD_ENCRYPTION_KEY so rotating that key keeps every lookup working;
# it is never rotated by `rotate_encryption_key`. The development default is the development
# encryption key, which keeps the hashes of existing development databases; a deployment that
# predates this setting sets it to the FIRST FIELD_ENCRYPTION_KEY it has used so far.
FIELD_HASH_KEY = env_str("FIELD_HASH_KEY") or (_DEV_FIELD_KEY if DEBUG else None)
if not FIELD_HASH_KEY or len(FIELD_HASH_KEY) < 32:
    raise EnvError(
        "FIELD_HASH_KEY must be set (at least 32 characters) when DEBUG is off (production). Generate one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # govcms first so its admin templates (branding, dashboard) override Django's.
    "govcms.apps.GovcmsConfig",
    # The admin's look (django-unfold) sits before django.contrib.admin so its templates win over
    # Django's, and after govcms so ours win over its. BasicAppConfig leaves admin.site to GovAdminConfig.
    "unfold.apps.BasicAppConfig",
    "unfold.contrib.import_export",
    "govcms.apps.GovAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "django_ckeditor_5",
    "govcms.apps.AxesConfig",  # django-axes, named in Chinese
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "import_export",
    # Helpers several apps use (shared/ imports no app); an app only so its templates (the captcha widget) load.
    "shared",
    "accounts",
    "content",
    "disclosure",
    "publishing",
    "complaints",
    # the answer library (口径库) the WeChat listening path answers from
    "answers",
]

MIDDLEWARE = [
    # Outermost: a cached public page is answered with one Redis read, and a fresh one is
    # stored with every header the layers below added.
    "content.portal_cache.PortalCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks request.user.is_verified() once the second factor is given (accounts/otp.py).
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "govcms.urls"
WSGI_APPLICATION = "govcms.wsgi.application"
ASGI_APPLICATION = "govcms.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "govcms.context_processors.portal",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/govcms"))}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Search and imports rely on UTF-8 text; template0 lets the test database choose it.
DATABASES["default"]["TEST"] = {"TEMPLATE": "template0", "CHARSET": "UTF8"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
if env_str("REDIS_DB"):
    # The test suite runs on its own Redis database, so it may flush it without touching a running demo.
    _redis = urlsplit(REDIS_URL)
    REDIS_URL = urlunsplit(_redis._replace(path="/" + str(env_int("REDIS_DB", 0))))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "govcms"),
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "accounts.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Login lockout (MLPS 2.0 level 3) for 30 minutes: 5 failures lock an account from that address
# only (a stranger cannot lock the real user out), and LOGIN_FAILURES_PER_ADDRESS failures across
# accounts lock the address (password spraying). accounts/lockout.py gives each set its limit.
AXES_FAILURE_LIMIT = 5
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 30)
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "accounts.lockout.AddressAwareLockoutHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_CLIENT_IP_CALLABLE = "shared.client_ip.client_ip"
AXES_VERBOSE = False
# Forwarded-for headers are trusted only from this many reverse proxies in front of us.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Second factor for staff (accounts/otp.py): TOTP apps plus ten single-use recovery codes.
OTP_TOTP_ISSUER = "GovCMS"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Sessions end after 30 idle minutes and when the browser closes.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "zh-hans"
# The product speaks Simplified Chinese only; no per-browser language switching.
LANGUAGES = [("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Publishing.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")
WEIBO_DAILY_CAP = env_int("WEIBO_DAILY_CAP", 50)
WEIBO_OPERATOR_IP = env_str("WEIBO_OPERATOR_IP", "127.0.0.1")
PUBLISHING_LEASE_SECONDS = env_int("PUBLISHING_LEASE_SECONDS", 300)
PUBLISHING_REQUEUE_AFTER_SECONDS = env_int("PUBLISHING_REQUEUE_AFTER_SECONDS", 120)
PUBLISHING_MAX_ATTEMPTS = env_int("PUBLISHING_MAX_ATTEMPTS", 6)
PUBLISHING_RETRY_BASE_SECONDS = env_int("PUBLISHING_RETRY_BASE_SECONDS", 30)
# A send that may have reached the platform keeps being reconciled (WeChat: resent with the same
# clientmsgid, which WeChat de-duplicates for 24 hours) this long after the first unclear answer,
# past the ordinary attempt limit; then it is recorded "unknown" for a person to check.
PUBLISHING_RECONCILE_WINDOW_SECONDS = env_int("PUBLISHING_RECONCILE_WINDOW_SECONDS", 23 * 3600)
SANDBOX_URL = env_str("SANDBOX_URL", "http://127.0.0.1:8100/")
# Channel accounts may send their secrets only to the platforms' official API hosts and the sandbox;
# other hosts (a company proxy, say) must be named here: "host" or "host:port", comma-separated.
PUBLISHING_EXTRA_API_HOSTS = env_list("PUBLISHING_EXTRA_API_HOSTS", [])

# Content and portal.
PORTAL_SITE_NAME = env_str("PORTAL_SITE_NAME", "示范县人民政府")
# The footer every government site carries (主办单位, 联系方式, 网站标识码, ICP备案号, 公安机关备案号);
# the defaults are obviously made up, for the demo.
PORTAL_ORGANIZER = env_str("PORTAL_ORGANIZER", "示范县人民政府办公室")
PORTAL_CONTACT = env_str("PORTAL_CONTACT", "0000-1234567（工作日 8:30-17:30），示范县人民路1号")
PORTAL_SITE_CODE = env_str("PORTAL_SITE_CODE", "0000000000")
PORTAL_ICP_NUMBER = env_str("PORTAL_ICP_NUMBER", "示ICP备00000000号")
PORTAL_PSB_NUMBER = env_str("PORTAL_PSB_NUMBER", "示公网安备00000000000000号")
PORTAL_CACHE_SECONDS = env_int("PORTAL_CACHE_SECONDS", 600)
PORTAL_CACHE_ENABLED = env_bool("PORTAL_CACHE_ENABLED", True)
CONTENT_MAX_BODY_BYTES = 2 * 1024 * 1024
CONTENT_MAX_IMAGE_BYTES = 5 * 1024 * 1024
# Every image input (covers, editor uploads, complaint attachments; govcms.uploads): a few kilobytes
# can declare 40000×40000 pixels, which Pillow would try to hold in memory.
UPLOAD_IMAGE_MAX_SIDE = env_int("UPLOAD_IMAGE_MAX_SIDE", 8000)
UPLOAD_IMAGE_MAX_PIXELS = env_int("UPLOAD_IMAGE_MAX_PIXELS", 40_000_000)
# What checking one uploaded PDF may cost (govcms.uploads.check_pdf); past it the file is refused.
UPLOAD_PDF_CHECK_MILLISECONDS = env_int("UPLOAD_PDF_CHECK_MILLISECONDS", 2000)
UPLOAD_PDF_CHECK_MAX_DECODED_BYTES = env_int("UPLOAD_PDF_CHECK_MAX_DECODED_BYTES", 50 * 1024 * 1024)
# Large enough that an oversized article body reaches the form and gets a clear message
# instead of Django's bare "400 Bad Request".
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
CONTENT_IFRAME_HOSTS = env_list("CONTENT_IFRAME_HOSTS", ["v.qq.com", "player.bilibili.com"])
CK_EDITOR_5_UPLOAD_FILE_VIEW_NAME = "editor_image_upload"
CKEDITOR_5_FILE_UPLOAD_PERMISSION = "staff"
CKEDITOR_5_UPLOAD_FILE_TYPES = ["jpeg", "png", "gif", "webp"]
CKEDITOR_5_CONFIGS = {
    "default": {
        "language": "zh-cn",
        "toolbar": {
            "items": [
                "heading",
                "|",
                "bold",
                "italic",
                "underline",
                "strikethrough",
                "link",
                "|",
                "bulletedList",
                "numberedList",
                "blockQuote",
                "insertTable",
                "|",
                "imageUpload",
                "mediaEmbed",
                "|",
                "alignment",
                "removeFormat",
                "|",
                "undo",
                "redo",
            ],
            "shouldNotGroupWhenFull": True,
        },
        "heading": {
            "options": [
                {"model": "paragraph", "title": "正文", "class": "ck-heading_paragraph"},
                {"model": "heading2", "view": "h2", "title": "标题 2", "class": "ck-heading_heading2"},
                {"model": "heading3", "view": "h3", "title": "标题 3", "class": "ck-heading_heading3"},
                {"model": "heading4", "view": "h4", "title": "标题 4", "class": "ck-heading_heading4"},
            ]
        },
        "image": {
            "toolbar": [
                "imageTextAlternative",
                "|",
                "imageStyle:alignLeft",
                "imageStyle:alignCenter",
                "imageStyle:alignRight",
            ],
            "styles": ["alignLeft", "alignCenter", "alignRight"],
        },
        "table": {"contentToolbar": ["tableColumn", "tableRow", "mergeTableCells"]},
        "link": {"addTargetToExternalLinks": True},
        # Classes, not inline styles: the sanitiser drops every style attribute.
        "alignment": {
            "options": [
                {"name": "left", "className": "text-align-left"},
                {"name": "center", "className": "text-align-center"},
                {"name": "right", "className": "text-align-right"},
            ]
        },
    }
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "govcms")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup otherwise closes the database connection before and after every task: a
# new PostgreSQL backend per delivery, which halved the sending rate of a burst.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# WeChat's customer-service message window: after a follower's message, this many hours and messages.
WECHAT_SERVICE_WINDOW_HOURS = env_int("WECHAT_SERVICE_WINDOW_HOURS", 48)
WECHAT_SERVICE_WINDOW_MESSAGES = env_int("WECHAT_SERVICE_WINDOW_MESSAGES", 5)
# Tries a reply gets when WeChat refuses it for a passing reason (busy, rate limit, unreachable) before it fails.
WECHAT_SERVICE_MAX_ATTEMPTS = env_int("WECHAT_SERVICE_MAX_ATTEMPTS", 5)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "send-wechat-case-replies": {
        "task": "publishing.send_wechat_case_replies",
        "schedule": 60,
        "options": {"expires": 60},
    },
    "dispatch-due-deliveries": {
        "task": "publishing.dispatch_due",
        "schedule": env_int("DISPATCH_SECONDS", 5),
        "options": {"expires": 5},
    },
    "resume-stalled-imports": {
        "task": "disclosure.resume_stalled_imports",
        "schedule": 300,
        "options": {"expires": 120},
    },
    "complaints-daily-digest": {
        "task": "complaints.send_daily_digests",
        # Every morning before offices open; the task itself skips departments already sent today.
        "schedule": crontab(hour=env_int("COMPLAINT_DIGEST_HOUR", 7), minute=30),
        "options": {"expires": 3 * 3600},
    },
    "account-health-notices": {
        "task": "publishing.notify_account_health",
        # Each morning; an account's department is mailed at most once a day (publishing/health.py).
        "schedule": crontab(hour=env_int("HEALTH_NOTICE_HOUR", 8), minute=0),
        "options": {"expires": 3 * 3600},
    },
    "wechat-statistics": {
        "task": "publishing.pull_wechat_statistics",
        # WeChat produces yesterday's figures after 08:00, sometimes 10:00: asked at 08:30 and, for what was
        # missing, each hour until noon (the task fetches only the days not yet stored).
        "schedule": crontab(hour="8-12", minute=30),
        "options": {"expires": 3000},
    },
    "heartbeat": {
        "task": "govcms.tasks.heartbeat",
        "schedule": env_int("HEARTBEAT_SECONDS", 60),
        # A missed beat is worthless later; never let them pile up.
        "options": {"expires": 30},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Public disclosure search: requests per client IP per window, against scraping (shared.ratelimit).
# Generous enough for a township office or a mobile carrier's NAT where many people share one address.
DISCLOSURE_SEARCH_RATE = env_int("DISCLOSURE_SEARCH_RATE", 60)
DISCLOSURE_SEARCH_RATE_WINDOW = env_int("DISCLOSURE_SEARCH_RATE_WINDOW", 60)
# The lookup of one's own records (full name + last six of the identity number) needs the captcha and is
# limited per client IP, and per name for lookups that found nothing (against guessing someone's digits).
DISCLOSURE_LOOKUP_RATE_PER_IP = env_int("DISCLOSURE_LOOKUP_RATE_PER_IP", 20)
DISCLOSURE_LOOKUP_FAILURES_PER_NAME = env_int("DISCLOSURE_LOOKUP_FAILURES_PER_NAME", 10)
DISCLOSURE_LOOKUP_WINDOW = env_int("DISCLOSURE_LOOKUP_WINDOW", 3600)
# Rendered search pages are kept this long (0: off); any published change retires them at once.
DISCLOSURE_PAGE_CACHE_SECONDS = env_int("DISCLOSURE_PAGE_CACHE_SECONDS", 600)

# Disclosure imports. Uploaded files and reports of rejected rows hold identity numbers: they live
# outside MEDIA_ROOT, so no web server serves them, and leave only through the admin's permission
# and department checks. DISCLOSURE_MAX_UPLOAD_BYTES is the largest file the admin accepts.
DISCLOSURE_PRIVATE_DIR = Path(env_str("DISCLOSURE_PRIVATE_DIR", str(VAR_DIR / "private")))
DISCLOSURE_MAX_UPLOAD_BYTES = env_int("DISCLOSURE_MAX_UPLOAD_BYTES", 2 * 1024 * 1024 * 1024)
# The admin's small import reads the file in the web request: larger files (and xlsx files unpacking to
# more) are sent to the large import, a Celery task.
DISCLOSURE_SMALL_IMPORT_MAX_BYTES = env_int("DISCLOSURE_SMALL_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
DISCLOSURE_SMALL_IMPORT_MAX_UNZIPPED_BYTES = env_int("DISCLOSURE_SMALL_IMPORT_MAX_UNZIPPED_BYTES", 20 * 1024 * 1024)
# The large (Celery) import streams sheets, but openpyxl keeps all shared strings in memory: a
# million rows of names and villages need some tens of MB of them.
DISCLOSURE_LARGE_IMPORT_MAX_UNZIPPED_BYTES = env_int("DISCLOSURE_LARGE_IMPORT_MAX_UNZIPPED_BYTES", 4 * 1024**3)
DISCLOSURE_LARGE_IMPORT_MAX_SHARED_STRINGS_BYTES = env_int(
    "DISCLOSURE_LARGE_IMPORT_MAX_SHARED_STRINGS_BYTES", 256 * 1024 * 1024
)

# Citizens' messages (complaints app). Attachments hold personal data: outside MEDIA_ROOT, served only
# through the admin's department check. Rate limits fall on the sender's address, never on the citizen:
# submissions per client IP and per mobile number from that IP (per window), per mobile number from any
# address only for captcha-solved submissions (per day); failed tracking attempts per IP and per IP and
# case number, and after COMPLAINT_TRACK_CAPTCHA_AFTER failures on a case or from an IP the captcha is asked.
COMPLAINTS_PRIVATE_DIR = Path(env_str("COMPLAINTS_PRIVATE_DIR", str(VAR_DIR / "private" / "complaints")))
COMPLAINT_ATTACHMENT_MAX_FILES = 5
COMPLAINT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
COMPLAINT_SUBMIT_RATE_PER_IP = env_int("COMPLAINT_SUBMIT_RATE_PER_IP", 10)
COMPLAINT_SUBMIT_RATE_PER_PHONE = env_int("COMPLAINT_SUBMIT_RATE_PER_PHONE", 5)
COMPLAINT_SUBMIT_RATE_PER_PHONE_DAILY = env_int("COMPLAINT_SUBMIT_RATE_PER_PHONE_DAILY", 30)
COMPLAINT_SUBMIT_RATE_WINDOW = env_int("COMPLAINT_SUBMIT_RATE_WINDOW", 3600)
COMPLAINT_TRACK_FAILURES_PER_IP = env_int("COMPLAINT_TRACK_FAILURES_PER_IP", 10)
COMPLAINT_TRACK_FAILURES_PER_IP_CASE = env_int("COMPLAINT_TRACK_FAILURES_PER_IP_CASE", 5)
COMPLAINT_TRACK_CAPTCHA_AFTER = env_int("COMPLAINT_TRACK_CAPTCHA_AFTER", 3)
COMPLAINT_TRACK_WINDOW = env_int("COMPLAINT_TRACK_WINDOW", 3600)
COMPLAINT_CAPTCHA_SECONDS = env_int("COMPLAINT_CAPTCHA_SECONDS", 600)
# The address staff open the admin at, for links in emails (the daily digest of due and overdue messages).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Account health (政务新媒体 checks): days without a mass-send or publication before a warning and an alarm. The
# State Council's rule fails an account silent for two weeks; many provinces are stricter.
HEALTH_WARNING_DAYS = env_int("HEALTH_WARNING_DAYS", 10)
HEALTH_ALARM_DAYS = env_int("HEALTH_ALARM_DAYS", 14)
# Mail: printed by the worker in development; production sets EMAIL_HOST and friends (README.md).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "govcms@localhost")

# The admin's look (django-unfold) and its left menu by task and role: govcms/navigation.py decides who sees
# each item and counts the badges. "All applications" below the menu still opens every list one may see.
_NAV = "govcms.navigation."


def _admin_url(name, query=None):
    """reverse_lazy, but "" where the URLconf has no such page (a test's or a benchmark's own admin site)."""

    def url():
        try:
            return reverse(name, query=query)
        except NoReverseMatch:
            return ""

    return lazy(url, str)()


def _late(path):
    """A link that depends on the person, imported at request time (settings load before the apps)."""
    return lambda request: import_string(path)(request)


UNFOLD = {
    "SITE_TITLE": _("GovCMS"),
    "SITE_HEADER": _("GovCMS content management system"),
    "SITE_SYMBOL": "account_balance",
    "SITE_URL": "/",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": True,
    "BORDER_RADIUS": "4px",
    "STYLES": [lambda request: static("css/admin.css")],
    "COLORS": {
        # The portal's government blue instead of unfold's purple.
        "primary": {
            "50": "239 246 255",
            "100": "219 234 254",
            "200": "191 219 254",
            "300": "147 197 253",
            "400": "96 165 250",
            "500": "59 130 246",
            "600": "29 78 216",
            "700": "30 64 175",
            "800": "30 58 138",
            "900": "23 37 84",
            "950": "15 23 42",
        },
    },
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": True,
        "navigation": [
            {"items": [{"title": _("Workbench"), "icon": "dashboard", "link": _admin_url("admin:index")}]},
            {
                "title": _("Articles"),
                "items": [
                    {"title": _("Write an article"), "icon": "edit_square",
                     "link": _admin_url("admin:content_article_add"), "permission": _NAV + "is_editor"},
                    {"title": _("My articles"), "icon": "article",
                     "link": _late(_NAV + "my_articles_link"), "permission": _NAV + "is_editor"},
                    {"title": _("Mass-send plans"), "icon": "send",
                     "link": _admin_url("admin:publishing_schedule_changelist"), "permission": _NAV + "is_scheduler"},
                    {"title": _("Publishing calendar"), "icon": "calendar_month",
                     "link": _admin_url("admin:publishing_schedule_calendar"), "permission": _NAV + "is_scheduler"},
                    {"title": _("Account health"), "icon": "monitor_heart",
                     "link": _admin_url("admin:publishing_account_health"), "permission": _NAV + "is_scheduler"},
                    {"title": _("Answer library"), "icon": "quiz",
                     "link": _admin_url("admin:answers_answerentry_changelist"), "permission": _NAV + "is_answer_keeper"},
                    {"title": _("Answer statistics"), "icon": "query_stats",
                     "link": _admin_url("admin:publishing_answer_statistics"), "permission": _NAV + "is_answer_keeper"},
                ],
            },
            {
                "title": _("Review"),
                "items": [
                    {"title": _("Awaiting my review"), "icon": "rate_review",
                     "link": _admin_url("admin:content_article_changelist", query={"review": "waiting"}),
                     "permission": _NAV + "is_reviewer", "badge": _NAV + "articles_waiting_for_review"},
                    {"title": _("Reviewed"), "icon": "task_alt",
                     "link": _admin_url("admin:content_article_changelist", query={"review": "reviewed"}),
                     "permission": _NAV + "is_reviewer"},
                ],
            },
            {
                "title": _("Disclosure"),
                "items": [
                    {"title": _("Disclosure batches"), "icon": "folder_open",
                     "link": _admin_url("admin:disclosure_disclosurebatch_changelist"),
                     "permission": _NAV + "is_discloser"},
                    {"title": _("Import"), "icon": "upload_file",
                     "link": _admin_url("admin:disclosure_disbursement_import"), "permission": _NAV + "is_importer"},
                    {"title": _("Annual reports"), "icon": "summarize",
                     "link": _admin_url("admin:disclosure_annualreport_changelist"),
                     "permission": _NAV + "is_report_writer"},
                ],
            },
            {
                "title": _("Citizens' messages"),
                "items": [
                    {"title": _("Cases to do"), "icon": "inbox",
                     "link": _admin_url("admin:complaints_case_changelist", query={"work": "todo"}),
                     "permission": _NAV + "is_handler", "badge": _NAV + "cases_to_do"},
                    {"title": _("Due soon"), "icon": "alarm",
                     "link": _admin_url("admin:complaints_case_changelist", query={"deadline": "due_soon"}),
                     "permission": _NAV + "is_handler", "badge": _NAV + "cases_due_soon", "badge_variant": "warning"},
                    {"title": _("Concluded"), "icon": "done_all",
                     "link": _admin_url("admin:complaints_case_changelist", query={"work": "done"}),
                     "permission": _NAV + "is_handler"},
                    {"title": _("Waiting for my approval"), "icon": "approval",
                     "link": _admin_url("admin:complaints_case_changelist", query={"work": "approve"}),
                     "permission": _NAV + "is_head", "badge": _NAV + "cases_to_approve"},
                ],
            },
            {
                "title": _("System"),
                "items": [
                    {"title": _("Accounts and security"), "icon": "manage_accounts",
                     "link": _admin_url("admin:accounts_user_changelist"), "permission": _NAV + "is_account_manager"},
                    {"title": _("Audit"), "icon": "policy",
                     "link": _admin_url("admin:accounts_auditlog_changelist"), "permission": _NAV + "is_auditor"},
                    {"title": _("WeChat menus"), "icon": "menu",
                     "link": _admin_url("admin:publishing_wechatmenu_changelist"),
                     "permission": _NAV + "is_channel_manager"},
                    {"title": _("WeChat tags"), "icon": "sell",
                     "link": _admin_url("admin:publishing_wechattag_changelist"),
                     "permission": _NAV + "is_channel_manager"},
                ],
            },
        ],
    },
}  # fmt: skip
for _group in UNFOLD["SIDEBAR"]["navigation"][1:]:  # the workbench keeps unfold's rule: lit on the index only
    for _item in _group["items"]:
        _item["active"] = lambda request, link=_item["link"]: import_string(_NAV + "link_is_active")(request, link)

# Answer library (answers/matching.py): how often a process asks Redis whether the library changed.
ANSWERS_VERSION_CHECK_SECONDS = env_int("ANSWERS_VERSION_CHECK_SECONDS", 1)
