#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# client_scale.sh [BUILD_DIR] [SECONDS] - run bench/client_scale (aggregate
# IOAS_MAP + IOAS_UNMAP throughput of 1, 2, 4 and 8 concurrent clients,
# against one client) on a freshly started daemon (mock backend, the FUSE
# file on /dev/iommu) in a private mount namespace, SECONDS (default 2)
# per point. Needs root.
set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
repo=$(cd "${self%/*}/.." && pwd -P)
# shellcheck disable=SC2034 # the prefix of daemon-ns.sh messages
dns_prog=client_scale
# shellcheck source=SCRIPTDIR/../tests/lib/daemon-ns.sh disable=SC1091
. "$repo/tests/lib/daemon-ns.sh"

if ! dns_in_namespace; then
	build=$(cd "${1:-$repo/build}" && pwd -P)
	dns_require_host
	dns_reexec "$(mktemp -d /tmp/client-scale.XXXXXX)" "$self" "$build" "${2:-2}"
fi
build=$1
seconds=$2
dns_setup_namespace
log=$(dirname "$(dns_run_dir)")/iommufdd.log
dns_start_daemon "$build/daemon/iommufdd" "$log" --log-level warning
rc=0
"$build/bench/client_scale" /dev/iommu "$seconds" || rc=$?
dns_stop_daemon
exit "$rc"
