#!/usr/bin/env bash
# Builds the local control-plane programs (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok) from the Go modules pinned beside this script, the way
# programs.sh says, into a cache outside the repository keyed by the pins, programs.sh and the
# Go version. A warm cache makes this a no-op.
#
# Two runs at once build once: the second waits on a lock in the cache folder, then finds the
# first one's result. While it builds, each program gets a line, and every
# KIT_BUILD_PROGRESS_SECONDS (default 60) a line says how far it got and how long it has taken.
#
# Prints the bin directory on the last line of stdout. Everything else goes to stderr.
# KIT_TESTBIN_CACHE moves the cache (default ${XDG_CACHE_HOME:-~/.cache}/kit-testbin).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
interval=${KIT_BUILD_PROGRESS_SECONDS:-60}

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' is not on PATH; the control plane is built from Go modules (Go >= 1.26 needed)" >&2
  exit 1
fi

# shellcheck source-path=SCRIPTDIR source=programs.sh
source "$here/programs.sh"
key=$( (cat "$here"/*/go.mod "$here"/*/go.sum "$here/programs.sh"; go version) | sha256sum | cut -c1-16)
cache_root=${KIT_TESTBIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kit-testbin}
bin="$cache_root/$key/bin"

cached() {
  local line
  for line in "${programs[@]}"; do [ -x "$bin/${line%% *}" ] || return 1; done
}
if cached; then
  echo "control-plane binaries are cached in $bin" >&2
  echo "$bin"
  exit 0
fi

start=$SECONDS
elapsed() { # seconds → 42s, 13m05s
  if [ "$1" -ge 60 ]; then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi
}

# One build per cache at a time: bin.partial is shared. Children inherit the lock, so a build
# that outlives this script (killed) still holds it until it exits.
mkdir -p "$cache_root"
lock="$cache_root/build.lock"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$lock"
  if ! flock -n 9; then
    echo "another build is running in $cache_root; waiting for it (lock: $lock)" >&2
    until flock -w "$interval" 9; do
      echo "  still waiting for the other build ($(elapsed $((SECONDS - start))))" >&2
    done
    if cached; then
      echo "control-plane binaries are cached in $bin (built by the run this one waited for)" >&2
      echo "$bin"
      exit 0
    fi
  fi
else
  echo "build.sh: flock is not installed, so nothing keeps two builds at once apart" >&2
fi

log=$(mktemp)
pid=
trap 'rm -f "$log"; if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# What a build's output (go build -v names each package it compiles, and each module it
# downloads) says so far.
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

# Builds one program in the background and reports on it every $interval seconds. Its output
# is kept aside and shown, without the package names, only when it fails.
build_program() { # <name> <module dir> <go build args...>
  local name=$1 dir=$2 t0=$SECONDS next=$((SECONDS + interval)) status=0
  shift 2
  (cd "$dir" && exec go build -v "$@") >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.2
    if [ "$SECONDS" -ge "$next" ]; then
      echo "  $name: $(progress_of), $(elapsed $((SECONDS - t0))) ($(elapsed $((SECONDS - start))) in all)" >&2
      next=$((next + interval))
    fi
  done
  wait "$pid" || status=$?
  pid=
  if [ "$status" -ne 0 ]; then
    echo "build.sh: building $name failed (go build exited $status):" >&2
    grep -vE '^[A-Za-z0-9._~/+-]+$|^go: downloading ' "$log" | tail -n 60 >&2
    exit 1
  fi
  echo "  $name built in $(elapsed $((SECONDS - t0))) ($(progress_of))" >&2
}

rm -rf "$bin.partial"
mkdir -p "$bin.partial"
echo "building ${#programs[@]} control-plane programs into $bin (the first build takes 15-30 min on 2 cores)" >&2
i=0
for line in "${programs[@]}"; do
  read -r name module package <<<"$line"
  i=$((i + 1))
  build_flags "$here/$module"
  echo "[$i/${#programs[@]}] $name ($package)" >&2
  build_program "$name" "$here/$module" "${go_flags[@]}" -o "$bin.partial/$name" "$package"
done

kwok_dir=$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
mkdir -p "$bin.partial/stages"
for f in "${kwok_stages[@]}"; do
  cp "$kwok_dir/kustomize/stage/$f" "$bin.partial/stages/$(basename "$f")"
done

rm -rf "$bin"
mv "$bin.partial" "$bin"
echo "built the control plane in $(elapsed $((SECONDS - start))) into $bin" >&2
echo "$bin"
