#!/usr/bin/env bash
# `make test-api`: run the Postman collection with newman against a server of its own.
#
# The server gets a throwaway SQLite database with the demo users, DEBUG on and WhatsApp in
# console mode (the token is blanked even if .env has one, so no real message goes out). It listens
# on a port of its own so a `make run` in another terminal is left alone.
# Reports: artifacts/newman/ (JUnit XML, and the server's output).
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-.venv/bin/python}
PORT=${NEWMAN_PORT:-8765}
OUT=artifacts/newman
mkdir -p "$OUT"
WORK=$(mktemp -d)
SERVER_PID=""

cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export DEBUG=True
export SECRET_KEY=newman-run-only
export DATABASE_URL="sqlite:///$WORK/newman.sqlite3"
export WHATSAPP_ACCESS_TOKEN=""
export NOTIFICATION_CHANNELS=whatsapp
export ALLOWED_HOSTS=127.0.0.1,localhost

"$PYTHON" manage.py migrate --noinput --verbosity 0
"$PYTHON" manage.py seed_demo > /dev/null
"$PYTHON" manage.py runserver "127.0.0.1:$PORT" --noreload > "$OUT/server.log" 2>&1 &
SERVER_PID=$!

# Wait (at most 30 s) for the health check to answer.
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "The server stopped before answering; its output:" >&2
    cat "$OUT/server.log" >&2
    exit 1
  fi
  sleep 0.5
done

docs/postman/node_modules/.bin/newman run docs/postman/incident.postman_collection.json \
  --environment docs/postman/local.postman_environment.json \
  --env-var "baseUrl=http://127.0.0.1:$PORT" \
  --reporters cli,junit --reporter-junit-export "$OUT/newman.xml" \
  --iteration-count "${NEWMAN_ITERATIONS:-3}" \
  --color off --disable-unicode
echo "newman: every assertion passed; report in $OUT/newman.xml"
