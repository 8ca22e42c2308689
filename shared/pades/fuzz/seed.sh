#!/usr/bin/env bash
# Seeds the fuzz corpora (not committed: fuzz/corpus/ is ignored) with the adversarial corpus
# (tests/adversarial, written by the hostile_corpus example) and the real-world corpus
# (../shared/corpus/fetch.sh). Run from anywhere; uses CARGO_TARGET_DIR when set.
# Usage: fuzz/seed.sh [TARGET...]   (default: verify check_placements load_and_sign)
# Env: HOSTILE_DIR: a folder the hostile_corpus example already wrote (skips the cargo run).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PADES="$HERE/.."
TARGETS=("$@"); [ ${#TARGETS[@]} -gt 0 ] || TARGETS=(verify check_placements load_and_sign)
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
if [ -n "${HOSTILE_DIR:-}" ]; then mkdir -p "$T/hostile" && cp "$HOSTILE_DIR"/*.pdf "$T/hostile/"
else ( cd "$PADES" && cargo run -q -p esign-pades --example hostile_corpus -- "$T/hostile" >/dev/null ); fi
REAL="$("$PADES/../../../shared/corpus/fetch.sh")"
for t in "${TARGETS[@]}"; do
  d="$HERE/corpus/$t"; mkdir -p "$d"
  cp "$T"/hostile/*.pdf "$d/"
  # real-world files up to 2 MB (bigger ones only slow every mutation down)
  find "$REAL" -name '*.pdf' -size -2M -exec cp {} "$d/" \;
  echo "$t: $(ls "$d" | wc -l) seeds in $d"
done
