#!/usr/bin/env bash
# The seal platform's flow over plain HTTP with curl, against a running server:
#   scripts/demo.sh BASE_URL OPERATOR_KEY
# Registers an enterprise, submits its real-name authentication, has the operator approve it,
# adds a member, makes a seal (image upload, review, KMS key and certificate), grants it, shows
# the CA chain and the audit trail; then a second enterprise does the same and the two sign a
# contract in turn with one-time codes, download it and verify it. Exits non-zero at the first
# unexpected answer.
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
# uscc REGION: a USCC and its organization code ("USCC ORG") no earlier run used: one USCC has at
# most one verified enterprise, and the emulator may still hold an earlier run's.
uscc() {
  python3 - "$1" <<'PY'
import random, sys
CS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
body = "".join(random.choice("0123456789") for _ in range(8))
o = 11 - sum(int(c) * w for c, w in zip(body, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
org = body + {10: "X", 11: "0"}.get(o, str(o))
u = "91" + sys.argv[1] + org
u += CS[(31 - sum(CS.index(c) * w for c, w in zip(u, W)) % 31) % 31]
print(u, org[:8] + "-" + org[8])
PY
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
read -r USCC_A ORG_A <<<"$(uscc 440300)"
call POST "/v1/enterprises/$ENT/verification" "$KEY" 202 "{\"company_name\":\"深圳市腾讯计算机系统有限公司\",
  \"uscc\":\"$USCC_A\",\"organization_code\":\"$ORG_A\",
  \"legal_representative\":{\"name\":\"马化腾\",\"id_number\":\"11010519491231002X\"},
  \"administrator\":{\"name\":\"马化腾\",\"id_number\":\"11010519491231002X\",\"mobile\":\"13800138000\",\"is_legal_representative\":true}}"
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

echo "== 8. a second enterprise, verified, with a seal the platform draws for it, granted to its administrator"
call POST /v1/enterprises "" 201 '{"name":"上海乙方贸易有限公司","contact_email":"legal@example.org",
  "admin":{"name":"王五","mobile":"13700137000","email":"wang@example.org"}}'
ENT_B="$(field '["enterprise"]["id"]')"; KEY_B="$(field '["api_key"]')"; ADMIN_B="$(field '["admin"]["id"]')"
# One USCC, one verified account: enterprise A's USCC is refused for B.
call POST "/v1/enterprises/$ENT_B/verification" "$KEY_B" 409 "{\"company_name\":\"上海乙方贸易有限公司\",
  \"uscc\":\"$USCC_A\",\"organization_code\":\"$ORG_A\",
  \"legal_representative\":{\"name\":\"王五\",\"id_number\":\"11010519491231002X\"},
  \"administrator\":{\"name\":\"王五\",\"id_number\":\"11010519491231002X\",\"mobile\":\"13700137000\",\"is_legal_representative\":true}}"
echo "   $(field '["type"]'): $(field '["detail"]')"
read -r USCC_B ORG_B <<<"$(uscc 310115)"
call POST "/v1/enterprises/$ENT_B/verification" "$KEY_B" 202 "{\"company_name\":\"上海乙方贸易有限公司\",
  \"uscc\":\"$USCC_B\",\"organization_code\":\"$ORG_B\",
  \"legal_representative\":{\"name\":\"王五\",\"id_number\":\"11010519491231002X\"},
  \"administrator\":{\"name\":\"王五\",\"id_number\":\"11010519491231002X\",\"mobile\":\"13700137000\",\"is_legal_representative\":true}}"
call POST "/v1/operator/verifications/$(field '["verification"]["id"]')/decision" "$OP" 200 '{"decision":"approve"}'
# This one is drawn by the platform: the verified company name on the rim, a star, the type below.
call POST /v1/seals "$KEY_B" 201 '{"name":"合同专用章","kind":"contract","key_algorithm":"rsa_2048","generate":true}'
SEAL_B="$(field '["seal"]["id"]')"
call POST "/v1/seals/$SEAL_B/submit" "$KEY_B" 202
call POST "/v1/operator/seals/$SEAL_B/decision" "$OP" 200 '{"decision":"approve"}'
call PUT "/v1/seals/$SEAL_B/grants/$ADMIN_B" "$KEY_B" 200

echo "== 9. a contract between the two: PDF upload, parties in order, placements (each party's seal and date on page 2, and a cross-page seal across both pages), open"
PDF=/tmp/esign-demo-contract.$$.pdf
python3 "$(dirname "$0")/sample_contract.py" "$PDF" 2
call POST /v1/contracts "$KEY" 201 "{\"title\":\"采购合同 demo $$\",\"document_size\":$(stat -c %s "$PDF")}"
CTR="$(field '["contract"]["id"]')"
[ "$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/pdf' --data-binary @"$PDF" "$(field '["upload"]["upload_url"]')")" = 200 ]
call PUT "/v1/contracts/$CTR/parties" "$KEY" 200 "{\"order\":\"sequential\",\"parties\":[{\"enterprise_id\":\"$ENT\"},{\"enterprise_id\":\"$ENT_B\"}]}"
call PUT "/v1/contracts/$CTR/placements" "$KEY" 200 "{\"placements\":[
  {\"kind\":\"signature\",\"party\":\"$ENT\",\"page\":2,\"x\":70,\"y\":560,\"width\":120,\"height\":120},
  {\"kind\":\"signing_date\",\"party\":\"$ENT\",\"page\":2,\"x\":70,\"y\":690,\"width\":120,\"height\":18},
  {\"kind\":\"signature\",\"party\":\"$ENT_B\",\"page\":2,\"x\":380,\"y\":560,\"width\":120,\"height\":120},
  {\"kind\":\"signing_date\",\"party\":\"$ENT_B\",\"page\":2,\"x\":380,\"y\":690,\"width\":120,\"height\":18},
  {\"kind\":\"cross_page\",\"party\":\"$ENT\",\"y\":120},
  {\"kind\":\"cross_page\",\"party\":\"$ENT_B\",\"y\":300}]}"
call POST "/v1/contracts/$CTR/open" "$KEY" 200
echo "   contract $CTR: $(field '["status"]'), $(field '["page_count"]') pages"

# confirm_mobile KEY MEMBER MOBILE: signing codes go only to a confirmed mobile; the member
# proves it receives texts there with a code sent there (read from the dev outbox).
confirm_mobile() {
  call POST "/v1/members/$2/contacts/confirm" "$1" 201 '{"channel":"sms"}'
  local otp; otp="$(field '["otp_id"]')"
  call GET "/v1/dev/outbox?recipient=%2B86$3&limit=1" "" 200
  local code; code="$(python3 -c "import json,re,sys; print(re.search(r'\\b(\\d{6})\\b', json.load(sys.stdin)['items'][0]['body']).group(1))" <<<"$RESP")"
  call POST "/v1/members/$2/contacts/verify" "$1" 200 "{\"channel\":\"sms\",\"otp_id\":\"$otp\",\"code\":\"$code\"}"
  echo "   mobile confirmed: $(field '["mobile_confirmed"]')"
}
# sign_as KEY SEAL MOBILE: a one-time code to the member's phone (the dev outbox), then the signature.
sign_as() {
  call POST "/v1/contracts/$CTR/otp" "$1" 201
  local otp; otp="$(field '["otp_id"]')"; echo "   code sent to $(field '["sent_to"]')"
  call GET "/v1/dev/outbox?recipient=%2B86$3&limit=1" "" 200
  local code; code="$(python3 -c "import json,re,sys; print(re.search(r'\\b(\\d{6})\\b', json.load(sys.stdin)['items'][0]['body']).group(1))" <<<"$RESP")"
  call POST "/v1/contracts/$CTR/sign" "$1" 200 "{\"seal_id\":\"$2\",\"otp_id\":\"$otp\",\"code\":\"$code\"}"
  echo "   status $(field '["status"]'), signatures $(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["signatures"]))' <<<"$RESP")"
}
echo "== 10. party A signs, then party B (each confirmed by a one-time code)"
call POST "/v1/contracts/$CTR/otp" "$KEY_B" 409
# Codes go only to a confirmed mobile: each administrator confirms its own first.
call POST "/v1/contracts/$CTR/otp" "$KEY" 409
echo "   $(field '["type"]')"
call GET /v1/members "$KEY" 200
confirm_mobile "$KEY" "$(field '["items"][0]["id"]')" 13800138000
confirm_mobile "$KEY_B" "$ADMIN_B" 13700137000
sign_as "$KEY" "$SEAL" 13800138000
sign_as "$KEY_B" "$SEAL_B" 13700137000

echo "== 11. download, verify, and the contract's audit trail"
call GET "/v1/contracts/$CTR/document" "$KEY_B" 200
OUT="${ESIGN_DEMO_OUT:-/tmp/esign-demo-signed.pdf}"
curl -sS -o "$OUT" "$(field '["url"]')"
echo "   signed PDF: $OUT ($(stat -c %s "$OUT") bytes)"
curl -sS -o /tmp/esign-demo-verify.$$ -H 'Content-Type: application/pdf' --data-binary @"$OUT" "$BASE/v1/verify"
python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
for s in d['signatures']: print('  ', s['field'], s['seal']['enterprise_name'], s['seal']['seal_name'], s['signing_time'], s['time_source'], 'intact' if s['intact'] else 'BROKEN', 'trusted' if s['trusted'] else 'untrusted', 'stamps on pages', s['stamp_pages'], 'cross-page strips on pages', s['strip_pages'])
print('   valid:', d['valid']); sys.exit(0 if d['valid'] else 1)" /tmp/esign-demo-verify.$$
rm -f /tmp/esign-demo-verify.$$ "$PDF"
call GET "/v1/contracts/$CTR/audit?limit=100" "$KEY" 200
python3 -c "import json,sys; d=json.load(sys.stdin); [print('  ', e['seq'], e['action']) for e in d['items']]; print('   chain intact:', d['chain_intact'])" <<<"$RESP"
call GET /v1/usage "$KEY" 200
echo "   usage: $RESP"
KIT="$(dirname "$0")/../../shared/pdfcheck"
if [ -x "$KIT/check_signed_pdf.sh" ] && [ -d "${PDFCHECK_VENV:-$HOME/.cache/pdfcheck/venv}" ]; then
  curl -sS "$BASE/v1/ca/certificates" | python3 -c "import sys; t=sys.stdin.read(); e='-----END CERTIFICATE-----'; print(t[:t.index(e)+len(e)])" > /tmp/esign-demo-root.$$.pem
  # 2 signatures + the document time stamp added when the contract completed (B-LTA)
  "$KIT/check_signed_pdf.sh" --expect 3 "$OUT" /tmp/esign-demo-root.$$.pem | tail -1
  # Long-term validation: pyHanko's AdES validation with no network (a namespace of its own when
  # unshare may make one), the root the only trust: revocation data must come from the file.
  OFFLINE=(unshare -rn); "${OFFLINE[@]}" true 2>/dev/null || OFFLINE=()
  echo '{}' > /tmp/esign-demo-pyhanko.$$.yml
  "${OFFLINE[@]}" "${PDFCHECK_VENV:-$HOME/.cache/pdfcheck/venv}/bin/python" -m pyhanko --no-plugins \
    --config /tmp/esign-demo-pyhanko.$$.yml sign adesverify --trust /tmp/esign-demo-root.$$.pem --trust-replace \
    --validation-time "$(python3 -c 'import datetime as d; print((d.datetime.now(d.timezone.utc)+d.timedelta(minutes=2)).isoformat())')" \
    "$OUT" 2>/dev/null | grep -E '^[^:]+:[0-9a-f]{64}:' | sed "s/^/   pyHanko adesverify ${OFFLINE[*]:+(offline) }/"
  rm -f /tmp/esign-demo-root.$$.pem /tmp/esign-demo-pyhanko.$$.yml
  # Each stamp rendered with and without its appearance: it must show ink where it was placed.
  python3 "$KIT/stamp_check.py" "$OUT" "${OUT%.pdf}-stamps" | sed 's/^/   /'
  LAST="$(pdfinfo "$OUT" | awk '/^Pages:/ {print $2}')"
  for page in $(seq "$LAST"); do pdftoppm -singlefile -r 72 -f "$page" -l "$page" -png "$OUT" "${OUT%.pdf}-page$page"; done
  echo "   the pages, rendered (the cross-page seals' strips at their right edges): ${OUT%.pdf}-page{1..$LAST}.png"
else
  echo "   (install ../shared/pdfcheck to have the independent judges check $OUT)"
fi

echo "== 12. the evidence report (出证报告), made when the contract completed"
# The server makes it on its own tick (ESIGN_LOCAL_EVIDENCE_SECS, as generate-evidence's schedule
# does when deployed); give that tick time, then fetch it. The access trail says whether this
# request made it or found it made.
sleep "${ESIGN_LOCAL_EVIDENCE_SECS:-0}"
call GET "/v1/contracts/$CTR/evidence" "$KEY" 200
EVIDENCE="${OUT%.pdf}-evidence.pdf"
curl -sS -o "$EVIDENCE" "$(field '["url"]')"
echo "   evidence report: $EVIDENCE ($(stat -c %s "$EVIDENCE") bytes, made $(field '["generated_at"]'))"
call GET "/v1/contracts/$CTR/audit?trail=access&limit=100" "$KEY" 200
python3 -c "import json,sys; e=[i for i in json.load(sys.stdin)['items'] if i['action']=='contract.evidence_downloaded'][-1]; print('   ' + ('made on this request' if e['details']['generated'] else 'made before this request (when the contract completed)'))" <<<"$RESP"
if [ -x "$KIT/check_signed_pdf.sh" ] && [ -d "${PDFCHECK_VENV:-$HOME/.cache/pdfcheck/venv}" ]; then
  curl -sS "$BASE/v1/ca/certificates" | python3 -c "import sys; t=sys.stdin.read(); e='-----END CERTIFICATE-----'; print(t[:t.index(e)+len(e)])" > /tmp/esign-demo-root.$$.pem
  # The platform's evidence seal + the document time stamp (B-LTA)
  "$KIT/check_signed_pdf.sh" --expect 2 "$EVIDENCE" /tmp/esign-demo-root.$$.pem | tail -1
  rm -f /tmp/esign-demo-root.$$.pem
fi
echo "demo: OK"
