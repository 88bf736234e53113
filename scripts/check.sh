#!/usr/bin/env bash
# Everything CI checks, in one place: format, lint, types, committed dist, the test suite and
# (soon) the reliability suite. Arguments go to Jest.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=$(mktemp)
trap 'rm -f "$counts"' EXIT
export KIT_COUNTS_FILE=$counts
echo "== format"; npx prettier --check . >/dev/null && echo ok
echo "== lint"; npx eslint .
echo "== typecheck"; npx tsc --noEmit -p tsconfig.json && echo ok
echo "== dist"; node scripts/bundle.mjs --check
echo "== tests"; npm run jest -- "$@"
# The reliability suite (npm run test:reliability) joins this script once its cases have
# landed; until then it has no tests, and Jest fails a run that finds none.
