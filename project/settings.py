"""Settings, read from the environment (see .env.example for every variable and what it does)."""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer's own overrides; the process environment always wins over the file.
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Django's technical 404/500 pages while DEBUG is on (default: the site's own pages, as in production).
DEBUG_ERROR_PAGES = env.bool("DJANGO_DEBUG_ERROR_PAGES", default=False)

# Production (DEBUG off) demands its secrets: no defaults.
if DEBUG:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-secret-key-not-for-production-use")
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.humanize",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "mozilla_django_oidc",
    "corsheaders",
    "accounts",
    "profiles",
]

MIDDLEWARE = [
    # With DEBUG on, handler500's answer (a database outage: 503) for what any layer below raises.
    "project.middleware.DebugServerErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # CORS for /api/ only (API_CORS_ORIGINS), answering preflights before anything else runs.
    "corsheaders.middleware.CorsMiddleware",
    # A malformed Content-Length is a 400 here, not a 500 where Django reads the body.
    "project.middleware.MalformedRequestMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Why an operator ended this browser's session (disabled account: a page, not a sign-in loop).
    "accounts.middleware.EndedSessionMiddleware",
    # Renews Cognito tokens with the refresh token before they expire (not prompt=none).
    "accounts.middleware.TokenRefreshMiddleware",
    # Keeps the index of each user's sessions (accounts.models.UserSession) current.
    "accounts.middleware.SessionActivityMiddleware",
    # Pushes profile edits that Cognito missed (it was down) on the next request.
    "profiles.middleware.ProfileSyncRetryMiddleware",
    # Default-deny: every view needs a signed-in user unless marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The site's page for a 405 (a GET to a POST-only address) instead of an empty answer.
    "project.middleware.MethodNotAllowedPageMiddleware",
    # With DEBUG on (make dev), the site's own error pages unless DJANGO_DEBUG_ERROR_PAGES=true.
    "project.middleware.FriendlyErrorPagesMiddleware",
]

ROOT_URLCONF = "project.urls"

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
                "profiles.context_processors.header_avatar",
            ],
        },
    },
]

WSGI_APPLICATION = "project.wsgi.application"

# Postgres only. `make dev` / `make test` start a project-local cluster and set this for you.
DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Prepared statements: server-side parameter binding, each statement prepared on first use and kept
# per connection (psycopg's LRU of 100). Planning the API's two-table read costs more than running
# it. Turn off behind a pooler that cannot carry prepared statements (PgBouncer in transaction mode
# before 1.21).
if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=0)

# Shared across processes (the JWKS and discovery document are cached here).
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://django_cache")}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.auth.CognitoAuthenticationBackend"]
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "profiles:me"
LOGOUT_REDIRECT_URL = "home"

# Sessions live server-side (in Postgres): tokens never reach the browser.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=60 * 60 * 12)
SESSION_COOKIE_HTTPONLY = True
# Each signed-in session's "last seen" (accounts.models.UserSession) is written at most this often.
SESSION_INDEX_TOUCH = env.int("DJANGO_SESSION_INDEX_TOUCH", default=300)
SESSION_COOKIE_SAMESITE = "Lax"  # the hosted UI returns with a top-level GET: Lax keeps the cookie
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
BEHIND_PROXY = env.bool("DJANGO_BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

AUTH_PASSWORD_VALIDATORS: list[dict] = []  # passwords live in Cognito, never here

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Amazon Cognito ---------------------------------------------------------------------------
# The same settings point the app at real AWS or at the local stack (localcloud/): only the base
# URLs differ. The token issuer is always the AWS form, as Cognito (and localcloud) sign it.
COGNITO_REGION = env("COGNITO_REGION")
COGNITO_USER_POOL_ID = env("COGNITO_USER_POOL_ID")
COGNITO_CLIENT_ID = env("COGNITO_CLIENT_ID")
COGNITO_CLIENT_SECRET = env("COGNITO_CLIENT_SECRET")
# Hosted UI / managed login base URL, e.g. https://<prefix>.auth.<region>.amazoncognito.com
COGNITO_DOMAIN = env("COGNITO_DOMAIN").rstrip("/")
# Where the pool's discovery document and JWKS are fetched from.
COGNITO_IDP_URL = (
    env("COGNITO_IDP_URL", default="") or f"https://cognito-idp.{COGNITO_REGION}.amazonaws.com"
).rstrip("/")
COGNITO_ISSUER = f"https://cognito-idp.{COGNITO_REGION}.amazonaws.com/{COGNITO_USER_POOL_ID}"
# Endpoint for boto3's AWS APIs (cognito-idp, cognito-identity, s3); unset means AWS itself.
AWS_ENDPOINT_URL = env("AWS_ENDPOINT_URL", default="") or None
COGNITO_SCOPES = env("COGNITO_SCOPES", default="openid email profile aws.cognito.signin.user.admin")
# Members of this Cognito group become Django staff; superuser only when a group is named here.
COGNITO_STAFF_GROUP = env("COGNITO_STAFF_GROUP", default="admin")
COGNITO_SUPERUSER_GROUP = env("COGNITO_SUPERUSER_GROUP", default="")
# The closed list of roles `custom:role` may hold (project/roles.py); any other value is no role.
# The identity pool's role mapping must use the same names (README: Roles and moderation).
ROLES = env.list("ROLES", default=["member", "moderator", "admin"])
# The roles that may moderate (remove another's avatar, hide a profile); each must be in ROLES.
MODERATOR_ROLES = env.list("MODERATOR_ROLES", default=["moderator", "admin"])
if not set(MODERATOR_ROLES) <= set(ROLES):
    raise ImproperlyConfigured("MODERATOR_ROLES must all be in ROLES.")
# Where Cognito's /logout sends the browser back; must be one of the client's sign-out URLs.
# Empty: the absolute URL of LOGOUT_REDIRECT_URL on the requested host.
COGNITO_LOGOUT_URI = env("COGNITO_LOGOUT_URI", default="")
# Renew tokens this many seconds before they expire.
COGNITO_REFRESH_MARGIN = env.int("COGNITO_REFRESH_MARGIN", default=300)
# The account page (/account/): how long it trusts its last GetUser, how recent a sign-in must be
# for removing MFA, changing the e-mail or deleting the account, and the authenticator apps' label.
ACCOUNT_STATE_SECONDS = env.int("ACCOUNT_STATE_SECONDS", default=60)
ACCOUNT_REAUTH_SECONDS = env.int("ACCOUNT_REAUTH_SECONDS", default=300)
ACCOUNT_TOTP_ISSUER = env.str("ACCOUNT_TOTP_ISSUER", default="Profiles")
# Seconds allowed for clock skew when checking exp/iat.
COGNITO_LEEWAY = env.int("COGNITO_LEEWAY", default=30)
# Minimum seconds between two JWKS fetches triggered by an unknown kid.
COGNITO_JWKS_MIN_REFETCH = env.int("COGNITO_JWKS_MIN_REFETCH", default=60)
# Timeout (connect, read) in seconds of every outbound call to Cognito.
COGNITO_TIMEOUT = env.float("COGNITO_TIMEOUT", default=5.0)
# External identity providers of the app client (their ProviderName in the user pool) that the
# sign-in page offers as "Continue with …" and that /oidc/authenticate/?identity_provider= may name.
COGNITO_IDENTITY_PROVIDERS = env.list(
    "COGNITO_IDENTITY_PROVIDERS", default=["Google", "Facebook", "SignInWithApple"]
)

# --- Identity pool and S3 (avatars) -----------------------------------------------------------
# The identity pool that trades a user's ID token for temporary AWS credentials (and gives guests
# read-only ones). Its provider must be this user pool's app client. Required for avatars.
COGNITO_IDENTITY_POOL_ID = env("COGNITO_IDENTITY_POOL_ID", default="")
# Renew identity-pool credentials this many seconds before they expire (they last one hour).
IDENTITY_CREDENTIALS_MARGIN = env.int("IDENTITY_CREDENTIALS_MARGIN", default=300)
# The private bucket holding avatars (no public access; read through presigned URLs only).
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
# S3 endpoint; defaults to AWS_ENDPOINT_URL (unset on AWS: the regional S3 endpoint).
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default="") or AWS_ENDPOINT_URL
AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default="") or COGNITO_REGION
# "virtual" (AWS's default) or "path" (needed for an IP endpoint such as the local stack).
AWS_S3_ADDRESSING_STYLE = env("AWS_S3_ADDRESSING_STYLE", default="") or (
    "path" if AWS_S3_ENDPOINT_URL else "virtual"
)
# Timeout (connect, read) in seconds of every call to the identity pool and S3.
AWS_TIMEOUT = env.float("AWS_TIMEOUT", default=5.0)
# Largest accepted upload, in bytes (the form, the presigned POST and the bounded read).
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=5 * 1024 * 1024)
# Largest accepted image in pixels (width x height), checked before decoding: decompression bombs.
AVATAR_MAX_PIXELS = env.int("AVATAR_MAX_PIXELS", default=40_000_000)
# Longest side in pixels, and longest side over shortest side, checked before decoding: a long thin
# picture defeats JPEG's scaled decoding (security finding 11).
AVATAR_MAX_SIDE = env.int("AVATAR_MAX_SIDE", default=10_000)
AVATAR_MAX_ASPECT = env.float("AVATAR_MAX_ASPECT", default=4.0)
# Memory one upload's decoding may take, in MiB, estimated from the header (format, size, JPEG
# scans): PNG, WebP, GIF and progressive JPEG decode every pixel, so their pixel caps follow from it.
AVATAR_MAX_DECODE_MB = env.int("AVATAR_MAX_DECODE_MB", default=96)
# HEIC only (no browser scales it down for us): what one decode may take, in MiB, at 16 B per
# pixel without alpha, 21 B with (the costliest streams, bench/avatars.py; the header cannot be
# trusted to say which): 384 MiB admits an iPhone's 24-megapixel photo (5712×4284: 373 MiB). A HEIC over
# AVATAR_MAX_DECODE_MB (an iPhone's 12 MP photo: 186 MiB) is a "large decode": at most
# AVATAR_LARGE_DECODES of them run at once per process; another waits up to
# AVATAR_LARGE_DECODE_WAIT_SECONDS, then is told to try again (503).
AVATAR_MAX_HEIC_DECODE_MB = env.int("AVATAR_MAX_HEIC_DECODE_MB", default=384)
AVATAR_LARGE_DECODES = env.int("AVATAR_LARGE_DECODES", default=1)
AVATAR_LARGE_DECODE_WAIT_SECONDS = env.float("AVATAR_LARGE_DECODE_WAIT_SECONDS", default=5.0)
# Largest metadata (EXIF, XMP, ICC, comments) an upload may carry, in bytes; it is stripped anyway.
AVATAR_MAX_METADATA_BYTES = env.int("AVATAR_MAX_METADATA_BYTES", default=256 * 1024)
# Most scans a JPEG may have, checked before decoding: libjpeg decodes every one (a repeated scan is
# only a warning), so thousands of them in a few MB are a CPU bomb. Encoders write 1 (baseline) to
# about 12 (progressive).
AVATAR_MAX_JPEG_SCANS = env.int("AVATAR_MAX_JPEG_SCANS", default=64)
# Lifetime of a presigned avatar URL (it also dies with the credentials that signed it).
AVATAR_URL_SECONDS = env.int("AVATAR_URL_SECONDS", default=3600)
# Lifetime of the presigned POST a browser gets for a direct upload.
AVATAR_UPLOAD_SECONDS = env.int("AVATAR_UPLOAD_SECONDS", default=300)

# --- JSON API (Bearer access tokens) ---------------------------------------------------------
# Who an API request acts for (project/api.py calls it): Cognito access tokens, checked locally.
API_AUTHENTICATOR = "accounts.bearer.authenticate"
# The public app client (no secret, PKCE) of single-page apps such as spa/, if there is one.
COGNITO_SPA_CLIENT_ID = env("COGNITO_SPA_CLIENT_ID", default="")
# App clients whose access tokens the API accepts (the `client_id` claim): by default this app's
# client and the single-page app's.
API_CLIENT_IDS = env.list(
    "API_CLIENT_IDS", default=[COGNITO_CLIENT_ID, *([COGNITO_SPA_CLIENT_ID] if COGNITO_SPA_CLIENT_ID else [])]
)
# Web origins (scheme://host[:port]) whose pages may call the API from a browser (CORS). /api/ only:
# pages, forms and the admin never answer another origin. No credentials (the API takes only Bearer
# tokens, never the session cookie). Default: the local SPA (make spa) in debug, none otherwise.
CORS_ALLOWED_ORIGINS = env.list("API_CORS_ORIGINS", default=["http://localhost:5173"] if DEBUG else [])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["GET", "PATCH", "OPTIONS"]
CORS_ALLOW_HEADERS = ["authorization", "content-type", "if-match"]
CORS_EXPOSE_HEADERS = ["ETag"]
CORS_PREFLIGHT_MAX_AGE = 600
# Scope every API call needs; Cognito grants it to hosted-UI and InitiateAuth tokens alike.
API_SCOPE = env("API_SCOPE", default="aws.cognito.signin.user.admin")
# A signed-out user's access token stays valid until it expires (Cognito's model). When on, the
# API also asks Cognito (GetUser) whether each token still stands, at most once per token per TTL.
API_CONFIRM_TOKENS = env.bool("API_CONFIRM_TOKENS", default=False)
API_CONFIRM_TOKENS_TTL = env.int("API_CONFIRM_TOKENS_TTL", default=300)

# --- mozilla-django-oidc, extended in accounts/ for Cognito ----------------------------------
# The OP endpoints (OIDC_OP_*) come from the pool's discovery document; see project/integrations/cognito.py.
OIDC_RP_CLIENT_ID = COGNITO_CLIENT_ID
OIDC_RP_CLIENT_SECRET = COGNITO_CLIENT_SECRET
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = COGNITO_SCOPES
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_TIMEOUT = COGNITO_TIMEOUT
OIDC_STORE_ACCESS_TOKEN = True
OIDC_STORE_ID_TOKEN = True
OIDC_REDIRECT_REQUIRE_HTTPS = not DEBUG
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "accounts:sign_in_failed"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "botocore": {"level": "WARNING"}},
}

# --- Benchmarks (bench/README.md) --------------------------------------------------------------
# Mounts bench/urls.py under /bench/: comparison endpoints, one of which serves a fixed user with
# no authentication. For `make bench` only, which runs on databases of its own: never in production.
BENCH_URLS = env.bool("BENCH_URLS", default=False)
if BENCH_URLS and not DATABASES["default"]["NAME"].endswith("_bench"):
    raise ImproperlyConfigured("BENCH_URLS is for benchmarks only: it needs a database named *_bench.")
