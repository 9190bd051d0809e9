"""Configuration: the only module that reads environment variables.

Embedded defaults make a fresh clone run with nothing set (SQLite in ``instance/``,
a Whoosh folder, local media, cash on delivery). Environment variables switch on the
production parts (PostgreSQL, Redis, Stripe, SMTP). ``MARKETPLACE_ENV`` picks the class.
"""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEV_SECRET_KEY = "dev-not-secret-change-me"


# The helpers below run at import, while the class bodies are read: mutation testing leaves them alone
# (`make mutate` checks its setup by making every mutated function fail, which must not break the import).
def _env(name: str, default: str | None = None) -> str | None:  # pragma: no mutate block
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _bool(name: str, default: bool = False) -> bool:  # pragma: no mutate block
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:  # pragma: no mutate block
    value = _env(name)
    return int(value) if value is not None else default


def _database_url(url: str | None) -> str | None:  # pragma: no mutate block
    if url is None:
        return None
    # Heroku-style URLs; SQLAlchemy wants the psycopg 3 driver spelled out.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    ENV_NAME = "development"
    SECRET_KEY = _env("SECRET_KEY", DEV_SECRET_KEY)
    DATA_DIR = _env("MARKETPLACE_DATA_DIR", str(BASE_DIR / "instance"))
    SQLALCHEMY_DATABASE_URI = _database_url(_env("DATABASE_URL"))  # None → SQLite in DATA_DIR
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # A read-only replica of the database: read-only catalog and statistics pages send their queries there
    # (marketplace/core/replica.py); None = everything goes to DATABASE_URL.
    DATABASE_REPLICA_URL = _database_url(_env("DATABASE_REPLICA_URL"))
    SQLALCHEMY_BINDS: dict = {}  # the replica becomes the "replica" bind (set at start-up)
    SEARCH_BACKEND = _env("SEARCH_BACKEND", "whoosh")  # "whoosh" (index folder, one host) or "postgres"
    SEARCH_INDEX_DIR = _env("SEARCH_INDEX_DIR")  # None → DATA_DIR/search-index
    SEARCH_WRITE_TIMEOUT = float(_env("SEARCH_WRITE_TIMEOUT", "0.3"))  # seconds a save waits for the index lock
    MEDIA_ROOT = _env("MEDIA_ROOT")  # None → DATA_DIR/media
    MEDIA_URL = _env("MEDIA_URL", "/media/")
    # Claims' evidence files (OCOP certificates, IP documents): private, never served from MEDIA_ROOT.
    EVIDENCE_ROOT = _env("EVIDENCE_ROOT")  # None → DATA_DIR/evidence
    MAX_EVIDENCE_BYTES = _int("MAX_EVIDENCE_BYTES", 8 * 1024 * 1024)
    # Where photos live: "local" (MEDIA_ROOT, the embedded default) or "s3" (an S3-compatible bucket, below).
    MEDIA_STORAGE = _env("MEDIA_STORAGE", "local")
    # Originals (never public) with local storage: outside MEDIA_ROOT. None → DATA_DIR/media-private.
    MEDIA_PRIVATE_ROOT = _env("MEDIA_PRIVATE_ROOT")
    # Browsers fetch derivatives from this address (the bucket's or a CDN's public URL, ending in /) instead of
    # the site's /media/ route; None = through the site.
    MEDIA_PUBLIC_URL = _env("MEDIA_PUBLIC_URL")
    S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")  # None = AWS S3 itself; MinIO, R2, Spaces… give their address
    S3_BUCKET = _env("S3_BUCKET")
    S3_REGION = _env("S3_REGION", "us-east-1")
    S3_ACCESS_KEY_ID = _env("S3_ACCESS_KEY_ID")
    S3_SECRET_ACCESS_KEY = _env("S3_SECRET_ACCESS_KEY")
    S3_ADDRESSING_STYLE = _env("S3_ADDRESSING_STYLE", "path")  # "path" or "virtual"
    # Derivatives written with a public-read ACL; false for buckets with ACLs off (a bucket policy instead).
    S3_PUBLIC_ACL = _bool("S3_PUBLIC_ACL", True)
    MEDIA_SIZES = (320, 800, 1600)
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 12 * 1024 * 1024)
    MAX_IMAGE_PIXELS = _int("MAX_IMAGE_PIXELS", 40_000_000)
    # One request's image work (photo form, bulk import, API), counted from the headers before decoding:
    # decoded pixels (a JPEG at the reduced size it is decoded at) and image files.
    MAX_IMAGE_PIXELS_PER_REQUEST = _int("MAX_IMAGE_PIXELS_PER_REQUEST", 100_000_000)
    MAX_IMAGES_PER_REQUEST = _int("MAX_IMAGES_PER_REQUEST", 20)
    # A bulk import's ZIP of photos: most bytes its entries may hold once uncompressed (declared and read).
    MAX_ZIP_UNCOMPRESSED = _int("MAX_ZIP_UNCOMPRESSED", 64 * 1024 * 1024)
    LOW_STOCK_THRESHOLD = _int("LOW_STOCK_THRESHOLD", 3)  # seller dashboard: "sắp hết hàng" at or below this
    REDIS_URL = _env("REDIS_URL")
    RATELIMIT_STORAGE_URI = _env("REDIS_URL", "memory://")
    # Redis down (README, "When a part fails"): limits fail open to counting in each process's memory
    # (flask-limiter's in-memory fallback; every limit still applies, per process) and go back to Redis when it
    # answers again; a storage error never fails a request. A Redis that hangs costs at most the timeouts.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = REDIS_URL is not None
    RATELIMIT_SWALLOW_ERRORS = REDIS_URL is not None
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5} if REDIS_URL else {}
    # Background jobs (marketplace/core/jobs.py): RQ on REDIS_URL, run by `flask worker`; JOBS_INLINE keeps the
    # inline paths even with Redis. Failed jobs stay listed (/admin/jobs) this many seconds.
    JOBS_INLINE = _bool("JOBS_INLINE", False)
    JOBS_FAILED_TTL = _int("JOBS_FAILED_TTL", 14 * 24 * 3600)
    JOBS_WORKER_NICE = _int("JOBS_WORKER_NICE", 10)  # `flask worker` lowers its CPU priority by this much
    # The worker's schedule (seconds between runs, or a crontab line in the server's time; 0/empty = off).
    JOB_RECONCILE_EVERY = _int("JOB_RECONCILE_EVERY", 300)
    JOB_MAIL_EVERY = _int("JOB_MAIL_EVERY", 60)
    JOB_SEARCH_EVERY = _int("JOB_SEARCH_EVERY", 300)
    JOB_MEDIA_SWEEP_EVERY = _int("JOB_MEDIA_SWEEP_EVERY", 120)
    JOB_STATS_CRON = _env("JOB_STATS_CRON", "20 0 * * *")
    JOB_STATS_VERIFY_CRON = _env("JOB_STATS_VERIFY_CRON", "40 2 * * *")
    JOB_SHOP_DIGEST_CRON = _env("JOB_SHOP_DIGEST_CRON", "0 1 * * *")  # 08:00 in Hà Nội: shops' daily alert digest
    # Seller operations (issue 17): the order queue's page size; order messages' length and rate limit.
    SELLER_ORDERS_PER_PAGE = _int("SELLER_ORDERS_PER_PAGE", 20)
    ORDER_MESSAGE_MAX_CHARS = _int("ORDER_MESSAGE_MAX_CHARS", 1000)
    ORDER_MESSAGE_RATE_LIMIT = _env("ORDER_MESSAGE_RATE_LIMIT", "10 per hour")
    LOGIN_LIMIT_PER_IP = _env("LOGIN_LIMIT_PER_IP", "10 per minute; 100 per hour")
    LOGIN_LIMIT_PER_ACCOUNT = _env("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute; 30 per hour")
    ARGON2_TIME_COST = 3  # argon2id, argon2-cffi defaults (m=64 MiB, t=3, p=4)
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4
    PASSWORD_RESET_MAX_AGE = _int("PASSWORD_RESET_MAX_AGE", 3600)
    REVIEW_LINK_MAX_AGE = _int("REVIEW_LINK_MAX_AGE", 60 * 86400)  # the "delivered" mail's review links
    EMAIL_VERIFY_MAX_AGE = _int("EMAIL_VERIFY_MAX_AGE", 7 * 86400)  # the link that joins guest orders
    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
    STRIPE_PUBLISHABLE_KEY = _env("STRIPE_PUBLISHABLE_KEY")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = _env("STRIPE_API_BASE")  # tests point the SDK at a local fake
    # Bank transfer by VietQR (payments/vietqr.py): offered when the collecting account's bank BIN, number and
    # name are set. Stock is held VIETQR_HOLD_HOURS; the bank-notification webhook is accepted only with a secret.
    VIETQR_BANK_BIN = _env("VIETQR_BANK_BIN")
    VIETQR_BANK_NAME = _env("VIETQR_BANK_NAME")  # shown to shoppers; None → the name known for the BIN
    VIETQR_ACCOUNT_NUMBER = _env("VIETQR_ACCOUNT_NUMBER")
    VIETQR_ACCOUNT_NAME = _env("VIETQR_ACCOUNT_NAME")
    VIETQR_HOLD_HOURS = _int("VIETQR_HOLD_HOURS", 24)
    VIETQR_WEBHOOK_SECRET = _env("VIETQR_WEBHOOK_SECRET")
    # VNPay (payments/vnpay.py): offered when the terminal code and hash secret are set. The URLs default
    # to VNPay's sandbox; production sets VNPay's live addresses (tests point them at a local fake).
    VNPAY_TMN_CODE = _env("VNPAY_TMN_CODE")
    VNPAY_HASH_SECRET = _env("VNPAY_HASH_SECRET")
    VNPAY_PAYMENT_URL = _env("VNPAY_PAYMENT_URL", "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html")
    VNPAY_API_URL = _env("VNPAY_API_URL", "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction")
    VNPAY_HOLD_MINUTES = _int("VNPAY_HOLD_MINUTES", 30)
    CURRENCY = "vnd"
    PLATFORM_COMMISSION_PERCENT = _int("PLATFORM_COMMISSION_PERCENT", 8)
    # Tax withheld from household sellers' platform-collected goods revenue, in basis points (100 = 1 %):
    # Decree 117/2025/NĐ-CP, platforms with a payment function: VAT 1 %, PIT 0.5 % (marketplace.ledger).
    TAX_WITHHOLDING_VAT_BP = _int("TAX_WITHHOLDING_VAT_BP", 100)
    TAX_WITHHOLDING_PIT_BP = _int("TAX_WITHHOLDING_PIT_BP", 50)
    USD_PER_VND = float(_env("USD_PER_VND", "0.000038"))
    MAIL_SERVER = _env("MAIL_SERVER")
    MAIL_PORT = _int("MAIL_PORT", 587)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "Chợ Làng Nghề <no-reply@cholangnghe.vn>")
    # Mail queued in the outbox table is delivered by the process that queued it, after the response
    # (or the commit, outside requests). False: only `flask mail send --loop` delivers it.
    MAIL_DISPATCH_AFTER_COMMIT = _bool("MAIL_DISPATCH_AFTER_COMMIT", True)
    SITE_URL = _env("SITE_URL", "http://127.0.0.1:5000")
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    PER_PAGE = 24
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_DURATION = 30 * 24 * 3600
    WTF_CSRF_TIME_LIMIT = None
    SEARCH_ENABLED = True
    # Security (marketplace/core/security.py): HSTS only in production; ProxyFix counts = number of
    # trusted proxies setting each X-Forwarded-* header (0 = header ignored).
    HSTS_SECONDS = 0
    PROXY_FIX_X_FOR = _int("PROXY_FIX_X_FOR", 0)
    PROXY_FIX_X_PROTO = _int("PROXY_FIX_X_PROTO", 0)
    PROXY_FIX_X_HOST = _int("PROXY_FIX_X_HOST", 0)
    PROXY_FIX_X_PREFIX = _int("PROXY_FIX_X_PREFIX", 0)
    RATELIMIT_HEADERS_ENABLED = True
    API_RATE_LIMIT = _env("API_RATE_LIMIT", "120/minute")
    SEARCH_SUGGEST_RATE_LIMIT = _env("SEARCH_SUGGEST_RATE_LIMIT", "60/minute")
    # Catalog page fragments cached per catalog version (marketplace/core/cache.py). Code-only: tests and
    # benchmarks that count queries switch it off.
    FRAGMENT_CACHE = True
    # With REDIS_URL: rendered fragments and whole anonymous pages are shared by every instance through Redis
    # (keyed by the catalog version, so a change made anywhere shows everywhere at once); entries of old
    # versions expire after this many seconds. 0 = no Redis cache (fragments cached per process, as without Redis).
    REDIS_CACHE_SECONDS = _int("REDIS_CACHE_SECONDS", 3600)
    # Whole anonymous catalog pages (no cookie but the language) served from the Redis cache; needs REDIS_URL.
    PAGE_CACHE = _bool("PAGE_CACHE", True)
    # Officials' indicator cache (marketplace/officials/cache.py): a result is reused for at most this many
    # seconds, so writes by another process are seen after that long; 0 = no cache.
    STATS_CACHE_SECONDS = _int("STATS_CACHE_SECONDS", 60)
    # The day the officials' indicators are measured on (a datetime.date); None = today in Hà Nội.
    # Code-only: tests pin it.
    STATS_AS_OF = None
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    DEBUG = False
    TESTING = False

    @classmethod
    def validate(cls, config: dict) -> None:
        """Raise at start-up when the configuration cannot run safely."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    ARGON2_TIME_COST = 1  # cheap hashes keep the tests fast
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    SQLALCHEMY_DATABASE_URI = _database_url(_env("TEST_DATABASE_URL"))
    STRIPE_SECRET_KEY = None
    STRIPE_PUBLISHABLE_KEY = None
    STRIPE_WEBHOOK_SECRET = None
    VIETQR_BANK_BIN = None
    VIETQR_BANK_NAME = None
    VIETQR_ACCOUNT_NUMBER = None
    VIETQR_ACCOUNT_NAME = None
    VIETQR_WEBHOOK_SECRET = None
    VNPAY_TMN_CODE = None
    VNPAY_HASH_SECRET = None
    MAIL_SERVER = None
    REDIS_URL = None


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS_SECONDS = 31_536_000

    @classmethod
    def validate(cls, config: dict) -> None:
        problems = []
        key = config.get("SECRET_KEY")
        if not key or key == DEV_SECRET_KEY or len(key) < 32 or len(set(key)) < 16:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters "
                            "(with at least 16 distinct ones; e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        uri = config.get("SQLALCHEMY_DATABASE_URI") or ""
        if not uri.startswith("postgresql"):
            problems.append("DATABASE_URL must point at PostgreSQL")
        for name in ("VIETQR_WEBHOOK_SECRET", "VNPAY_HASH_SECRET"):
            secret = config.get(name)
            if secret and (len(secret) < 16 or len(set(secret)) < 8):
                problems.append(f"{name} is too weak (at least 16 characters, 8 distinct ones)")
        if config.get("MEDIA_STORAGE") not in ("local", "s3"):
            problems.append("MEDIA_STORAGE must be local or s3")
        if config.get("MEDIA_STORAGE") == "s3" and not (config.get("S3_BUCKET") and config.get("S3_ACCESS_KEY_ID")
                                                       and config.get("S3_SECRET_ACCESS_KEY")):
            problems.append("MEDIA_STORAGE=s3 needs S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY")
        if problems:
            raise RuntimeError("Refusing to start in production: " + "; ".join(problems))


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def get_config(name: str | None = None) -> type[Config]:
    name = name or _env("MARKETPLACE_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown MARKETPLACE_ENV {name!r}; use one of {sorted(CONFIGS)}") from None


def env_flag(name: str) -> bool:  # pragma: no mutate block (read at import by the tests' conftest)
    """Helper for tests and tools that need a flag (e.g. CI=true) without reading os.environ themselves."""
    return _bool(name)


def env_value(name: str, default: str | None = None) -> str | None:  # pragma: no mutate block
    return _env(name, default)
