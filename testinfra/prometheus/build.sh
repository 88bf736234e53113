#!/usr/bin/env bash
# Builds the Prometheus server (cmd/prometheus) at the version pinned by go.mod beside this
# script, into a cache outside the repository keyed by that version, go.mod, go.sum, the Go
# version and the build flags (the control plane's cache folder; KIT_TESTBIN_CACHE moves it).
# A warm cache makes this a no-op. Two runs at once build once: the second waits on a lock,
# then finds the binary.
#
# Build tags: without `builtinassets` the web UI is read from disk at run time, so the build
# needs none of the npm-built UI assets (the UI pages answer 404; the HTTP API the tests use is
# unaffected). `remove_all_sd` leaves out the cloud service discoveries: the tests scrape
# static targets, and the build is much smaller without them.
#
# --find: build nothing; print the cached binary's path, or exit 3 saying why there is none.
#
# Prints the binary's path on the last line of stdout. Everything else goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
interval=${KIT_BUILD_PROGRESS_SECONDS:-60}
find_only=
case "${1:-}" in
  --find) find_only=1 ;;
  '') ;;
  *) echo "build.sh: unknown argument '$1' (only --find is accepted)" >&2; exit 2 ;;
esac

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' is not on PATH; Prometheus is built from Go modules (Go >= 1.26.7 needed)" >&2
  if [ -n "$find_only" ]; then exit 3; fi
  exit 1
fi

version=$(cd "$here" && go list -m -f '{{.Version}}' github.com/prometheus/prometheus)
# The flags are part of the key: changing them here rebuilds. The -X stamps the module version
# into the binary (its --version and /api/v1/status/buildinfo), as Prometheus's releases do.
flags=(-trimpath -tags remove_all_sd
  -ldflags "-s -w -X github.com/prometheus/common/version.Version=$version")
key=$( (cat "$here/go.mod" "$here/go.sum"; go version; printf '%s\n' "${flags[@]}") | sha256sum | cut -c1-12)
cache_root=${KIT_TESTBIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kit-testbin}
dir="$cache_root/prometheus-$version-$key"

if [ -x "$dir/prometheus" ]; then
  echo "$dir/prometheus"
  exit 0
fi
if [ -n "$find_only" ]; then
  echo "build.sh: Prometheus $version is not built (no $dir/prometheus); run: bash testinfra/prometheus/build.sh" >&2
  exit 3
fi

start=$SECONDS
elapsed() { # seconds → 42s, 13m05s
  if [ "$1" -ge 60 ]; then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi
}

mkdir -p "$cache_root"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache_root/prometheus.lock"
  if ! flock -n 9; then
    echo "another Prometheus build is running; waiting for it (lock: $cache_root/prometheus.lock)" >&2
    until flock -w "$interval" 9; do
      echo "  still waiting for the other build ($(elapsed $((SECONDS - start))))" >&2
    done
  fi
else
  echo "build.sh: flock is not installed, so nothing keeps two builds at once apart" >&2
fi
if [ -x "$dir/prometheus" ]; then
  echo "Prometheus $version is cached in $dir (built by the run this one waited for)" >&2
  echo "$dir/prometheus"
  exit 0
fi

tmp=$(mktemp -d "$cache_root/prometheus-build.XXXXXX")
log="$tmp/build.log"
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# What go build -v (one line per package compiled, one per module downloaded) has said so far.
progress_of() {
  local compiled downloaded
  compiled=$(grep -cE '^[A-Za-z0-9._~/+-]+$' "$log" || true)
  downloaded=$(grep -c '^go: downloading ' "$log" || true)
  if [ "$downloaded" -gt 0 ]; then
    echo "$compiled packages compiled, $downloaded modules downloaded"
  else
    echo "$compiled packages compiled"
  fi
}

echo "building Prometheus $version (cmd/prometheus) into $dir (5-10 min on 2 cores; longer when they are busy)" >&2
next=$((SECONDS + interval))
(cd "$here" && exec go build -v "${flags[@]}" -o "$tmp/prometheus" \
  github.com/prometheus/prometheus/cmd/prometheus) >"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  sleep 0.2
  if [ "$SECONDS" -ge "$next" ]; then
    echo "  prometheus: $(progress_of), $(elapsed $((SECONDS - start)))" >&2
    next=$((next + interval))
  fi
done
status=0
wait "$pid" || status=$?
pid=
if [ "$status" -ne 0 ]; then
  echo "build.sh: building Prometheus failed (go build exited $status):" >&2
  grep -vE '^[A-Za-z0-9._~/+-]+$|^go: downloading ' "$log" | tail -n 60 >&2
  exit 1
fi
echo "built Prometheus $version in $(elapsed $((SECONDS - start))) ($(progress_of)), $(du -h "$tmp/prometheus" | cut -f1)" >&2
rm -f "$log"
rm -rf "$dir"
mv "$tmp" "$dir"
echo "$dir/prometheus"
