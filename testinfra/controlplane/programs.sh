# shellcheck shell=bash disable=SC2034  # sourced by build.sh, which uses these variables
# How each control-plane program is built from the Go modules pinned beside this file. build.sh
# sources this file and hashes it into the cache key with the pins and the Go version: a change
# here rebuilds the binaries, a change to build.sh (cache, lock, progress) does not.

# One program a line: its name, the module folder beside this file that pins it, its package.
programs=(
  'kube-apiserver kubernetes k8s.io/kubernetes/cmd/kube-apiserver'
  'kube-controller-manager kubernetes k8s.io/kubernetes/cmd/kube-controller-manager'
  'kube-scheduler kubernetes k8s.io/kubernetes/cmd/kube-scheduler'
  'kubectl kubernetes k8s.io/kubernetes/cmd/kubectl'
  'etcd etcd go.etcd.io/etcd/server/v3'
  'kwok kwok sigs.k8s.io/kwok/cmd/kwok'
)

# Sets go_flags to the `go build` flags for a module folder ($1, a path).
build_flags() {
  local ldflags="-s -w" version minor p
  if [ "$(basename "$1")" = kubernetes ]; then
    version=$(cd "$1" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
    minor=$(echo "$version" | cut -d. -f2)
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      # Stamped like upstream releases, so /version reports the real version, not v0.0.0-master.
      ldflags+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    done
  fi
  go_flags=(-trimpath -ldflags "$ldflags")
}

# kwok ships no Stages in its binary; its default pod and node stages (paths in kwok's module)
# are kept next to it, in stages/, so the cluster script can compose them with its own failure
# stages.
kwok_stages=(
  node/fast/node-initialize.yaml
  node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml
  pod/fast/pod-complete.yaml
  pod/fast/pod-delete.yaml
)
