"""Django settings for Guanjia.

Three layers, read top to bottom: defaults, site configuration from the environment,
and values computed from both. Secrets come from `_secret_key()`, which fails loudly in
production rather than running with a guessable key.
"""

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("GUANJIA_VAR_DIR", PROJECT_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a random key kept in var/ for this installation."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


# --- site configuration from the environment -------------------------------------------
DEBUG = _env_bool("DEBUG", False)
SECRET_KEY = _secret_key()
# Key of the stored ID-card numbers (estate/identity.py); SECRET_KEY when empty. Keep it with the backups.
GUANJIA_DATA_KEY = os.environ.get("GUANJIA_DATA_KEY") or ""
# The site's address (https://kefu.example.com), for links in e-mails sent by the worker.
GUANJIA_SITE_URL = os.environ.get("GUANJIA_SITE_URL") or ""
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", "")
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'guanjia.sqlite3'}"
REDIS_URL = os.environ.get("REDIS_URL") or ""
# Production means HTTPS behind a proxy; the demo and tests run over plain HTTP on localhost.
SECURE = _env_bool("GUANJIA_SECURE", not DEBUG and bool(os.environ.get("SECRET_KEY")))

# --- applications ----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    # Sign-in throttling (guanjia.security.signin), the Content-Security-Policy header, and ninja's
    # own copy of the API docs' scripts (served from here, not a CDN, so the CSP can allow them).
    "axes",
    "csp",
    "ninja",
    "guanjia.core",
    "guanjia.org",
    "guanjia.estate",
    "guanjia.cases",
    "guanjia.notifications",
    "guanjia.reports",
    "guanjia.telephony",
    "guanjia.wechat",
    "guanjia.portal",
    "guanjia.security",
    "guanjia.privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Before anything reads the body: a request too large to read is refused with 413.
    "guanjia.core.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "guanjia.core.middleware.CurrentProjectMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "guanjia.urls"
WSGI_APPLICATION = "guanjia.wsgi.application"
AUTH_USER_MODEL = "org.Staff"
LOGIN_URL = "login"
# Managers land on their dashboard, everyone else on the workbench (reports.views.landing).
LOGIN_REDIRECT_URL = "reports:landing"
LOGOUT_REDIRECT_URL = "login"

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
                "guanjia.core.context_processors.console",
            ],
        },
    },
]

# --- database ----------------------------------------------------------------------------
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker and the web process write without blocking readers.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# PostgreSQL: parameters are bound on the server, so psycopg prepares the statements a connection
# runs again and again (intake, the lists) and PostgreSQL plans them once, not on every request.
# GUANJIA_PG_PREPARE=0 turns it off, e.g. behind PgBouncer before 1.21 in transaction pooling mode.
# (Django leaves psycopg's preparing off unless `prepare_threshold` is given: here from the fifth run.)
PG_OPTIONS = {"server_side_binding": True, "prepare_threshold": 5} if _env_bool("GUANJIA_PG_PREPARE", True) else {}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = dict(PG_OPTIONS)
# A read replica of the primary (PostgreSQL streaming replication) for report queries; without
# it everything reads and writes `default`. See core/db_router.py and docs/deploy.md.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL") or ""
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60)
    DATABASES["replica"]["OPTIONS"] = dict(PG_OPTIONS)
    # Tests read the test database through the replica alias instead of creating another one.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["guanjia.core.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background worker -------------------------------------------------------------------
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("HUEY_NAME", "guanjia"),
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "guanjia",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": _env_bool("HUEY_IMMEDIATE", False),
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# --- language and time -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and media files ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", PROJECT_DIR / "staticfiles"))
NODE_MODULES = PROJECT_DIR / "node_modules"
# Front-end libraries come from npm (package.json); `guanjia collect_assets` copies the few
# files the pages load from node_modules into var/vendor, served under /static/vendor/.
VENDOR_DIR = VAR_DIR / "vendor"
VENDOR_DIR.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor", VENDOR_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploaded files (photos, attachments, ledger workbooks) go to an S3-compatible bucket when
# GUANJIA_S3_BUCKET is set (django-storages; credentials from AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY or the machine's role); otherwise to MEDIA_ROOT. The bucket stays private:
# the console and the portal stream every file through a permission check.
GUANJIA_S3_BUCKET = os.environ.get("GUANJIA_S3_BUCKET") or ""
if GUANJIA_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": GUANJIA_S3_BUCKET,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "location": os.environ.get("GUANJIA_S3_PREFIX", "media").strip("/"),
            # "path" for MinIO and most self-hosted stores; "virtual" for AWS, Aliyun OSS, Tencent COS.
            "addressing_style": os.environ.get("AWS_S3_ADDRESSING_STYLE") or None,
            "signature_version": os.environ.get("AWS_S3_SIGNATURE_VERSION", "s3v4"),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 600,
            "file_overwrite": False,
            "verify": _env_bool("AWS_S3_VERIFY", True),
        },
    }
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
# The largest request body accepted at all, uploads included (the portal's 9 photos of at most
# 10 MB each fit); larger ones are refused with 413 before they are read.
GUANJIA_MAX_REQUEST_BYTES = int(os.environ.get("GUANJIA_MAX_REQUEST_MB", "100")) * 1024 * 1024

# --- mail ----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "guanjia@localhost")

# --- security (docs/security.md explains each setting) -------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 3600)))
# Lax rather than Strict: a link into the console from a text message or an e-mail opens signed in.
SESSION_COOKIE_SAMESITE = "Lax"
# For shared front-desk computers: the session ends when the browser is closed.
SESSION_EXPIRE_AT_BROWSER_CLOSE = _env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
# No script reads the CSRF cookie: htmx and the API docs take the token from the page itself.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp) for the console, the owner portal, the admin and the API docs:
# scripts only from this site (no inline scripts or handlers, Alpine's CSP build, no eval); styles
# may be inline because ECharts' tooltips and a few progress bars set style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        # data: and blob: for icons in the stylesheet and the portal's photo previews; WeChat's image
        # host for photos owners sent through the Official Account.
        "img-src": ["'self'", "data:", "blob:", *_env_list("GUANJIA_CSP_IMG_SRC", "https://mmbiz.qpic.cn")],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        **({"report-uri": [os.environ["GUANJIA_CSP_REPORT_URI"]]} if os.environ.get("GUANJIA_CSP_REPORT_URI") else {}),
    },
}
# Browser features no page of Guanjia uses are switched off for the pages and anything they embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}
if SECURE:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers check the web processes over plain HTTP on the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# Staff sign-in throttling (django-axes, configured in guanjia.security.signin): 5 wrong passwords
# for one user name within 15 minutes lock it for 15 minutes; 30 failures from one address lock the
# address. Counted in the database, so every web process sees the same counts.
AUTHENTICATION_BACKENDS = [
    "guanjia.security.signin.StaffLoginBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("GUANJIA_LOGIN_FAILURES", "5"))
GUANJIA_LOGIN_FAILURES_PER_IP = int(os.environ.get("GUANJIA_LOGIN_FAILURES_PER_IP", "30"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("GUANJIA_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# A try while locked neither counts nor extends the lockout.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_HANDLER = "guanjia.security.signin.StaffLoginHandler"
AXES_LOCKOUT_CALLABLE = "guanjia.security.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "guanjia.security.signin.client_ip"
AXES_ENABLE_ADMIN = False  # guanjia.security.admin shows the same records with Guanjia's labels
AXES_VERBOSE = False
# axes.W006 asks for "ip_address" among the lockout parameters; the address limit is counted by
# StaffLoginHandler instead, with a limit of its own (axes has one limit for all parameters, and a
# service centre's staff share one address).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
GUANJIA_SIGN_IN_RECORDS_DAYS = int(os.environ.get("GUANJIA_SIGN_IN_RECORDS_DAYS", "200"))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every handler masks mainland mobile and ID-card numbers in what it writes (docs/security.md).
    "filters": {"personal_data": {"()": "guanjia.security.logfilter.PersonalDataFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "worker": {"format": "[%(asctime)s] %(levelname)s:%(name)s:%(threadName)s:%(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["personal_data"]},
        "worker": {"class": "logging.StreamHandler", "formatter": "worker", "filters": ["personal_data"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django, gunicorn (its access lines carry query strings) and the worker bring handlers of
        # their own that would write past the filter; here they write through ours, once each.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # django-axes tells every sign-in at INFO; its warnings (failures, lockouts) are enough.
        "axes": {"level": "WARNING"},
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # run_huey adds its own handler only to a "huey" logger that has none.
        "huey": {"handlers": ["worker"], "level": "INFO", "propagate": False},
    },
}

# --- WeChat Official Account (guanjia.wechat, docs/wechat.md); empty values switch it off ---------
WECHAT_APP_ID = os.environ.get("WECHAT_APP_ID", "")
WECHAT_APP_SECRET = os.environ.get("WECHAT_APP_SECRET", "")
WECHAT_TOKEN = os.environ.get("WECHAT_TOKEN", "")
WECHAT_ENCODING_AES_KEY = os.environ.get("WECHAT_ENCODING_AES_KEY", "")
# {kind: {"template_id": …, "data": {keyword: param}}} as JSON; "…ApiWeChatGateway" sends for real.
WECHAT_TEMPLATES = json.loads(os.environ.get("WECHAT_TEMPLATES") or "{}")
GUANJIA_WECHAT_BACKEND = os.environ.get("GUANJIA_WECHAT_BACKEND", "guanjia.wechat.gateway.LogWeChatGateway")

# --- Guanjia -------------------------------------------------------------------------------
GUANJIA_PAGE_SIZE = 25
