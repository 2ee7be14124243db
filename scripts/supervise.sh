#!/usr/bin/env bash
# Keep one command running: start it again whenever it exits, until this script
# is stopped (TERM or INT), which stops the command too. scripts/run.sh runs the
# Celery workers under it, so a crashed or killed worker comes back and the web
# server keeps serving.
#   scripts/supervise.sh LOGFILE COMMAND [ARGS...]
set -uo pipefail
log=$1
shift
child=""
stopping=""

stop() {
  stopping=1
  [[ -n "$child" ]] && kill -TERM "$child" 2>/dev/null
  wait "$child" 2>/dev/null
  exit 0
}
trap stop TERM INT

delay=1
while [[ -z "$stopping" ]]; do
  started=$(date +%s)
  "$@" >>"$log" 2>&1 &
  child=$!
  wait "$child"
  status=$?
  child=""
  [[ -n "$stopping" ]] && break
  # A command that dies at once (bad configuration, no broker) is retried more
  # and more slowly, up to every 30 s, instead of spinning.
  if (($(date +%s) - started < 10)); then
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
  else
    delay=1
  fi
  printf '[supervise] %s: exited with status %s; restarting in %s s\n' \
    "$(date -Is)" "$status" "$delay" >>"$log"
  sleep "$delay" &
  wait $!
done
