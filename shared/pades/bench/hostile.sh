#!/usr/bin/env bash
# Hostile-file benchmark (issue 12): wall time and peak RSS of `esign-pdf verify` and
# `esign-pdf sign` on each file, for one or more engine builds side by side, each run under a
# 10 s timeout (`timeout -s KILL`). Not a test: nothing is asserted, the table is the result.
# Usage: hostile.sh PKI_DIR LABEL=ESIGN_PDF [LABEL=ESIGN_PDF ...] -- FILE...
#   e.g. hostile.sh /tmp/pki before=/t/main/esign-pdf after=/t/fixed/esign-pdf -- /tmp/hc/*.pdf
# Env: LIMIT (seconds, 10). Output: a Markdown table on stdout. Each cell: seconds, peak MB and
# the outcome: ok (exit 0), report (verify: exit 1 with a report, e.g. no valid signature),
# err (exit 1: a typed error), TIMEOUT (killed at LIMIT),
# ABORT (134: stack overflow or allocation failure), OOM/KILL (137), or exit N.
set -euo pipefail
PKI="$1"; shift
ENGINES=()
while [ "$1" != "--" ]; do ENGINES+=("$1"); shift; done; shift
LIMIT="${LIMIT:-10}"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
run() {  # cmd... -> "s MB outcome"
  local rc=0
  /usr/bin/time -f "%e %M" -o "$T/t" timeout -s KILL "$LIMIT" "$@" >"$T/out" 2>"$T/err" || rc=$?
  local s m; read -r s m < <(tail -1 "$T/t")
  local o
  case $rc in 0) o=ok;; 1) if grep -q 'signature(s)' "$T/out"; then o=report; else o=err; fi;; 137) if awk -v s="$s" -v l="$LIMIT" 'BEGIN{exit !(s>=l)}'; then o=TIMEOUT; else o=KILL; fi;; 134) o=ABORT;; *) o="exit $rc";; esac
  printf '%.2f s %.0f MB %s' "$s" "$((m / 1024))" "$o"
}
hdr="| file | KB |"; sep="|---|---|"
for e in "${ENGINES[@]}"; do l="${e%%=*}"; hdr+=" verify $l | sign $l |"; sep+="---|---|"; done
echo "$hdr"; echo "$sep"
for f in "$@"; do
  row="| $(basename "$f" .pdf) | $(( $(stat -c %s "$f") / 1024 )) |"
  for e in "${ENGINES[@]}"; do
    bin="${e#*=}"
    v=$(run "$bin" verify --trust "$PKI/root.pem" "$f")
    s=$(run "$bin" sign --key "$PKI/seal_ec.key" --cert "$PKI/seal_ec.pem" --chain "$PKI/int.pem" --place signature:1:20,20,60,60 "$f" "$T/out.pdf")
    row+=" $v | $s |"
  done
  echo "$row"
done
