#!/usr/bin/env bash
# Benchmark: `esign-pdf sign` vs `pyhanko sign addsig` (same key, cert, placement) and sha256sum.
# Whole process, median of RUNS, peak RSS (/usr/bin/time %M).
# Usage: bench.sh PKI_DIR FILE.pdf [FILE.pdf ...]   (env RUNS=5, ESIGN=path to release esign-pdf)
set -euo pipefail
PKI="$1"; shift
RUNS="${RUNS:-5}"
ESIGN="${ESIGN:-${CARGO_TARGET_DIR:-target}/release/esign-pdf}"
PYH="${PDFCHECK_VENV:-$HOME/.cache/pdfcheck/venv}/bin/pyhanko"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
measure() {  # label cmd... -> prints "median_s max_rss_kb"
  local times=() rss=0
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$T/t" "$@" >/dev/null 2>"$T/err" || { echo "FAILED: $* ($(tail -1 "$T/err"))" >&2; return 1; }
    read -r s m < "$T/t"; times+=("$s"); [ "$m" -gt "$rss" ] && rss=$m
  done
  echo "$(printf '%s\n' "${times[@]}" | median) $rss"
}
printf '| file | size MB | pages | esign-pdf s | pyHanko s | sha256sum s | speed-up | esign/sha256 | RSS esign MB | RSS pyHanko MB |\n|---|---|---|---|---|---|---|---|---|---|\n'
for f in "$@"; do
  pages=$(qpdf --show-npages "$f" 2>/dev/null || echo '?')
  read -r e erss < <(measure "$ESIGN" sign --key "$PKI/seal_rsa.key" --cert "$PKI/seal_rsa.pem" --chain "$PKI/int.pem" --place signature:1:100,100,100,100 "$f" "$T/e.pdf")
  read -r p prss < <(measure "$PYH" --no-plugins sign addsig --field 1/100,600,200,700/Sig1 pemder --key "$PKI/seal_rsa.key" --cert "$PKI/seal_rsa.pem" --chain "$PKI/int.pem" --no-pass "$f" "$T/p.pdf")
  read -r h _ < <(measure sha256sum "$f")
  awk -v f="$(basename "$f")" -v sz="$(stat -c %s "$f")" -v pg="$pages" -v e="$e" -v p="$p" -v h="$h" -v er="$erss" -v pr="$prss" \
    'BEGIN { printf "| %s | %.1f | %s | %.3f | %.2f | %.3f | %.0fx | %.2f | %.0f | %.0f |\n", f, sz/1e6, pg, e, p, h, (e>0? p/e : 0), (h>0? e/h : 0), er/1024, pr/1024 }'
done
