#!/usr/bin/env bash
# The API against its contract: schemathesis (pinned, installed once into a venv beside moto's)
# generates requests from infra/openapi.yaml and sends them to a local server (esign-local, on a
# free port, against the emulator), failing on any 5xx and on any answer the document does not
# describe (status, content type, headers, body schema). Bounded: a few examples per operation
# and a time budget per run.
#   scripts/api-contract.sh
# Callers: a fresh enterprise's administrator (its API key: most operations), and an operator
# (its operator key: the operator's operations). The emulator is the one scripts/emulator.sh
# gives (AWS_ENDPOINT_URL when set). ESIGN_CONTRACT_EXAMPLES (default 8 per operation) and
# ESIGN_CONTRACT_MAX_TIME (seconds, default 100 for the administrator's run; the operator's, of
# six operations, gets a third) bound it: about 2.5 minutes in all. ESIGN_CONTRACT_CHECKS
# (default: no 5xx, and status, content type, headers and body as documented) picks others,
# e.g. `all`.
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION="4.32.5"
CACHE="${ESIGN_CACHE:-$HOME/.cache/esign}"
VENV="$CACHE/schemathesis-venv"
EXAMPLES="${ESIGN_CONTRACT_EXAMPLES:-8}"
MAX_TIME="${ESIGN_CONTRACT_MAX_TIME:-100}"
CHECKS="${ESIGN_CONTRACT_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}"
start=$(date +%s)

if [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$SCHEMATHESIS_VERSION" ]; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi

export AWS_ENDPOINT_URL; AWS_ENDPOINT_URL="$(scripts/emulator.sh)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
OPERATOR_KEY="op_contract_$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
cargo build --locked -q -p esign-api --bin esign-local
LOG="$(mktemp)"
ESIGN_LOCAL_ADDR="127.0.0.1:$PORT" ESIGN_MODE=development ESIGN_OPERATOR_KEYS="$OPERATOR_KEY" \
  ESIGN_OPERATORS=operator@example.com ESIGN_WEB_DIR= RUST_LOG="${RUST_LOG:-warn}" \
  "${CARGO_TARGET_DIR:-target}/debug/esign-local" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 150); do
  curl -s -o /dev/null "$BASE/v1/members" && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG" >&2; echo "esign-local exited" >&2; exit 1; }
  sleep 0.2
done

# A fresh enterprise, verified (so that its administrator's calls get past the verification
# gate): its administrator's API key authenticates the member runs.
post() { curl -sS -X POST "$BASE$1" -H "Authorization: Bearer ${3:-}" -H 'Content-Type: application/json' --data "$2"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
REG="$(post /v1/enterprises '{"name":"契约测试有限公司","contact_email":"contract@example.com",
  "admin":{"name":"契约","mobile":"13700137000","email":"contract-admin@example.com"}}')"
KEY="$(json '["api_key"]' <<<"$REG")"; ENT="$(json '["enterprise"]["id"]' <<<"$REG")"
# A USCC (and its organization code) no other enterprise on this emulator holds.
read -r USCC ORG <<<"$(python3 - <<'PY'
import random
CS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
body = "".join(random.choice("0123456789") for _ in range(8))
o = 11 - sum(int(c) * w for c, w in zip(body, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
org = body + {10: "X", 11: "0"}.get(o, str(o))
u = "91440300" + org
u += CS[(31 - sum(CS.index(c) * w for c, w in zip(u, W)) % 31) % 31]
print(u, org)
PY
)"
VER="$(post "/v1/enterprises/$ENT/verification" "{\"company_name\":\"契约测试有限公司\",\"uscc\":\"$USCC\",
  \"organization_code\":\"$ORG\",\"legal_representative\":{\"name\":\"契约\",\"id_number\":\"11010519491231002X\"},
  \"administrator\":{\"name\":\"契约\",\"id_number\":\"11010519491231002X\",\"mobile\":\"13700137000\",
  \"is_legal_representative\":true}}" "$KEY" | json '["verification"]["id"]')"
[ "$(post "/v1/operator/verifications/$VER/decision" '{"decision":"approve"}' "$OPERATOR_KEY" | json '["status"]')" = approved ] \
  || { echo "the contract run's enterprise was not verified" >&2; exit 1; }

# run NAME KEY SECONDS [FILTERS...]: one schemathesis run with that caller's key.
run() {
  local name="$1" key="$2" seconds="$3"; shift 3
  echo "== schemathesis: $name"
  "$VENV/bin/st" run infra/openapi.yaml --url "$BASE" \
    -H "Authorization: Bearer $key" \
    --checks "$CHECKS" \
    --phases examples,coverage,fuzzing \
    --max-examples "$EXAMPLES" --max-time "$seconds" --seed 17 \
    --request-timeout 30 --no-shrink --warnings off \
    "$@" || failed=1
}
failed=0
# Operators' operations with the operator key, everything else with the administrator's.
# `POST /v1/tsa` takes a DER TimeStampReq (application/timestamp-query) and `POST /v1/ca/ocsp` a
# DER OCSPRequest (application/ocsp-request), which schemathesis cannot generate; both are tested
# with real requests by the end-to-end suite (trust; contracts/revocation, with openssl ocsp).
OPERATOR_OPS='^/v1/operator/'
run "an administrator's API key" "$KEY" "$MAX_TIME" --exclude-path-regex "$OPERATOR_OPS" --exclude-path /v1/tsa --exclude-path /v1/ca/ocsp
run "an operator key" "$OPERATOR_KEY" "$(( MAX_TIME / 3 + 1 ))" --include-path-regex "$OPERATOR_OPS"
if [ "$failed" != 0 ]; then
  echo "the API broke its contract (see above) after $(( $(date +%s) - start )) s" >&2
  exit 1
fi
echo "api contract held in $(( $(date +%s) - start )) s"
