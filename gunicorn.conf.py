"""gunicorn settings for `make serve`. Each can be overridden by the environment variable named."""
import multiprocessing
import os

# Where to listen; behind a reverse proxy keep it on the loopback or a private interface.
bind = os.environ.get("BIND", "127.0.0.1:8000")
# Ticket requests wait for their WhatsApp messages (network-bound), so threads help more than
# processes: 2 processes per core, 4 threads each by default.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# Above the longest a request may wait for WhatsApp: connect (≤ 5 s) + WHATSAPP_TIMEOUT (10 s)
# + 1 s, plus the email fallback round. A worker is never killed mid-notification.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
# Logs to stdout and stderr, where the process manager collects them.
accesslog = "-"
errorlog = "-"

# The request line without its query string: the webhook handshake carries the verify token there,
# and a query string may hold what an access log should not keep.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'

# No gc.freeze() after the app loads: tried in each worker (post_worker_init, URL map loaded
# first), three runs each way of make bench's webhook on PostgreSQL, the median and p95 moved
# within the runs' own spread (16-20 ms and 18-26 ms either way). Nothing to gain here.
