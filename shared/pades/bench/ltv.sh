#!/bin/bash
# Size and time that B-LT and B-LTA add to one signature, against pyHanko doing the same.
# Usage: bench/ltv.sh FILE.pdf   (env: RUNS=5, ESIGN=path to a release esign-pdf)
# A throwaway PKI (the kit's mkpki.sh, re-issued by tests/ltv_pki.sh with OCSP and CRL URLs), the
# kit's TSA and tests/ltv_responder.py on free ports. Per run:
#   ours:    esign-pdf sign --tsa (B-T); two OCSP responses (seal, TSA: openssl ocsp -index) and the
#            root's CRL made by the openssl CLI ("fetch"); esign-pdf ltv (B-LT); esign-pdf
#            timestamp; esign-pdf ltv again (B-LTA)
#   pyHanko: pyhanko sign addsig --use-pades-lta --with-validation-info --timestamp-url (one
#            command: it signs, fetches OCSP/CRLs from the responder over HTTP, writes the DSS,
#            the document time stamp and its DSS)
# Prints the median wall time of each step and the bytes each step adds.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"; KIT="$HERE/../../../shared/pdfcheck"
[ -d "$KIT" ] || KIT="$HERE/../../shared/pdfcheck"
IN="$(readlink -f "${1:?usage: bench/ltv.sh FILE.pdf}")"; RUNS="${RUNS:-5}"
ESIGN="${ESIGN:-${CARGO_TARGET_DIR:-$HERE/../../target}/release/esign-pdf}"
PY="${PDFCHECK_VENV:-$HOME/.cache/pdfcheck/venv}/bin/python"
W="$(mktemp -d)"; trap 'kill $TSA_PID $RESP_PID 2>/dev/null; rm -rf "$W"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
"$KIT/pki/mkpki.sh" "$W/pki" >/dev/null
RP=$(free_port); "$HERE/tests/ltv_pki.sh" "$W/pki" init "$RP"
python3 "$HERE/tests/ltv_responder.py" "$W/pki" "$RP" & RESP_PID=$!
TP=$(free_port); python3 "$KIT/tsa/tsa_server.py" "$W/pki" "$TP" 2>/dev/null & TSA_PID=$!
sleep 1; TSA="http://127.0.0.1:$TP/"; P="$W/pki"
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; e=$(date +%s.%N); echo "$e - $s" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {printf "%.3f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
fetch() {
  "$HERE/tests/ltv_pki.sh" "$P" ocsp seal_rsa.pem "$W/seal.ocsp"
  "$HERE/tests/ltv_pki.sh" "$P" ocsp tsa.pem "$W/tsa.ocsp"
  "$HERE/tests/ltv_pki.sh" "$P" crl root "$W/root.crl"
}
LTV=(--ltv-certs "$P/root.pem" --ltv-certs "$P/int.pem" --ltv-certs "$P/tsa.pem" --ltv-certs "$P/seal_rsa.pem"
     --ltv-ocsp "$W/seal.ocsp" --ltv-ocsp "$W/tsa.ocsp" --ltv-crl "$W/root.crl")
for i in $(seq "$RUNS"); do
  echo "$(t "$ESIGN" sign --key "$P/seal_rsa.key" --cert "$P/seal_rsa.pem" --chain "$P/int.pem" --tsa "$TSA" \
       --place signature:1:100,100,100,100 "$IN" "$W/bt.pdf")" >> "$W/sign"
  echo "$(t fetch)" >> "$W/fetch"
  echo "$(t "$ESIGN" ltv "${LTV[@]}" "$W/bt.pdf" "$W/lt.pdf")" >> "$W/lt"
  echo "$(t "$ESIGN" timestamp --tsa "$TSA" "$W/lt.pdf" "$W/ts.pdf")" >> "$W/ts"
  fetch
  echo "$(t "$ESIGN" ltv "${LTV[@]}" "$W/ts.pdf" "$W/lta.pdf")" >> "$W/lta"
  echo "$(t "$PY" -m pyhanko --no-plugins sign addsig --field 1/100,600,200,700/Sig1 --use-pades-lta \
       --with-validation-info --timestamp-url "$TSA" --trust "$P/root.pem" --trust-replace \
       pemder --key "$P/seal_rsa.key" --cert "$P/seal_rsa.pem" --chain "$P/int.pem" --no-pass "$IN" "$W/pyh.pdf")" >> "$W/pyh"
  echo "$(t "$PY" -m pyhanko --no-plugins sign addsig --field 1/100,600,200,700/Sig1 --use-pades \
       --timestamp-url "$TSA" pemder --key "$P/seal_rsa.key" --cert "$P/seal_rsa.pem" --chain "$P/int.pem" \
       --no-pass "$IN" "$W/pyh_bt.pdf")" >> "$W/pyhbt"
done
sz() { stat -c %s "$1"; }
echo "file: $(basename "$IN") ($(sz "$IN") bytes), $RUNS runs, median seconds"
echo "| step | esign-pdf s | bytes added |"
echo "|---|---|---|"
echo "| sign, B-T (TSA) | $(median < "$W/sign") | $(( $(sz "$W/bt.pdf") - $(sz "$IN") )) |"
echo "| fetch: 2 OCSP + 1 CRL (openssl CLI) | $(median < "$W/fetch") | - |"
echo "| ltv: DSS (B-LT) | $(median < "$W/lt") | $(( $(sz "$W/lt.pdf") - $(sz "$W/bt.pdf") )) |"
echo "| timestamp: document time stamp | $(median < "$W/ts") | $(( $(sz "$W/ts.pdf") - $(sz "$W/lt.pdf") )) |"
echo "| ltv: DSS for it (B-LTA) | $(median < "$W/lta") | $(( $(sz "$W/lta.pdf") - $(sz "$W/ts.pdf") )) |"
echo "pyHanko addsig --use-pades-lta --with-validation-info: $(median < "$W/pyh") s, +$(( $(sz "$W/pyh.pdf") - $(sz "$IN") )) bytes;" \
     "pyHanko addsig --use-pades (B-T): $(median < "$W/pyhbt") s, +$(( $(sz "$W/pyh_bt.pdf") - $(sz "$IN") )) bytes"
"$KIT/check_signed_pdf.sh" -q --expect 2 "$W/lta.pdf" "$P/root.pem"
"$KIT/check_signed_pdf.sh" -q --expect 2 "$W/pyh.pdf" "$P/root.pem" || true
