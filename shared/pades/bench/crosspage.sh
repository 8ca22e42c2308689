#!/usr/bin/env bash
# Benchmark (issue 16): signing the 60-page contract with one act per party (a seal and a date on
# the last page, a cross-page seal over every page, two parties) against act-per-page signing as
# it was before (a seal and a date on each of 20 pages, one act per page, two parties: 40 acts).
# Both with the kit's RFC 3161 TSA (every act asks it for a token; a new process first probes it
# for the token size), the RSA and P-256 seals of mkpki.sh, the seal at 40 mm (113.39 pt, the
# platform's default size). Whole processes, peak RSS of the largest one.
# Usage: bench/crosspage.sh PKI_DIR   (env RUNS=9, ESIGN=esign-pdf, DOCS=contract_pdf example,
# OLD_ESIGN=the esign-pdf the act-per-page side runs, by default ESIGN: give main's build before
# one act per party to measure today's signing as it is)
set -euo pipefail
PKI="$1"
RUNS="${RUNS:-9}"
BIN="${CARGO_TARGET_DIR:-target}/release"
ESIGN="${ESIGN:-$BIN/esign-pdf}"
OLD_ESIGN="${OLD_ESIGN:-$ESIGN}"
DOCS="${DOCS:-$BIN/examples/contract_pdf}"
KIT="$(cd "$(dirname "$0")/../../../../shared/pdfcheck" && pwd)"
T="$(mktemp -d)"; PORT=$((20000 + RANDOM % 20000))
python3 "$KIT/tsa/tsa_server.py" "$PKI" "$PORT" >/dev/null 2>&1 & TSA_PID=$!
trap 'kill $TSA_PID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
TSA="http://127.0.0.1:$PORT/"
"$DOCS" "$T/c60.pdf" 60; "$DOCS" "$T/c20.pdf" 20; "$DOCS" --seal "$T/seal.png" 120
party() { # kind x -> the key options of a party
  echo --key "$PKI/seal_$1.key" --cert "$PKI/seal_$1.pem" --chain "$PKI/int.pem" --tsa "$TSA" --image "$T/seal.png"
}
one_act_per_party() {
  "$ESIGN" sign $(party rsa) --place signature:60:60,560,120,120 --place signing_date:60:60,690,120,18 \
    --place cross_page:1-60:80,113.39 "$T/c60.pdf" "$T/a.pdf"
  "$ESIGN" sign $(party ec) --place signature:60:300,560,120,120 --place signing_date:60:300,690,120,18 \
    --place cross_page:1-60:300,113.39 "$T/a.pdf" "$T/new.pdf"
}
act_per_page() {
  cp "$T/c20.pdf" "$T/old.pdf"
  for kind in rsa ec; do
    x=$([ $kind = rsa ] && echo 60 || echo 300)
    for page in $(seq 20); do
      "$OLD_ESIGN" sign $(party $kind) --place signature:$page:$x,560,120,120 --place signing_date:$page:$x,690,120,18 \
        "$T/old.pdf" "$T/next.pdf"
      mv "$T/next.pdf" "$T/old.pdf"
    done
  done
}
export -f one_act_per_party act_per_page party; export ESIGN OLD_ESIGN T PKI TSA
# One timed run of a function: "wall_s cpu_s max_rss_kb" (cpu: user + system of the signing
# processes, 10 ms resolution; the TSA is another process).
timed() {
  /usr/bin/time -f "%e %U %S %M" -o "$T/t" bash -c "$1" >/dev/null 2>"$T/err" || { cat "$T/err" >&2; return 1; }
  read -r s u k m < "$T/t"; echo "$s $(echo "$u + $k" | bc -l) $m"
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
# The two sides alternate, run by run, so that both see the same load on a shared machine.
new_t=(); new_c=(); new_rss=0; old_t=(); old_c=(); old_rss=0
for _ in $(seq "$RUNS"); do
  read -r s c m < <(timed one_act_per_party); [ -n "${m:-}" ] || exit 1; new_t+=("$s"); new_c+=("$c"); [ "$m" -gt "$new_rss" ] && new_rss=$m
  read -r s c m < <(timed act_per_page); [ -n "${m:-}" ] || exit 1; old_t+=("$s"); old_c+=("$c"); [ "$m" -gt "$old_rss" ] && old_rss=$m
done
new=$(median "${new_t[@]}"); new_cpu=$(median "${new_c[@]}"); old=$(median "${old_t[@]}"); old_cpu=$(median "${old_c[@]}")
echo "runs (s), one act per party: $(printf '%s ' "${new_t[@]}")"
echo "runs (s), act per page: $(printf '%s ' "${old_t[@]}")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
row() { # label pdf wall cpu rss_kb
  printf '| %s | %s | %s | %.2f | %.0f | %s |\n' "$1" "$(($(grep -ac '%%EOF' "$2") - 1))" "$3" "$4" "$(echo "$5/1024" | bc -l)" "$(($(stat -c %s "$2")/1024))"
}
echo "| signing | acts | median s | median CPU s | peak RSS MB | file KB |"
echo "|---|---|---|---|---|---|"
row "60 pages, cross-page seal, one act per party" "$T/new.pdf" "$new" "$new_cpu" "$new_rss"
row "20 pages, act per page" "$T/old.pdf" "$old" "$old_cpu" "$old_rss"
awk -v a="$old" -v b="$new" -v c="$old_cpu" -v d="$new_cpu" \
  'BEGIN { printf "\nratio (act per page / one act per party): %.1fx time, %.1fx CPU\n", a / b, c / d }'
"$KIT/check_signed_pdf.sh" -q --expect 2 "$T/new.pdf" "$PKI/root.pem"
