#!/usr/bin/env bash
# Restore a dump made by scripts/backup.sh into an empty (or new) database.
#
#   DATABASE_URL=postgis://user@host:5432/prisma_restored scripts/restore.sh FILE
#
# The database is created if it does not exist. A database that already holds
# PRISMA tables is refused: restore into a fresh one, check it, then switch the
# application's DATABASE_URL over (docs/operations.md). Runs in one transaction:
# an error leaves the target as empty as it was.
set -euo pipefail
file=${1:?usage: scripts/restore.sh FILE}
[[ -r $file ]] || { echo "cannot read $file" >&2; exit 2; }
url=${DATABASE_URL:?set DATABASE_URL to the database to restore into}
url=${url/#postgis:/postgresql:}
db=${url##*/}; db=${db%%\?*}
admin_url=${url%/*}/postgres
if ! psql "$admin_url" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  psql "$admin_url" -qc "CREATE DATABASE \"$db\""
fi
tables=$(psql "$url" -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'")
if [[ $tables != 0 ]]; then
  echo "database $db is not empty ($tables tables); restore into a fresh one" >&2
  exit 1
fi
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
  --dbname="$url" "$file"
echo "restored $file into $db"
