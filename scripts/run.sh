#!/usr/bin/env bash
# `make run` after setup: migrate, load data, create the demo login, then serve
# the web app under gunicorn with Celery workers beside it until Ctrl-C.
# DEBUG stays off (no debug pages with tracebacks) unless DEBUG=1 is exported.
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
log "loading the LOR 2006 units with the documented key correction (idempotent)"
$PY manage.py lor2006_import --corrections lor/data/lor2006/korrekturen.csv
log "computing the crosswalk LOR 2006 -> 2021 (idempotent)"
$PY manage.py lor_crosswalk
log "loading the demo data (real Berlin files; skips what is loaded)"
$PY manage.py datapool_demo
log "loading the half-yearly population tables 2021-2024 (skips what is loaded)"
$PY manage.py datapool_population
log "loading the deliveries in LOR 2006 keys and converting them to LOR 2021 (skips what is loaded)"
$PY manage.py datapool_lor2006
log "loading the facility register (playgrounds, green spaces, Kitas, schools, youth centres; unchanged files are skipped)"
$PY manage.py infrastructure_import
log "loading the Kriminalitätsatlas 2019-2023 per Bezirksregion (skips what is loaded)"
$PY manage.py crime_atlas_import
log "computing the supply analysis (Versorgungsgrad within borders and 2SFCA; skips unchanged results)"
$PY manage.py supply_publish
log "loading the funding example data (Beispieldaten; matched by key, idempotent)"
$PY manage.py funding_import
log "computing the indicators"
$PY manage.py indicators_compute
log "recording the answers of pinned saved queries as published (idempotent)"
$PY manage.py queries_publish_pins
$PY manage.py collectstatic --noinput -v 0
$PY manage.py demo_user

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [[ -n "${CELERY_TASK_ALWAYS_EAGER:-}" ]]; then
  log "no Redis: no worker started, background tasks run in the web process"
else
  # Two workers, each restarted by scripts/supervise.sh if it dies: one for
  # imports, computations and housekeeping (with beat), one for profile PDF
  # batches, so a long batch never delays an import (queues: prisma/settings).
  : >var/worker.log
  : >var/worker-batch.log
  scripts/supervise.sh var/worker.log .venv/bin/celery -A prisma worker \
    -Q imports,indicators,default -n "main@%h" --concurrency=2 \
    --beat --schedule=var/celerybeat-schedule --loglevel=INFO &
  pids+=($!)
  scripts/supervise.sh var/worker-batch.log .venv/bin/celery -A prisma worker \
    -Q batch -n "batch@%h" --concurrency=1 --loglevel=INFO &
  pids+=($!)
  log "Celery workers started (logs: var/worker.log, var/worker-batch.log)"
fi
.venv/bin/gunicorn -c prisma/gunicorn_config.py prisma.wsgi:application --bind "127.0.0.1:$PORT" --workers 3 \
  --timeout 120 --access-logfile - &
pids+=($!)

for _ in $(seq 1 60); do
  curl -fs "http://127.0.0.1:$PORT/health/" >/dev/null 2>&1 && break
  sleep 0.5
done
cat <<MSG

  PRISMA läuft auf http://127.0.0.1:$PORT/
  Anmeldung: ${PRISMA_DEMO_USER:-demo} / ${PRISMA_DEMO_PASSWORD:-prisma-demo}
  Mit demselben Passwort: demo-koordination und demo-planung
  (Friedrichshain-Kreuzberg), demo-gast (Gastbegutachtung)
  (Beenden mit Strg-C)

MSG
wait -n "${pids[@]}"
