#!/usr/bin/env bash
# `make run` after setup: migrate, load data, create the demo login, then serve
# the web app under gunicorn with a Celery worker beside it until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
PY=.venv/bin/python
log() { printf '\033[1;32m[run]\033[0m %s\n' "$*"; }

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "Port $PORT is already in use (is PRISMA already running?). Stop it or choose another: PORT=8001 make run" >&2
  exit 1
fi

log "migrating the database"
$PY manage.py migrate --noinput -v 0
log "loading the LOR 2021 units (idempotent)"
$PY manage.py lor_import
log "loading the demo data (real Berlin files; skips what is loaded)"
$PY manage.py datapool_demo
log "computing the indicators"
$PY manage.py indicators_compute
$PY manage.py collectstatic --noinput -v 0
$PY manage.py demo_user

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [[ -n "${CELERY_TASK_ALWAYS_EAGER:-}" ]]; then
  log "no Redis: no worker started, background tasks run in the web process"
else
  .venv/bin/celery -A prisma worker --beat --schedule=var/celerybeat-schedule \
    --loglevel=INFO --concurrency=2 >var/worker.log 2>&1 &
  pids+=($!)
  log "Celery worker started (log: var/worker.log)"
fi
.venv/bin/gunicorn prisma.wsgi:application --bind "127.0.0.1:$PORT" --workers 3 \
  --timeout 120 --access-logfile - &
pids+=($!)

for _ in $(seq 1 60); do
  curl -fs "http://127.0.0.1:$PORT/health/" >/dev/null 2>&1 && break
  sleep 0.5
done
cat <<MSG

  PRISMA läuft auf http://127.0.0.1:$PORT/
  Anmeldung: ${PRISMA_DEMO_USER:-demo} / ${PRISMA_DEMO_PASSWORD:-prisma-demo}
  (Beenden mit Strg-C)

MSG
wait -n "${pids[@]}"
