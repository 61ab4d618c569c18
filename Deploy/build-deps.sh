#!/usr/bin/env bash
# Installs the Debian packages Airgate builds and runs against, if any is missing:
# libetpan (IMAP, SMTP, MIME), GnuTLS headers for Airgate's own libetpan stream driver, and
# Cyrus SASL's modules, which libetpan needs at run time for SMTP AUTH and for IMAP
# AUTHENTICATE on servers without SASL-IR. Called by Deploy/test.sh and Deploy/demo.sh.
set -euo pipefail

needed=(libetpan-dev libgnutls28-dev libsasl2-modules libsqlite3-dev pkg-config)
installed=$(dpkg-query -W -f='${db:Status-Abbrev}\n' "${needed[@]}" 2>/dev/null | grep -c '^ii' || true)
if [ "$installed" != "${#needed[@]}" ]; then
    [ "$(id -u)" = 0 ] || { echo "build-deps.sh: run as root to install: ${needed[*]}" >&2; exit 1; }
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
fi
