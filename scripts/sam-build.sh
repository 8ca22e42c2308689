#!/usr/bin/env bash
# `sam build` of the stack, as a deploy runs it, and the checks on what it made: every function's
# artefact is the same `bootstrap` (the one binary, esign-lambda), and its size zipped the way SAM
# zips it (Python zipfile, deflate), against issue 17's 5 MB: printed, and a failure with
# ESIGN_SAM_ENFORCE_LIMIT=1, which scripts/test.sh sets (4.80 MB on 2026-12-03:
# shared/pades/BENCH.md, "Lambda packages").
#
# Installs what it needs on a fresh Debian machine with Rust and Python 3: the SAM CLI and
# cargo-lambda (which brings zig, its linker) from PyPI, pinned, into a venv; the aarch64 Rust
# target. Nothing here talks to AWS.
#
# The build goes to "${CARGO_TARGET_DIR:-target}/sam-build" (ESIGN_SAM_BUILD_DIR to change it):
# outside the sources, never committed. SAM's rust-cargolambda builder runs `cargo lambda build
# --release --arm64 --bin esign-lambda` in the repository and finds the binary through `cargo
# metadata`'s target directory, so CARGO_TARGET_DIR is honoured and a kept target directory makes
# a second run a copy (shared/pades/BENCH.md, "Lambda packages").
set -euo pipefail

SAM_CLI_VERSION=1.170.0   # as scripts/lint-infra.sh
CARGO_LAMBDA_VERSION=1.9.2
LIMIT_BYTES=5000000       # issue 17: every package under 5 MB zipped

cd "$(dirname "$0")/.."
ROOT="$PWD"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BUILD_DIR="${ESIGN_SAM_BUILD_DIR:-$TARGET_DIR/sam-build}"
VENV="${ESIGN_SAM_VENV:-$HOME/.cache/esign/sam-build-venv}"
PY="${PYTHON:-python3}"
PINS="aws-sam-cli==${SAM_CLI_VERSION} cargo-lambda==${CARGO_LAMBDA_VERSION}"
STAMP="$VENV/.esign-pins"

if [[ ! -x "$VENV/bin/python" ]] || [[ ! -f "$STAMP" ]] || [[ "$(cat "$STAMP")" != "$PINS" ]]; then
    echo "sam-build: installing $PINS into $VENV" >&2
    mkdir -p "$(dirname "$VENV")"
    "$PY" -m venv "$VENV"
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $PINS
    printf '%s' "$PINS" > "$STAMP"
fi
rustup target add aarch64-unknown-linux-gnu >/dev/null

# The venv first on PATH: SAM looks up `cargo-lambda` there, and cargo-lambda finds zig as the
# venv's `python3 -m ziglang`.
export PATH="$VENV/bin:$PATH"
export CARGO_TARGET_DIR="$TARGET_DIR"
export SAM_CLI_TELEMETRY=0
export AWS_EC2_METADATA_DISABLED=true
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-$AWS_REGION}"

start=$(date +%s)
rm -rf "$BUILD_DIR"
# --no-cached over samconfig.toml's `cached`: SAM's cache key would be a hash of the whole
# repository (every function's CodeUri is its root, web/node_modules included); the kept target
# directory is the cache that counts.
sam build --template infra/template.yaml --build-dir "$BUILD_DIR" --no-cached
echo "sam-build: sam build in $(( $(date +%s) - start )) s"

"$VENV/bin/python" - "$ROOT/infra/template.yaml" "$BUILD_DIR" "$LIMIT_BYTES" "${ESIGN_SAM_ENFORCE_LIMIT:-0}" <<'PY'
import hashlib, io, os, sys, zipfile

import yaml  # comes with the SAM CLI

template, build_dir, limit, enforce = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"


class Loader(yaml.SafeLoader):
    pass


# CloudFormation's short forms (!Ref, !Sub, !GetAtt, ...) read as plain values.
Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
resources = yaml.load(open(template), Loader=Loader)["Resources"]
functions = sorted(
    name for name, res in resources.items()
    if res.get("Type") == "AWS::Serverless::Function"
    and (res.get("Metadata") or {}).get("BuildMethod") == "rust-cargolambda"
)
if not functions:
    sys.exit("sam-build: no rust-cargolambda function in the template")

digests = {}
for name in functions:
    path = os.path.join(build_dir, name, "bootstrap")
    if not os.path.isfile(path):
        sys.exit(f"sam-build: {name}: no bootstrap in {os.path.dirname(path)}")
    with open(path, "rb") as f:
        digests.setdefault(hashlib.sha256(f.read()).hexdigest(), []).append(name)
if len(digests) != 1:
    for digest, names in digests.items():
        print(f"  {digest[:16]}: {', '.join(names)}", file=sys.stderr)
    sys.exit(f"sam-build: the {len(functions)} functions' artefacts are {len(digests)} different programs, not one")

# Zipped as SAM packages a function's folder: zipfile, deflate, the one `bootstrap` entry.
path = os.path.join(build_dir, functions[0], "bootstrap")
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.write(path, "bootstrap")
raw, zipped = os.path.getsize(path), len(buf.getvalue())
print(f"sam-build: {len(functions)} functions, one bootstrap: {raw:,} B raw, {zipped:,} B zipped (limit {limit:,} B)")
if zipped >= limit:
    over = f"sam-build: the package is {zipped:,} B zipped, over the {limit:,} B limit"
    if enforce:
        sys.exit(over)
    print(over + " (not enforced: ESIGN_SAM_ENFORCE_LIMIT=1 makes it a failure)", file=sys.stderr)
PY
echo "sam-build: OK in $(( $(date +%s) - start )) s"
