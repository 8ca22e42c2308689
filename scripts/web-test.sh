#!/usr/bin/env bash
# The web app's browser tests: installs what they need when missing (Debian's chromium and CJK
# fonts by apt; node and the app's npm packages through scripts/web-build.sh), builds web/, starts esign-local on a free
# port against the emulator (AWS_ENDPOINT_URL, else scripts/emulator.sh) with the development
# outbox and an operator identity, runs Playwright (web/tests: the whole flow at desktop and
# 390x844, axe on every page, screenshots into web/screenshots/), then stops the server.
# Arguments go to `playwright test` (e.g. --project=desktop).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || need_apt+=(fonts-noto-cjk)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

scripts/web-build.sh

export AWS_ENDPOINT_URL; AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-$(scripts/emulator.sh)}"
cargo build --locked -q -p esign-api --bin esign-local
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
LOG="$(mktemp)"
ESIGN_LOCAL_ADDR="127.0.0.1:$PORT" ESIGN_MODE=development ESIGN_WEB_DIR="$PWD/web/dist" \
  ESIGN_OPERATORS="desktop.reviewer@example.com,phone.reviewer@example.com,desktop.contracts@example.com,phone.contracts@example.com,desktop.embed@example.com,phone.embed@example.com" RUST_LOG="${RUST_LOG:-warn}" \
  "${CARGO_TARGET_DIR:-target}/debug/esign-local" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 300); do
  curl -s -o /dev/null "$BASE/v1/ca/certificates" && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG" >&2; echo "esign-local exited" >&2; exit 1; }
  sleep 0.2
done
echo "web app under test: $BASE/ (emulator $AWS_ENDPOINT_URL)"
cd web
status=0
ESIGN_WEB_BASE="$BASE" npx playwright test "$@" || status=$?
if [ $status -ne 0 ]; then echo "--- esign-local log (last 60 lines)"; tail -n 60 "$LOG"; fi
echo "screenshots: web/screenshots/"
exit $status
