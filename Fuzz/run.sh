#!/usr/bin/env bash
# Builds a libFuzzer target with AddressSanitizer and runs it.
#
#   Fuzz/run.sh [TARGET] [SECONDS] [extra libFuzzer flags…]
#
# TARGET is eas-decoder (the default: WBXML reader and EAS decoder), eas-requests (every
# command's request decoder), mime (SendMail's message, headers, invitations, charsets) or
# imap-fetch (the reader of the IMAP server's FETCH responses); SECONDS defaults to 60.
# Seeds: the Exchange captures in ../shared/fixtures and Fuzz/seeds/*.wbxml for the WBXML
# targets (plus Fuzz/seeds/requests/*.xml, encoded with `airgate wbxml encode`),
# Fuzz/seeds/mime/* for mime, Fuzz/seeds/imap-fetch/* for imap-fetch. What libFuzzer finds
# goes to Fuzz/corpus-TARGET (git-ignored) and crashing inputs to Fuzz/artifacts/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target=eas-decoder
case "${1:-}" in
    eas-decoder|eas-requests|mime|imap-fetch) target="$1"; shift ;;
esac
seconds="${1:-60}"
shift || true
shared="${AIRGATE_SHARED_DIR:-$here/../../shared}"

case "$target" in
    eas-decoder) product=FuzzEASDecoder ;;
    eas-requests) product=FuzzEASRequests ;;
    mime) product=FuzzMIME ;;
    imap-fetch) product=FuzzIMAPFetch ;;
esac

cd "$here/.."
corpus="$here/corpus-$target"
mkdir -p "$corpus" "$here/artifacts"
if [ "$target" = mime ] || [ "$target" = imap-fetch ]; then
    cp -n "$here"/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
else
    cp -n "$here"/seeds/*.wbxml "$corpus"/ 2>/dev/null || true
    if [ -d "$shared/fixtures/exchange-captures" ]; then
        cp -n "$shared"/fixtures/exchange-captures/*.wbxml "$corpus"/ 2>/dev/null || true
    fi
    if [ "$target" = eas-requests ]; then
        swift build --product airgate >/dev/null
        airgate="$(swift build --show-bin-path)/airgate"
        for xml in "$here"/seeds/requests/*.xml; do
            "$airgate" wbxml encode "$xml" -o "$corpus/$(basename "$xml" .xml).wbxml"
        done
    fi
fi

export AIRGATE_FUZZ=1
# One combined -sanitize flag: given as two (--sanitize=fuzzer --sanitize=address), swiftc
# keeps only the last, and the code is built without coverage instrumentation.
build=(swift build -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address
       --scratch-path .build-fuzz)
"${build[@]}" --product "$product"
binary="$("${build[@]}" --show-bin-path)/$product"

"$binary" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$here/artifacts/$target-" "$@"
