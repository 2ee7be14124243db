#!/usr/bin/env bash
# Sourced by the Makefile targets: find or start PostgreSQL and Redis and export
# DATABASE_URL, REDIS_URL (or CELERY_TASK_ALWAYS_EAGER). Never touches a server
# it did not start.
PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
svc_log() { printf '\033[1;34m[services]\033[0m %s\n' "$*"; }

pg_answers() { pg_isready -q -h "$1" -p "$2" 2>/dev/null; }

start_private_postgres() {
  local major bin data port=${PRISMA_PG_PORT:-5433}
  major=$(ls /usr/lib/postgresql/ | sort -n | tail -1)
  bin=/usr/lib/postgresql/$major/bin
  data=$PROJECT_DIR/var/pg
  mkdir -p "$data"
  # PostgreSQL refuses to run as root; the postgres system user owns the cluster.
  local run=(); [[ $(id -u) == 0 ]] && { chown -R postgres:postgres "$data"; run=(runuser -u postgres --); }
  if [[ ! -f $data/PG_VERSION ]]; then
    svc_log "no PostgreSQL server answers: creating a private cluster in var/pg"
    "${run[@]}" "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! pg_answers 127.0.0.1 "$port"; then
    svc_log "starting the private PostgreSQL $major on 127.0.0.1:$port"
    "${run[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $data" start >/dev/null
  fi
  export DATABASE_URL="postgis://postgres@127.0.0.1:$port/${PRISMA_DB_NAME:-prisma}"
}

if [[ -z "${DATABASE_URL:-}" ]]; then
  # PRISMA_PRIVATE_PG=1 forces the private cluster, as on a machine without a server.
  if [[ -z "${PRISMA_PRIVATE_PG:-}" ]] && pg_answers 127.0.0.1 5432; then
    pg_user=postgres
    psql -h 127.0.0.1 -U "$(id -un)" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1 && pg_user=$(id -un)
    export DATABASE_URL="postgis://$pg_user@127.0.0.1:5432/${PRISMA_DB_NAME:-prisma}"
    svc_log "using PostgreSQL on 127.0.0.1:5432 as $pg_user"
  else
    start_private_postgres
  fi
fi

# Create the database if the server lets us; the PostGIS extension itself is
# created by the first migration.
db_name=${DATABASE_URL##*/}; db_name=${db_name%%\?*}
admin_url=${DATABASE_URL%/*}/postgres
admin_url=${admin_url/postgis:/postgresql:}
if ! psql "$admin_url" -tAc "SELECT 1 FROM pg_database WHERE datname='$db_name'" 2>/dev/null | grep -q 1; then
  psql "$admin_url" -qc "CREATE DATABASE \"$db_name\"" >/dev/null 2>&1 && svc_log "created database $db_name"
fi

redis_answers() {
  (exec 3<>"/dev/tcp/$1/$2" && printf 'PING\r\n' >&3 && read -r -t 2 reply <&3 && [[ $reply == +PONG* ]]) 2>/dev/null
}
if [[ -z "${REDIS_URL:-}" && -z "${CELERY_TASK_ALWAYS_EAGER:-}" ]]; then
  if redis_answers 127.0.0.1 6379; then
    export REDIS_URL=redis://127.0.0.1:6379/0
    svc_log "using Redis on 127.0.0.1:6379"
  elif command -v redis-server >/dev/null 2>&1; then
    port=${PRISMA_REDIS_PORT:-6380}
    if ! redis_answers 127.0.0.1 "$port"; then
      mkdir -p "$PROJECT_DIR/var/redis"
      redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
        --dir "$PROJECT_DIR/var/redis" --logfile "$PROJECT_DIR/var/redis/redis.log" >/dev/null
      svc_log "no Redis answered on 6379: started a private Redis on 127.0.0.1:$port"
    fi
    export REDIS_URL=redis://127.0.0.1:$port/0
  else
    export CELERY_TASK_ALWAYS_EAGER=1
    svc_log "no Redis available: background tasks run in the web process (eager mode)"
  fi
fi
