"""Settings shared by every environment; what differs comes from the environment."""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# Each environment decides how it gets its key; production insists on one.
SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "axes",
    "prisma",
    "lor",
    "core",
    "datapool",
    "infrastructure",
    "explorer",
    "queries",
    "funding",
    "profiles",
    "start",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "prisma.middleware.GermanFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "prisma.urls"
# A refused form explains itself in the site layout (German first).
CSRF_FAILURE_VIEW = "prisma.errors.csrf_failure"
WSGI_APPLICATION = "prisma.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.navigation.navigation",
            ],
        },
    },
]

# Every environment, tests included, runs on PostGIS: the LOR logic relies on
# spatial SQL (dissolve, containment checks) that only PostGIS provides.
DATABASES = {
    "default": env.db("DATABASE_URL", engine="django.contrib.gis.db.backends.postgis")
}
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Import progress is written through a second connection so that pages polling
# a run see it while the import's own transaction is still open.
DATABASES["progress"] = {**DATABASES["default"]}
PRISMA_PROGRESS_DB = "progress"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for
# one user name from one address, that pair is refused for AXES_COOLOFF_TIME,
# even with the right password. An administrator lifts a lockout early with
# `manage.py axes_reset_username <name>` (or `axes_reset` for all). Locking the
# pair, not the name alone, keeps a stranger from locking a colleague out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # its start-up banner would open every manage.py run
# The lockout page in the site layout, and an audit event (core/login_throttle.py).
AXES_LOCKOUT_CALLABLE = "core.login_throttle.lockout_response"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded deliveries live outside the web root and are never served directly.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
PRISMA_UPLOAD_MAX_BYTES = env.int("PRISMA_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
# The limit is enforced while the body streams in (prisma/uploads.py): an
# oversized file is never written to the temporary directory in full.
FILE_UPLOAD_HANDLERS = [
    "prisma.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# How much of a table (CSV/XLSX) an import reads, in the worker; a table beyond
# one of these is refused with a message naming the limit before its rows are
# held in memory (datapool/parsers/limits.py, docs/operations.md "Limits").
PRISMA_TABLE_MAX_COLUMNS = env.int("PRISMA_TABLE_MAX_COLUMNS", default=2_000)
PRISMA_TABLE_MAX_ROWS = env.int("PRISMA_TABLE_MAX_ROWS", default=100_000)
PRISMA_TABLE_MAX_CELLS = env.int("PRISMA_TABLE_MAX_CELLS", default=1_000_000)
PRISMA_TABLE_MAX_UNPACKED_BYTES = env.int(
    "PRISMA_TABLE_MAX_UNPACKED_BYTES", default=100 * 1024 * 1024
)

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# The default cache stays per process; per-user limits need one count across all
# web processes, kept in Redis (core/throttle.py). Short timeouts: a missing
# Redis must not hold a request up (the throttle then lets it through).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttle": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "prisma-throttle",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
    # Rendered answers of the value and map APIs shared by all web processes
    # (datapool/response_cache.py). Keys carry the data version, so an entry
    # only lives on to save memory; a Redis that does not answer within half a
    # second is left alone for a while and every process answers on its own.
    "answers": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "prisma-answers",
        "TIMEOUT": 600,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
}
# Map PDF/PNG/SVG, XLSX, GeoPackage and Shapefile exports each user may start
# per minute (core/throttle.py); more are answered with 429.
PRISMA_HEAVY_EXPORTS_PER_MINUTE = env.int("PRISMA_HEAVY_EXPORTS_PER_MINUTE", default=10)
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_TIMEZONE = TIME_ZONE
# One queue per kind of work, each with its own worker processes (scripts/run.sh,
# docker-compose.yml): a Berlin-wide batch of profile PDFs fills only the
# "batch" queue, so an import always finds a free slot.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "datapool.tasks.import_run_execute_task": {"queue": "imports"},
    "datapool.tasks.import_run_inspect_task": {"queue": "imports"},
    "datapool.tasks.conversion_run_execute_task": {"queue": "imports"},
    "datapool.tasks.indicator_run_execute_task": {"queue": "indicators"},
    "funding.tasks.funding_import_execute_task": {"queue": "imports"},
    "profiles.tasks.*": {"queue": "batch"},
}
# Time limits in seconds. At the soft limit the task gets an exception and ends
# cleanly (an import or computation rolls back and its run is marked failed);
# a minute later the hard limit kills the process. Every task has the default;
# the tasks below may take longer.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("PRISMA_TASK_SOFT_TIME_LIMIT", default=10 * 60)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60


def _time_limits(seconds: int) -> dict[str, int]:
    return {"soft_time_limit": seconds, "time_limit": seconds + 60}


CELERY_TASK_ANNOTATIONS = {
    "datapool.tasks.import_run_execute_task": _time_limits(
        env.int("PRISMA_IMPORT_SOFT_TIME_LIMIT", default=30 * 60)
    ),
    # Reading a table within PRISMA_TABLE_MAX_* takes seconds; the limit catches
    # a file that is slow in a way no limit foresaw.
    "datapool.tasks.import_run_inspect_task": _time_limits(
        env.int("PRISMA_INSPECT_SOFT_TIME_LIMIT", default=2 * 60)
    ),
    "datapool.tasks.indicator_run_execute_task": _time_limits(
        env.int("PRISMA_INDICATORS_SOFT_TIME_LIMIT", default=30 * 60)
    ),
    # One region's PDF takes seconds; the limit catches a hanging render.
    "profiles.tasks.profile_batch_region_task": _time_limits(
        env.int("PRISMA_PROFILE_PDF_SOFT_TIME_LIMIT", default=5 * 60)
    ),
}
# Uploads accepted while Redis was down stay queued; these sweeps send them once
# it answers again and fail runs whose worker died (stale heartbeat). Facility
# uploads are only failed: one the broker cannot take fails at once.
CELERY_BEAT_SCHEDULE = {
    "send-queued-imports": {
        "task": "datapool.tasks.import_runs_send_queued_task",
        "schedule": 60.0,
    },
    "funding-imports-sweep": {
        "task": "funding.tasks.funding_imports_sweep_task",
        "schedule": 60.0,
    },
    "facility-uploads-sweep": {
        "task": "infrastructure.tasks.facility_uploads_sweep_task",
        "schedule": 60.0,
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PRISMA Berlin API",
    "DESCRIPTION": (
        "Planungsraumbezogenes Informationssystem für Monitoring und Analyse: "
        "LOR units (Lebensweltlich orientierte Räume) and their data."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The Swagger UI assets come from the drf-spectacular-sidecar package, so the
    # docs page works without reaching a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several serializers have a "status" field; the values' status gets its own
    # name instead of a generated one.
    "ENUM_NAME_OVERRIDES": {
        "ObservationStatusEnum": ["ok", "suppressed", "missing", "estimated"],
    },
}


# Content Security Policy (django-csp): scripts only from this origin, no inline
# scripts or event handlers; styles allow inline because Leaflet, the legend and
# progress bars set style attributes. Tiles of a configured base map may load.
def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.netloc.replace("{s}", "*")  # Leaflet's subdomain placeholder
    return f"{parts.scheme}://{host}" if parts.scheme and host else ""


_CSP_SELF, _CSP_NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_CSP_SELF],
        "script-src": [_CSP_SELF],
        "style-src": [_CSP_SELF, "'unsafe-inline'"],
        "img-src": [
            _CSP_SELF,
            "data:",
            "blob:",
            *filter(None, [_origin(env("PRISMA_BASEMAP_URL", default=""))]),
        ],
        "font-src": [_CSP_SELF, "data:"],
        "connect-src": [_CSP_SELF],
        "object-src": [_CSP_NONE],
        "base-uri": [_CSP_SELF],
        "form-action": [_CSP_SELF],
        "frame-ancestors": [_CSP_NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# No tile server is reachable from the administration's network by default:
# the map draws unit outlines on a neutral background unless a base layer is
# configured.
PRISMA_BASEMAP_URL = env("PRISMA_BASEMAP_URL", default="")
PRISMA_BASEMAP_ATTRIBUTION = env("PRISMA_BASEMAP_ATTRIBUTION", default="")
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (52.51, 13.40),
    "DEFAULT_ZOOM": 10,
    "MIN_ZOOM": 9,
    "MAX_ZOOM": 18,
    "TILES": [],
    "ATTRIBUTION_PREFIX": "PRISMA",
    "RESET_VIEW": False,
}

# Debian 12 ships GDAL 3.6; user files are read through pyogrio, whose wheel
# bundles its own current GDAL, not through GeoDjango's GDAL bindings.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

PRISMA_LOR_DATA_DIR = BASE_DIR / "lor" / "data"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
