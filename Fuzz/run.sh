#!/usr/bin/env bash
# Builds the libFuzzer target with AddressSanitizer and runs it.
#
#   Fuzz/run.sh [SECONDS] [extra libFuzzer flags…]     (default 60 seconds)
#
# The seed corpus is the Exchange captures in ../shared/fixtures plus the bodies in
# Fuzz/seeds; what libFuzzer finds goes to Fuzz/corpus-eas-decoder (git-ignored) and crashing
# inputs to Fuzz/artifacts/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-60}"
shift || true
shared="${AIRGATE_SHARED_DIR:-$here/../../shared}"

cd "$here/.."
export AIRGATE_FUZZ=1
# One combined -sanitize flag: given as two (--sanitize=fuzzer --sanitize=address), swiftc
# keeps only the last, and the code is built without coverage instrumentation.
build=(swift build -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address
       --scratch-path .build-fuzz)
"${build[@]}" --product FuzzEASDecoder
binary="$("${build[@]}" --show-bin-path)/FuzzEASDecoder"

corpus="$here/corpus-eas-decoder"
mkdir -p "$corpus" "$here/artifacts"
cp -n "$here"/seeds/*.wbxml "$corpus"/ 2>/dev/null || true
if [ -d "$shared/fixtures/exchange-captures" ]; then
    cp -n "$shared"/fixtures/exchange-captures/*.wbxml "$corpus"/ 2>/dev/null || true
fi
"$binary" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$here/artifacts/" "$@"
