#!/usr/bin/env bash
# Lint the infrastructure: the SAM template (cfn-lint, sam validate --lint) and the
# OpenAPI contract (openapi-spec-validator). Needs only PyPI; no AWS account or network
# access to AWS (dummy credentials are set below).
set -euo pipefail

CFN_LINT_VERSION=1.58.0
SAM_CLI_VERSION=1.170.0
OPENAPI_VALIDATOR_VERSION=0.9.0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="${ESIGN_TOOLS_VENV:-$HOME/.cache/esign/tools-venv}"
PY="${PYTHON:-python3}"
PINS="cfn-lint==${CFN_LINT_VERSION} aws-sam-cli==${SAM_CLI_VERSION} openapi-spec-validator==${OPENAPI_VALIDATOR_VERSION}"
STAMP="$VENV/.esign-pins"

if [[ ! -x "$VENV/bin/python" ]] || [[ ! -f "$STAMP" ]] || [[ "$(cat "$STAMP")" != "$PINS" ]]; then
    echo "lint-infra: installing $PINS into $VENV" >&2
    mkdir -p "$(dirname "$VENV")"
    "$PY" -m venv "$VENV"
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $PINS
    printf '%s' "$PINS" > "$STAMP"
fi

# Offline-safe settings: nothing here talks to AWS.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true
export SAM_CLI_TELEMETRY=0

echo "lint-infra: cfn-lint infra/template.yaml" >&2
"$VENV/bin/cfn-lint" infra/template.yaml

echo "lint-infra: sam validate --lint" >&2
"$VENV/bin/sam" validate --lint --template infra/template.yaml --region us-east-1

echo "lint-infra: openapi-spec-validator infra/openapi.yaml" >&2
"$VENV/bin/openapi-spec-validator" infra/openapi.yaml

echo "infra lint: OK"
