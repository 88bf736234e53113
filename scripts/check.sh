#!/usr/bin/env bash
# Everything CI checks, in one place: format, lint, types, committed dist, and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== format"; npx prettier --check . >/dev/null && echo ok
echo "== lint"; npx eslint .
echo "== typecheck"; npx tsc --noEmit -p tsconfig.json && echo ok
echo "== dist"; node scripts/bundle.mjs --check
echo "== tests"; npm run jest -- "$@"
