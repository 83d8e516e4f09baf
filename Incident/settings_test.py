"""Settings for the test suite: the real settings, minus anything a developer's .env could leak in.

DATABASE_URL is still honoured, so the same suite runs on SQLite and on PostgreSQL.
"""
import atexit
import os
import shutil
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-long-enough-for-hs256-signing")
os.environ.setdefault("JWT_SIGNING_KEY", "test-only-jwt-signing-key-not-the-secret-key")

from Incident.settings import *  # noqa: E402,F401,F403

# The test client speaks plain HTTP, and templates need no collected, hashed static files.
SECURE_SSL_REDIRECT = False
MIDDLEWARE = [m for m in MIDDLEWARE if "whitenoise" not in m]  # noqa: F405
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

# Fast hashing: the suite creates many users, and nothing here tests password strength.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Never send from the suite, whatever .env holds: console mode unless a test configures otherwise.
WHATSAPP_ACCESS_TOKEN = ""
WHATSAPP_PHONE_NUMBER_ID = "123456789012345"
WHATSAPP_API_VERSION = "v25.0"
WHATSAPP_API_BASE_URL = "https://graph.facebook.com"
WHATSAPP_TIMEOUT = 10.0
WHATSAPP_MESSAGE_MODE = "text"
WHATSAPP_TEMPLATES = ""
WHATSAPP_WEBHOOK_VERIFY_TOKEN = "test-verify-token"
WHATSAPP_APP_SECRET = "test-app-secret"
NOTIFICATION_CHANNELS = ["whatsapp"]
NOTIFICATION_EMAIL_FALLBACK = False
# A test walking a ticket through its lifecycle tells its client more than three things within a
# minute; digests would hold those back. Off here; the digest tests turn them on.
WHATSAPP_DIGEST_AFTER = 0
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Retries happen in tests, but never wait: the suite does not sleep.
WHATSAPP_RETRY_BACKOFF = [0.0, 0.0]
# Inline delivery and per-process memory unless a test sets them: the Redis and Celery tests point
# at a database of their own on the local server.
NOTIFICATION_DELIVERY = "inline"
REDIS_URL = ""
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# An in-memory broker: a test that publishes by mistake never reaches a real queue.
CELERY_BROKER_URL = "memory://"
# Attachments in a folder of this test process's own, removed when it ends.
ATTACHMENT_ROOT = tempfile.mkdtemp(prefix="incident-attachments-")
atexit.register(shutil.rmtree, ATTACHMENT_ROOT, ignore_errors=True)
STORAGES = {**STORAGES, "attachments": {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": ATTACHMENT_ROOT, "base_url": None}}}
