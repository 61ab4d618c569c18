#!/usr/bin/env bash
# Starts the local demo: the mail stack on 127.0.0.1 with a seeded demo mailbox, and the
# gateway in front of it.
#
# The EAS endpoint (`airgate serve`) arrives with the sync core; until then this prints what
# it will serve and the accounts to use, and leaves the mail stack running for IMAP/SMTP
# clients and for `airgate wbxml`. Stop everything with `Deploy/stack.sh down`.
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
  EAS endpoint (coming with the sync core): http://$listen/Microsoft-Server-ActiveSync
  Account:        $DEMO_USER / $DEMO_PASSWORD   (second account: $OTHER_USER / $OTHER_PASSWORD)
  IMAP upstream:  $IMAP_HOST:$IMAP_PORT (STARTTLS), $IMAP_HOST:$IMAPS_PORT (TLS)
  SMTP upstream:  $SMTP_HOST:$SMTP_PORT (submission, AUTH PLAIN)
  PostgreSQL:     $PG_URL

The gateway does not serve EAS yet: what works today is the mail stack above and the
wire-format tool, e.g.
  $(swift build --show-bin-path)/airgate wbxml decode ../shared/fixtures/exchange-captures/response-1858.wbxml

Stop the stack with: Deploy/stack.sh down
INFO
