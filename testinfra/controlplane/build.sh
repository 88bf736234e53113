#!/usr/bin/env bash
# Builds the local control-plane programs (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok) from the Go modules pinned beside this script, into a cache
# outside the repository keyed by those pins. A warm cache makes this a no-op.
#
# Prints the bin directory on the last line of stdout. Everything else goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' is not on PATH; the control plane is built from Go modules (Go >= 1.26 needed)" >&2
  exit 1
fi

# The cache key covers everything that decides the binaries: the pins and the toolchain.
key=$( (cat "$here"/*/go.mod "$here"/*/go.sum "$here/build.sh"; go version) | sha256sum | cut -c1-16)
cache_root=${KIT_TESTBIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kit-testbin}
bin="$cache_root/$key/bin"
programs=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

complete=1
for p in "${programs[@]}"; do [ -x "$bin/$p" ] || complete=0; done
if [ "$complete" = 1 ]; then
  echo "control-plane binaries are cached in $bin" >&2
  echo "$bin"
  exit 0
fi

mkdir -p "$bin.partial"
start=$(date +%s)

k8s_version=$(cd "$here/kubernetes" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
minor=$(echo "$k8s_version" | cut -d. -f2)
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  # Stamped like upstream releases, so /version reports the real version, not v0.0.0-master.
  ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

echo "building Kubernetes $k8s_version control plane (first build takes 15-30 min on 2 cores)..." >&2
(cd "$here/kubernetes" && go build -trimpath -ldflags "$ldflags" -o "$bin.partial/" tool)
echo "building etcd..." >&2
(cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$bin.partial/etcd" go.etcd.io/etcd/server/v3)
echo "building kwok..." >&2
(cd "$here/kwok" && go build -trimpath -ldflags "-s -w" -o "$bin.partial/kwok" sigs.k8s.io/kwok/cmd/kwok)

# kwok ships no Stages in its binary; keep its default pod/node stages next to it so the
# cluster script can compose them with its own failure stages.
kwok_dir=$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
mkdir -p "$bin.partial/stages"
for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
         pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  cp "$kwok_dir/kustomize/stage/$f" "$bin.partial/stages/$(basename "$f")"
done

rm -rf "$bin"
mv "$bin.partial" "$bin"
echo "built control plane in $(( $(date +%s) - start ))s into $bin" >&2
echo "$bin"
