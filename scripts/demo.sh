#!/usr/bin/env bash
# The seal platform's flow over plain HTTP with curl, against a running server:
#   scripts/demo.sh BASE_URL OPERATOR_KEY
# Registers an enterprise, submits its real-name authentication, has the operator approve it,
# adds a member, makes a seal (image upload, review, KMS key and certificate), grants it, and
# shows the CA chain and the audit trail. Exits non-zero at the first unexpected answer.
set -euo pipefail
BASE="${1:?usage: demo.sh BASE_URL OPERATOR_KEY}"; OP="${2:?usage: demo.sh BASE_URL OPERATOR_KEY}"
RESP=""
# call METHOD PATH KEY EXPECTED [JSON]: prints the step, checks the status, keeps the body in $RESP.
call() {
  local method="$1" path="$2" key="$3" expected="$4" body="${5:-}" args=() status
  args=(-sS -o /tmp/esign-demo.$$ -w '%{http_code}' -X "$method" "$BASE$path")
  [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
  status="$(curl "${args[@]}")"; RESP="$(cat /tmp/esign-demo.$$)"; rm -f /tmp/esign-demo.$$
  printf '%-6s %-52s -> %s\n' "$method" "$path" "$status"
  if [ "$status" != "$expected" ]; then echo "expected $expected: $RESP" >&2; exit 1; fi
}
# field EXPR: a value from the last JSON answer, e.g. field '["enterprise"]["id"]'.
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)" <<<"$RESP"; }

echo "== 1. register an enterprise (the answer carries the administrator's API key, shown once)"
call POST /v1/enterprises "" 201 '{"name":"深圳市腾讯计算机系统有限公司","contact_email":"legal@example.com",
  "admin":{"name":"马化腾","mobile":"13800138000","email":"admin@example.com"}}'
ENT="$(field '["enterprise"]["id"]')"; KEY="$(field '["api_key"]')"; REG="$RESP"
echo "   enterprise $ENT, status $(field '["enterprise"]["status"]')"

echo "== 2. real-name authentication: a wrong USCC check character is refused, the right one accepted"
call POST "/v1/enterprises/$ENT/verification" "$KEY" 422 '{"company_name":"深圳市腾讯计算机系统有限公司",
  "uscc":"9144030071526726XH","organization_code":"71526726-X",
  "legal_representative":{"name":"马化腾","id_number":"11010519491231002X"},
  "administrator":{"name":"马化腾","id_number":"11010519491231002X","mobile":"13800138000","is_legal_representative":true}}'
echo "   $(field '["errors"][0]["field"]'): $(field '["errors"][0]["message"]')"
call POST "/v1/enterprises/$ENT/verification" "$KEY" 202 '{"company_name":"深圳市腾讯计算机系统有限公司",
  "uscc":"9144030071526726XG","organization_code":"71526726-X",
  "legal_representative":{"name":"马化腾","id_number":"11010519491231002X"},
  "administrator":{"name":"马化腾","id_number":"11010519491231002X","mobile":"13800138000","is_legal_representative":true}}'
VER="$(field '["verification"]["id"]')"; echo "   status $(field '["status"]'), verification $VER"

echo "== 3. before approval, members cannot be added"
call POST /v1/members "$KEY" 403 '{"name":"李四","mobile":"13900139000","email":"li@example.com"}'

echo "== 4. the platform operator reviews and approves"
call GET "/v1/operator/verifications?status=pending_review" "$OP" 200
call POST "/v1/operator/verifications/$VER/decision" "$OP" 200 '{"decision":"approve"}'
call POST "/v1/operator/verifications/$VER/decision" "$OP" 409 '{"decision":"reject","reason":"again"}'
call GET "/v1/enterprises/$ENT" "$KEY" 200
echo "   enterprise status: $(field '["status"]')"

echo "== 5. the administrator adds a member, who gets its own key"
call POST /v1/members "$KEY" 201 '{"name":"李四","mobile":"13900139000","email":"li@example.com"}'
echo "   member $(field '["member"]["id"]') ($(field '["member"]["role"]'))"

echo "== 6. a seal: draft, PNG upload straight to S3, submit, review; approval creates its KMS key and certificate"
IMG=/tmp/esign-demo-seal.$$.png
python3 - "$IMG" <<'PY'
import math, struct, sys, zlib
n = 240; rows = []
for y in range(n):
    row = bytearray([0])
    for x in range(n):
        d = math.hypot(x + 0.5 - n / 2, y + 0.5 - n / 2)
        row += bytes([210, 25, 30, 255]) if (0.80 * n / 2 < d < 0.95 * n / 2 or d < 0.25 * n / 2) else bytes(4)
    rows.append(bytes(row))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", n, n, 8, 6, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
SIZE=$(stat -c %s "$IMG")
call POST /v1/seals "$KEY" 201 "{\"name\":\"合同专用章\",\"kind\":\"contract\",\"image_size\":$SIZE}"
SEAL="$(field '["seal"]["id"]')"; UPLOAD="$(field '["upload"]["upload_url"]')"
PUT_STATUS="$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: image/png' --data-binary @"$IMG" "$UPLOAD")"
printf '%-6s %-52s -> %s\n' PUT "(presigned S3 URL)" "$PUT_STATUS"
[ "$PUT_STATUS" = 200 ] || { echo "the image upload failed" >&2; exit 1; }
rm -f "$IMG"
call POST "/v1/seals/$SEAL/submit" "$KEY" 202
call POST "/v1/operator/seals/$SEAL/decision" "$OP" 200 '{"decision":"approve"}'
echo "   seal $SEAL: $(field '["status"]'), certificate serial $(field '["certificate"]["serial"]')"
call PUT "/v1/seals/$SEAL/grants/$(python3 -c 'import json,sys; print(json.load(sys.stdin)["admin"]["id"])' <<<"$REG")" "$KEY" 200
call GET /v1/ca/certificates "" 200
echo "   the platform CA chain: $(grep -c 'BEGIN CERTIFICATE' <<<"$RESP") certificates, for anyone's trust store"

echo "== 7. the audit trail, hash-chained"
call GET "/v1/enterprises/$ENT/audit" "$KEY" 200
python3 -c "import json,sys; d=json.load(sys.stdin); [print('  ', e['seq'], e['action'], e['hash'][:16]) for e in d['items']]; print('   chain intact:', d['chain_intact'])" <<<"$RESP"
echo "demo: OK"
