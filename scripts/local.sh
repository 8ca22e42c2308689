#!/usr/bin/env bash
# The main job, locally, on a fresh machine:
#   scripts/local.sh        build the web app (web/, when changed), start the emulator and the local
#                           server (the web app at / and the API at /v1), run the demo flow, keep serving
#   scripts/local.sh demo   the same, but stop once the demo flow has passed
# The emulator is moto (installed pinned into a venv), or LocalStack with ESIGN_EMULATOR=localstack,
# unless AWS_ENDPOINT_URL points at one already. The server listens on ESIGN_LOCAL_ADDR (default
# 127.0.0.1:3000).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-serve}"
export AWS_ENDPOINT_URL; AWS_ENDPOINT_URL="$(scripts/emulator.sh)"
export ESIGN_LOCAL_ADDR="${ESIGN_LOCAL_ADDR:-127.0.0.1:3000}"
export ESIGN_MODE="${ESIGN_MODE:-development}"
if [ -z "${ESIGN_OPERATOR_KEYS:-}" ]; then
  ESIGN_OPERATOR_KEYS="op_local_$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
fi
export ESIGN_OPERATOR_KEYS
OPERATOR_KEY="${ESIGN_OPERATOR_KEYS%%,*}"
# Who may sign in to the operator console (/operator) with a code from the development outbox.
export ESIGN_OPERATORS="${ESIGN_OPERATORS:-operator@example.com}"
export ESIGN_WEB_DIR="${ESIGN_WEB_DIR:-$PWD/web/dist}"
# No EventBridge locally: the server runs generate-evidence (evidence reports of completed
# contracts) every 5 s itself; deployed, its schedule runs it every minute.
export ESIGN_LOCAL_EVIDENCE_SECS="${ESIGN_LOCAL_EVIDENCE_SECS:-5}"
BASE="http://$ESIGN_LOCAL_ADDR"

scripts/web-build.sh

cargo build --locked -q -p esign-api --bin esign-local
"${CARGO_TARGET_DIR:-target}/debug/esign-local" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do
  curl -s -o /dev/null "$BASE/v1/members" && break
  kill -0 $SERVER 2>/dev/null || { echo "esign-local exited; see above" >&2; exit 1; }
  sleep 0.2
done
echo "web app: $BASE/   local API: $BASE/v1   operator key: $OPERATOR_KEY   emulator: $AWS_ENDPOINT_URL"
scripts/demo.sh "$BASE" "$OPERATOR_KEY"
if [ "$MODE" = "demo" ]; then exit 0; fi
echo "serving until Ctrl-C:"
echo "  web app           $BASE/   (sign-in codes: $BASE/v1/dev/outbox?recipient=...)"
echo "  operator console  $BASE/operator   (sign in as ${ESIGN_OPERATORS%%,*})"
echo "  API               $BASE/v1   (operator key: $OPERATOR_KEY)"
wait $SERVER
