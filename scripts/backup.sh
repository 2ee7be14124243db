#!/usr/bin/env bash
# Back up the PRISMA database (Datenpool, LOR units, indicators, profiles, users)
# as one pg_dump file in PostgreSQL's custom format, and check that it reads back.
#
#   DATABASE_URL=postgis://user@host:5432/prisma scripts/backup.sh [FILE]
#
# FILE defaults to var/backups/prisma-<UTC time>.dump. The dump is written under a
# temporary name and renamed when complete, so a crashed run never leaves a file
# that looks like a good backup. Uploaded deliveries (MEDIA_ROOT) are files: back
# them up beside it (docs/operations.md).
set -euo pipefail
url=${DATABASE_URL:?set DATABASE_URL to the database to back up}
url=${url/#postgis:/postgresql:}
out=${1:-var/backups/prisma-$(date -u +%Y%m%dT%H%M%SZ).dump}
mkdir -p "$(dirname "$out")"
# Owners and grants belong to the server it came from; a restore sets its own.
pg_dump --format=custom --compress=6 --no-owner --no-privileges \
  --file="$out.partial" --dbname="$url"
pg_restore --list "$out.partial" >/dev/null
mv "$out.partial" "$out"
echo "$out"
