"""Settings for the test suite: the real settings, minus anything a developer's .env could leak in.

DATABASE_URL is still honoured, so the same suite runs on SQLite and on PostgreSQL.
"""
import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-long-enough-for-hs256-signing")

from Incident.settings import *  # noqa: E402,F401,F403

# Fast hashing: the suite creates many users, and nothing here tests password strength.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
