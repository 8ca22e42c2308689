#!/usr/bin/env bash
# Builds the web app and publishes it to a deployed stack:
#   scripts/deploy-web.sh [stack-name]     (default: $ESIGN_STACK, else esign)
# It builds web/ (npm ci, npm run build), reads the stack's WebBucket and WebDistributionId
# outputs, uploads the content-hashed files under assets/ first (cached for a year), then every
# other file (revalidated on each visit: index.html names the current assets) and removes the
# earlier builds' other files, and invalidates the distribution's cached copies. Earlier builds'
# assets stay, so a page opened before the deployment can still load its chunks. Needs node/npm and the
# AWS CLI with credentials for the stack's account and region (AWS_PROFILE, AWS_REGION).
set -euo pipefail
cd "$(dirname "$0")/.."
STACK="${1:-${ESIGN_STACK:-esign}}"

output() {
  aws cloudformation describe-stacks --stack-name "$STACK" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
BUCKET="$(output WebBucket)"
DISTRIBUTION="$(output WebDistributionId)"
URL="$(output WebUrl)"
if [ -z "$BUCKET" ] || [ "$BUCKET" = "None" ] || [ -z "$DISTRIBUTION" ] || [ "$DISTRIBUTION" = "None" ]; then
  echo "deploy-web: stack $STACK has no WebBucket/WebDistributionId outputs; deploy the SAM stack first" >&2
  exit 1
fi

(cd web && npm ci && npm run build)
[ -f web/dist/index.html ] || { echo "deploy-web: web/dist/index.html was not built" >&2; exit 1; }

# New assets first, so no page ever names a file that is not there yet.
if [ -d web/dist/assets ]; then
  aws s3 sync web/dist/assets "s3://$BUCKET/assets" --only-show-errors \
    --cache-control "public, max-age=31536000, immutable"
fi
aws s3 sync web/dist "s3://$BUCKET" --only-show-errors --exclude "assets/*" --delete --cache-control "no-cache"

aws cloudfront create-invalidation --distribution-id "$DISTRIBUTION" --paths "/*" \
  --query "Invalidation.Id" --output text >/dev/null
echo "deploy-web: published web/dist to s3://$BUCKET; $URL serves it once the invalidation completes"
