#!/usr/bin/env bash
# Everything CI checks, in one place: format, lint, types, committed dist, the test suite and
# the reliability suite. Arguments go to the main suite's Jest (and skip the reliability suite).
# Nothing here writes into the work tree; when it starts clean (CI, a fresh clone) that is
# checked at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
tree_before=$(git status --porcelain --untracked-files=all 2>/dev/null || echo "not a git work tree")
counts=$(mktemp)
trap 'rm -f "$counts"' EXIT
export KIT_COUNTS_FILE=$counts
echo "== format"; npx prettier --check . >/dev/null && echo ok
echo "== lint"; npx eslint .
echo "== typecheck"; npx tsc --noEmit -p tsconfig.json && echo ok
echo "== dist"; node scripts/bundle.mjs --check
echo "== tests"; npm run jest -- "$@"
if [ $# -eq 0 ]; then
  # Faults, hostile input, secret leaks, properties and load; then checks that
  # docs/reliability.md lists this run's cases and outcomes (it is written only by
  # npm run reliability:report).
  echo "== reliability"; npm run test:reliability
fi
if [ -z "$tree_before" ]; then
  echo "== work tree"
  tree_after=$(git status --porcelain --untracked-files=all)
  if [ -n "$tree_after" ]; then
    printf 'the checks changed the work tree:\n%s\n' "$tree_after" >&2
    exit 1
  fi
  echo "unchanged"
fi
if [ $# -eq 0 ]; then
  # One total over both suites, last, in the same form as each suite's own closing line.
  awk '{ p += $1; f += $2; s += $3 } END { printf "\ntotal: %d passed, %d failed, %d skipped\n", p, f, s }' "$counts"
fi
