#!/usr/bin/env bash
# Starts the local demo: the mail stack on 127.0.0.1 with a seeded demo mailbox, and the
# gateway in front of it on http://127.0.0.1:8080/Microsoft-Server-ActiveSync (SQLite state
# in Deploy/.stack/). Ctrl-C stops the gateway; `Deploy/stack.sh down` stops the stack.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v swift >/dev/null || { echo "demo.sh: Swift 6.1 or later is needed (https://www.swift.org/install/linux/)" >&2; exit 1; }

Deploy/build-deps.sh
Deploy/stack.sh up
# shellcheck disable=SC1091
. Deploy/.stack/env
if [ ! -f Deploy/.stack/demo-seeded ]; then
    Deploy/stack.sh seed --user "$DEMO_USER" --count 200 --folders
    touch Deploy/.stack/demo-seeded
fi
swift build --product airgate
listen="${AIRGATE_LISTEN:-127.0.0.1:8080}"

cat <<INFO

Airgate demo
  EAS endpoint:   http://$listen/Microsoft-Server-ActiveSync
  Account:        $DEMO_USER / $DEMO_PASSWORD   (second account: $OTHER_USER / $OTHER_PASSWORD)
  IMAP upstream:  $IMAP_HOST:$IMAP_PORT (STARTTLS), $IMAP_HOST:$IMAPS_PORT (TLS)
  SMTP upstream:  $SMTP_HOST:$SMTP_PORT (submission, AUTH PLAIN)
  State:          SQLite in Deploy/.stack/airgate.sqlite

Try it:
  curl -i -X OPTIONS http://$listen/Microsoft-Server-ActiveSync
Plain HTTP is accepted from loopback only; see README.md for a phone on a real network.
INFO

exec "$(swift build --show-bin-path)/airgate" serve --stack-env Deploy/.stack/env --listen "$listen"
