#!/usr/bin/env bash
# Makes sure an AWS emulator is reachable and prints its endpoint URL (one line on stdout).
#   - AWS_ENDPOINT_URL set (e.g. a running LocalStack): printed as it is; nothing is started.
#   - otherwise: a pinned moto server is installed into a venv (once) and started on
#     127.0.0.1:${ESIGN_MOTO_PORT:-4599} unless one already answers there. It keeps running in the
#     background (pid in $ESIGN_CACHE/moto-<port>.pid); `scripts/emulator.sh stop` stops it, and
#     `scripts/emulator.sh reset` empties it (moto keeps everything in memory until then).
set -euo pipefail
MOTO_VERSION="5.2.5"
CACHE="${ESIGN_CACHE:-$HOME/.cache/esign}"
VENV="$CACHE/moto-venv"
PORT="${ESIGN_MOTO_PORT:-4599}"
URL="http://127.0.0.1:$PORT"
mkdir -p "$CACHE"
# curl drives the local flow and the health checks; a fresh Debian machine may lack it.
command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl; } >&2

PIDFILE="$CACHE/moto-$PORT.pid"
if [ "${1:-}" = "stop" ]; then
  if [ -f "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; rm -f "$PIDFILE"; fi
  exit 0
fi
if [ "${1:-}" = "reset" ]; then
  curl -sf -X POST --max-time 30 "$URL/moto-api/reset" >/dev/null
  exit 0
fi
if [ -n "${AWS_ENDPOINT_URL:-}" ]; then echo "$AWS_ENDPOINT_URL"; exit 0; fi

# Any HTTP answer on the port will do (moto's /moto-api/data.json dumps its whole state: slow).
answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/moto-api/" 2>/dev/null)" != "000" ]; }
if answers; then echo "$URL"; exit 0; fi

if [ "$("$VENV/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null)" != "$MOTO_VERSION" ]; then
  echo "installing moto $MOTO_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
fi
# setsid: the server outlives this script and the shell that called it. moto_serial.py is moto's
# server with its (not thread-safe) backends called one request at a time.
setsid "$VENV/bin/python" "$(dirname "$0")/moto_serial.py" 127.0.0.1 "$PORT" >"$CACHE/moto-$PORT.log" 2>&1 < /dev/null &
echo $! > "$PIDFILE"
for _ in $(seq 1 100); do
  if answers; then echo "$URL"; exit 0; fi
  sleep 0.2
done
echo "moto did not start on $URL; see $CACHE/moto-$PORT.log" >&2
exit 1
