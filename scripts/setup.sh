#!/usr/bin/env bash
# Install what PRISMA needs and is missing: Debian packages (PostGIS for the
# PostgreSQL major version that runs here, GDAL, gettext; chromium for tests)
# and the Python virtual environment. Safe to run again; does nothing when all
# is in place.
#   scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_TEST=0; [[ "${1:-}" == "--test" ]] && WITH_TEST=1
log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

pg_major() {
  # The running server decides the PostGIS package; without one, the newest
  # installed server binaries; without those, Debian's default.
  local v
  if v=$(psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -tAc 'SHOW server_version_num' 2>/dev/null) && [[ -n "$v" ]]; then
    echo $((v / 10000)); return
  fi
  if v=$(psql -h 127.0.0.1 -p 5432 -d postgres -tAc 'SHOW server_version_num' 2>/dev/null) && [[ -n "$v" ]]; then
    echo $((v / 10000)); return
  fi
  if ls /usr/lib/postgresql/ >/dev/null 2>&1 && [[ -n "$(ls /usr/lib/postgresql/)" ]]; then
    ls /usr/lib/postgresql/ | sort -n | tail -1; return
  fi
  echo ""
}

missing=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing+=("$1"); }

major=$(pg_major)
if [[ -z "$major" ]]; then
  need postgresql
else
  need "postgresql-$major"
  need "postgresql-$major-postgis-3"
fi
need postgresql-client
need gdal-bin
need libgdal-dev
need gettext
command -v redis-server >/dev/null 2>&1 || command -v redis-cli >/dev/null 2>&1 || need redis-server
if [[ $WITH_TEST == 1 ]]; then
  need chromium
  need poppler-utils
fi

if (( ${#missing[@]} )); then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ -z "$major" ]]; then
    major=$(pg_major)
    log "installing PostGIS for PostgreSQL $major"
    apt-get install -y -qq --no-install-recommends "postgresql-$major-postgis-3" >/dev/null
  fi
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python || ! -x .venv/bin/pip ]]; then
  # A venv without pip is what an interrupted creation leaves behind.
  log "creating the Python virtual environment in .venv"
  rm -rf .venv
  "$PY" -m venv .venv
  rm -f var/.deps-*
fi
extras="."; [[ $WITH_TEST == 1 ]] && extras=".[dev]"
stamp="var/.deps-$(sha256sum pyproject.toml | cut -c1-16)-$WITH_TEST"
if [[ ! -f "$stamp" ]]; then
  log "installing Python packages ($extras)"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e "$extras"
  mkdir -p var && rm -f var/.deps-* && touch "$stamp"
fi
