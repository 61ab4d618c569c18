#!/usr/bin/env bash
# Runs Airgate's whole test suite on a Debian 12 machine, installing and starting what it needs:
# the tools that check our wire format (libwbxml's wbxml2xml, lxml for eas-validate), the local
# mail stack (Dovecot, Postfix, PostgreSQL on 127.0.0.1, via Deploy/stack.sh), then the stack's
# own end-to-end check, the CLI on the Exchange captures, the codec benchmark at a small size,
# and `swift test`.
#
# A stack that was already up is left up; one this script started is stopped at the end
# (AIRGATE_KEEP_STACK=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="${AIRGATE_SHARED_DIR:-$root/../shared}"
export AIRGATE_SHARED_DIR="$shared"

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'test.sh: error: %s\n' "$*" >&2; exit 1; }

command -v swift >/dev/null || die "Swift 6.1 or later is needed (https://www.swift.org/install/linux/); 'swift' is not on PATH"
[ -d "$shared/fixtures" ] || die "the shared fixtures are missing: expected $shared (set AIRGATE_SHARED_DIR)"

say "Libraries Airgate builds against"
Deploy/build-deps.sh

say "Tools that check our wire format"
if ! command -v wbxml2xml >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libwbxml2-utils >/dev/null
fi
if ! python3 -c 'import lxml' 2>/dev/null; then
    python3 -m pip install --quiet lxml 2>/dev/null \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-lxml >/dev/null
fi
python3 -c 'import lxml' || die "lxml could not be installed for $(command -v python3)"
# The tests read /metrics with Prometheus's own text-format parser.
if ! python3 -c 'import prometheus_client' 2>/dev/null; then
    python3 -m pip install --quiet prometheus_client 2>/dev/null \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-prometheus-client >/dev/null
fi
python3 -c 'import prometheus_client' || die "prometheus_client could not be installed for $(command -v python3)"
wbxml2xml --version 2>&1 | head -1 || true

say "Local mail stack"
started_stack=0
if ! Deploy/stack.sh status >/dev/null 2>&1; then
    started_stack=1
fi
stop_stack() {
    if [ "$started_stack" = 1 ] && [ "${AIRGATE_KEEP_STACK:-0}" != 1 ]; then
        Deploy/stack.sh down >/dev/null 2>&1 || true
    fi
}
trap stop_stack EXIT
Deploy/stack.sh up
Deploy/stack.sh check

say "Build"
swift build --build-tests

say "airgate wbxml decode | encode reproduces every Exchange capture"
airgate="$(swift build --show-bin-path)/airgate"
failed=0
for capture in "$shared"/fixtures/exchange-captures/*.wbxml; do
    if ! "$airgate" wbxml decode "$capture" | "$airgate" wbxml encode - | cmp -s - "$capture"; then
        echo "FAIL $(basename "$capture")"
        failed=$((failed + 1))
    fi
done
[ "$failed" = 0 ] || die "$failed captures did not survive decode | encode"
echo "all $(ls "$shared"/fixtures/exchange-captures/*.wbxml | wc -l) captures identical"

say "libwbxml's wbxml2xml | airgate wbxml encode reproduces every Exchange capture"
scratch=$(mktemp -d)
for capture in "$shared"/fixtures/exchange-captures/*.wbxml; do
    wbxml2xml -l ACTIVESYNC -m 0 -o "$scratch/capture.xml" "$capture" >/dev/null
    if ! "$airgate" wbxml encode "$scratch/capture.xml" | cmp -s - "$capture"; then
        echo "FAIL $(basename "$capture")"
        failed=$((failed + 1))
    fi
done
rm -rf "$scratch"
[ "$failed" = 0 ] || die "$failed captures did not survive wbxml2xml | encode"
echo "all identical"

say "airgate migrate against the stack's PostgreSQL"
"$airgate" migrate --stack-env Deploy/.stack/env

# Debug builds, already made above: this only checks that the benchmarks still run. Their
# figures come from release builds (BENCHMARKS.md says how).
say "Benchmarks at a small size, debug build (checks that they run; figures live in BENCHMARKS.md)"
swift run --skip-build CodecBenchmark --quick
swift run --skip-build StateStoreBenchmark --quick
swift run --skip-build UpstreamBenchmark --quick
swift run --skip-build GatewayBenchmark --quick
# Also the fault run of the mixed load: it fails unless every device ends up holding exactly
# its mailbox after the gateway was killed twice and Dovecot dropped its connections.
swift run --skip-build LoadBenchmark --quick --faults

say "swift test"
AIRGATE_REQUIRE_EXTERNAL_TOOLS=1 swift test
