"""The product's settings with bench/bare_urls.py in front: the plain views the ticket list and
detail are compared with (`make bench`), never part of the product."""
from Incident.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bare_urls"
