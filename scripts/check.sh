#!/usr/bin/env bash
# Everything CI checks, in one place: format, lint, types, committed dist, the test suite and
# the reliability suite. Arguments go to the main suite's Jest (and skip the reliability suite).
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
if [ $# -eq 0 ]; then
  # Faults, hostile input, secret leaks, properties and load; writes docs/reliability.md.
  echo "== reliability"; npm run test:reliability
  # One total over both suites, last, in the same form as each suite's own closing line.
  awk '{ p += $1; f += $2; s += $3 } END { printf "\ntotal: %d passed, %d failed, %d skipped\n", p, f, s }' "$counts"
fi
