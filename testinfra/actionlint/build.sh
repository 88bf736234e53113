#!/usr/bin/env bash
# Builds actionlint, the GitHub Actions workflow linter, at the version pinned by go.mod beside
# this script, into a cache outside the repository keyed by that version, go.sum and the Go
# version (the control plane's cache folder; KIT_TESTBIN_CACHE moves it). A warm cache makes
# this a no-op. Two runs at once build once: the second waits on a lock, then finds the binary.
#
# Prints the binary's path on the last line of stdout. Everything else goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' is not on PATH; actionlint is built from Go modules (Go >= 1.26 needed)" >&2
  exit 1
fi

version=$(cd "$here" && go list -m -f '{{.Version}}' github.com/rhysd/actionlint)
key=$( (cat "$here/go.mod" "$here/go.sum"; go version) | sha256sum | cut -c1-12)
cache_root=${KIT_TESTBIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kit-testbin}
dir="$cache_root/actionlint-$version-$key"

if [ ! -x "$dir/actionlint" ]; then
  mkdir -p "$cache_root"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache_root/actionlint.lock"
    flock 9
  fi
  if [ ! -x "$dir/actionlint" ]; then
    echo "building actionlint $version into $dir (about a minute on 2 cores)" >&2
    tmp=$(mktemp -d "$cache_root/actionlint-build.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    (cd "$here" && go build -trimpath -ldflags "-s -w" -o "$tmp/actionlint" github.com/rhysd/actionlint/cmd/actionlint)
    rm -rf "$dir"
    mv "$tmp" "$dir"
  fi
fi
echo "$dir/actionlint"
