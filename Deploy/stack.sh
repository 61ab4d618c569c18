#!/usr/bin/env bash
# Airgate local mail stack: private Dovecot, Postfix and PostgreSQL instances
# bound to 127.0.0.1, living in a throwaway directory under /tmp.
# Run `Deploy/stack.sh --help` for usage.
set -euo pipefail
# Bash 5.2 expands "&" in ${var//pattern/replacement}; we want it literal.
shopt -u patsub_replacement 2>/dev/null || true

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEMPLATE_DIR=$DEPLOY_DIR/stack
STATE_DIR=$DEPLOY_DIR/.stack
ENV_FILE=$STATE_DIR/env
RUNTIME_RECORD=$STATE_DIR/runtime
PID_DIR=$STATE_DIR/pids

MAIL_DOMAIN=airgate.test
VMAIL_USER=airgate-vmail
DEMO_USER=demo@$MAIL_DOMAIN
DEMO_PASSWORD=demo-password
OTHER_USER=other@$MAIL_DOMAIN
OTHER_PASSWORD=other-password
# A user of its own for tests that change account-wide settings (automatic replies).
AWAY_USER=away@$MAIL_DOMAIN
AWAY_PASSWORD=away-password
# A user whose Inbox holds the 2,000 messages the client-profile tests sync.
PROFILES_USER=profiles@$MAIL_DOMAIN
PROFILES_PASSWORD=profiles-password
# Accounts for the load benchmarks (many devices spread over a few mailboxes):
# load01@ to load20@, one password.
LOAD_USER_COUNT=20
LOAD_PASSWORD=load-password
# A second, separate Dovecot serves BETA_DOMAIN, so that tests can check that the
# gateway sends each domain to its own IMAP server. Its users log in by local
# part alone ("demo", not "demo@beta.test") and have their own passwords.
BETA_DOMAIN=beta.test
BETA_USER=demo
BETA_PASSWORD=beta-demo-password
BETA_OTHER_USER=other
BETA_OTHER_PASSWORD=beta-other-password
MASTER_USER=airgate-master
MASTER_PASSWORD=master-password
# Dovecot announces new Inbox mail to a gateway listening here (push.dovecot_secret =
# PUSH_SECRET; docs/deployment.md, "Push from Dovecot"). Nothing of the stack listens on it.
PUSH_PORT=${AIRGATE_PUSH_PORT:-10180}
PUSH_SECRET=airgate-stack-push-secret
PG_USER=airgate
PG_PASSWORD=airgate-password
PG_DATABASE=airgate
START_TIMEOUT=${AIRGATE_START_TIMEOUT:-60}

PACKAGES=(dovecot-imapd dovecot-lmtpd dovecot-managesieved dovecot-sieve
          postfix postgresql openssl python3)

# name:default for every port; AIRGATE_<name> overrides.
PORT_DEFAULTS=(IMAP_PORT:10143 IMAPS_PORT:10993 SMTP_PORT:10587 SMTP_PLAIN_PORT:10025
               LMTP_PORT:10024 SIEVE_PORT:14190 PG_PORT:15432
               BETA_IMAP_PORT:10144 BETA_LMTP_PORT:10034 BETA_SIEVE_PORT:14191
               BETA_SMTP_PORT:10588)
DOVECOT_PORTS=(IMAP_PORT IMAPS_PORT LMTP_PORT SIEVE_PORT)
BETA_DOVECOT_PORTS=(BETA_IMAP_PORT BETA_LMTP_PORT BETA_SIEVE_PORT)
POSTFIX_PORTS=(SMTP_PORT SMTP_PLAIN_PORT BETA_SMTP_PORT)
POSTGRES_PORTS=(PG_PORT)

RUNTIME=""
CONFIG_CHANGED=0
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_BACKUP=""

# ---------------------------------------------------------------- helpers

say()  { printf '==> %s\n' "$*"; }
warn() { printf 'stack.sh: warning: %s\n' "$*" >&2; }
die()  { printf 'stack.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
    cat <<EOF
Usage: Deploy/stack.sh COMMAND [ARGS]

Local mail stack for Airgate development, tests and CI: private Dovecot
(IMAP, LMTP, ManageSieve), Postfix and PostgreSQL instances on 127.0.0.1,
all state in a throwaway directory under /tmp. Needs root (Debian 12).

Commands:
  up                        install missing Debian packages, start (or repair)
                            the stack, write Deploy/.stack/env
  down                      stop what 'up' started and delete all its state
  status                    show each component, its port and whether it runs
                            (exit 0 only when everything is up)
  seed [OPTIONS]            append generated test mail over IMAP
                            (Deploy/seed-mail.py; see 'seed --help')
  check                     end-to-end self-test of the running stack
  user add EMAIL PASSWORD   add or update a mail user (@$MAIL_DOMAIN, or
                            @$BETA_DOMAIN on the second Dovecot)
  -h, --help                show this help

Ports (environment variable, default):
  AIRGATE_IMAP_PORT 10143, AIRGATE_IMAPS_PORT 10993, AIRGATE_SMTP_PORT 10587
  (submission), AIRGATE_SMTP_PLAIN_PORT 10025, AIRGATE_LMTP_PORT 10024,
  AIRGATE_SIEVE_PORT 14190, AIRGATE_PG_PORT 15432.
Second Dovecot ($BETA_DOMAIN): AIRGATE_BETA_IMAP_PORT 10144, AIRGATE_BETA_LMTP_PORT 10034,
  AIRGATE_BETA_SIEVE_PORT 14191; its submission AIRGATE_BETA_SMTP_PORT 10588.
AIRGATE_START_TIMEOUT (seconds, default 60) bounds the wait for each service.

Users: $DEMO_USER / $DEMO_PASSWORD, $OTHER_USER / $OTHER_PASSWORD, $AWAY_USER / $AWAY_PASSWORD,
$PROFILES_USER / $PROFILES_PASSWORD, load01@ to load$LOAD_USER_COUNT@$MAIL_DOMAIN / $LOAD_PASSWORD, master user $MASTER_USER / $MASTER_PASSWORD (log in as "USER*$MASTER_USER").
On $BETA_DOMAIN, by local part: $BETA_USER / $BETA_PASSWORD, $BETA_OTHER_USER / $BETA_OTHER_PASSWORD, same master user.
EOF
}

# Serialise commands that change the stack (up, down, user add). flock(1) on
# the Deploy directory itself, so that no lock file is left behind.
take_lock() {
    exec {LOCK_FD}<"$DEPLOY_DIR"
    if ! flock -n "$LOCK_FD"; then
        say "another stack.sh is changing the stack; waiting for it"
        flock -w 600 "$LOCK_FD" || die "gave up waiting for the other stack.sh"
    fi
}

# Run a command that leaves a daemon behind. The daemon must not inherit our
# lock (that would block the next up/down forever) nor the caller's stdin.
launch() {
    if [[ -n ${LOCK_FD:-} ]]; then
        "$@" </dev/null {LOCK_FD}<&-
    else
        "$@" </dev/null
    fi
}

need_root() {
    [[ $(id -u) -eq 0 ]] || die "'$1' must run as root (try: sudo $0 $1)"
}

python_bin() {
    if [[ -x /usr/bin/python3 ]]; then echo /usr/bin/python3; else command -v python3; fi
}

# Resolve every port from AIRGATE_<NAME> or its default into a global <NAME>.
resolve_ports() {
    local entry name value
    for entry in "${PORT_DEFAULTS[@]}"; do
        name=${entry%%:*}
        value=${entry#*:}
        local override="AIRGATE_$name"
        value=${!override:-$value}
        [[ $value =~ ^[0-9]+$ && $value -ge 1 && $value -le 65535 ]] ||
            die "$override='$value' is not a valid port number"
        printf -v "$name" '%s' "$value"
    done
}

# Read KEY=value lines written by write_env (values are shell-quoted).
load_env() {
    [[ -f $ENV_FILE ]] || return 1
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    # shellcheck disable=SC2153  # STACK_DIR comes from the env file
    RUNTIME=$STACK_DIR
}

load_runtime_record() {
    RUNTIME=""
    [[ -f $RUNTIME_RECORD ]] && RUNTIME=$(<"$RUNTIME_RECORD")
    [[ -n $RUNTIME ]]
}

# ------------------------------------------------------------ port probes

# Is anything listening on TCP port $1 (any local address, IPv4 or IPv6)?
port_listening() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v port="$hex" 'FNR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == port) found = 1 }
                        END { exit found ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# "PID (name)" of the process listening on TCP port $1, when it can be found.
port_owner() {
    local hex inode fd
    hex=$(printf '%04X' "$1")
    inode=$(awk -v port="$hex" 'FNR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == port) { print $10; exit } }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null)
    [[ -n $inode ]] || return 0
    for fd in /proc/[0-9]*/fd/*; do
        if [[ $(readlink "$fd" 2>/dev/null) == "socket:[$inode]" ]]; then
            local pid=${fd#/proc/}
            pid=${pid%%/*}
            printf '%s (%s)' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null)"
            return 0
        fi
    done
}

# Fail clearly when one of the named ports is already taken by someone else.
require_ports_free() {
    local name port owner
    for name in "$@"; do
        port=${!name}
        if port_listening "$port"; then
            owner=$(port_owner "$port")
            die "port $port is already in use${owner:+ by pid $owner}; it is not ours." \
                "Stop that process or pick another port with AIRGATE_$name=<port>."
        fi
    done
}

# Does 127.0.0.1:$1 greet with a line matching $2? Sends $3 to say goodbye.
# Runs in a subshell that ignores SIGPIPE: a peer that resets the connection
# must not kill the whole script.
probe_greeting() (
    local port=$1 pattern=$2 quit=$3 line="" fd
    trap '' PIPE
    # The braces keep 2>/dev/null from sticking to the whole (sub)shell.
    { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
    { IFS= read -r -t 5 -u "$fd" line; } 2>/dev/null || true
    { printf '%s\r\n' "$quit" >&"$fd"; } 2>/dev/null || true
    exec {fd}>&-
    [[ $line =~ $pattern ]]
)

wait_for_greeting() {
    local what=$1 port=$2 pattern=$3 log=$4 quit=$5
    local deadline=$((SECONDS + START_TIMEOUT))
    until probe_greeting "$port" "$pattern" "$quit"; do
        ((SECONDS < deadline)) ||
            die "$what on 127.0.0.1:$port did not answer within ${START_TIMEOUT}s; see $log"
        sleep 0.3
    done
}

# ----------------------------------------------------------- process ids

# The daemon's own pid file inside the runtime dir.
daemon_pid_file() {
    case $1 in
        dovecot|dovecot-beta) echo "$RUNTIME/$1/run/master.pid" ;;
        postfix)  echo "$RUNTIME/postfix-queue/pid/master.pid" ;;
        postgres) echo "$RUNTIME/pg/data/postmaster.pid" ;;
    esac
}

# Is $2 a live process that is service $1 of *this* runtime dir? Guards
# against recorded pids that were reused by something else.
pid_is_ours() {
    local service=$1 pid=$2 marker
    [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 1
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || return 1
    case $service in
        dovecot|dovecot-beta)
                  marker="$RUNTIME/$service/dovecot.conf"; tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker" ;;
        postgres) marker="$RUNTIME/pg/data";               tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker" ;;
        postfix)  postfix_master_is_ours "$pid" ;;
    esac
}

# Postfix's master has a bare command line; postfix(1) exports MAIL_CONFIG to
# it. Without root that environment is unreadable (so is Postfix's own pid
# file): fall back to the process name plus the pid that 'up' recorded.
postfix_master_is_ours() {
    local pid=$1
    if [[ -r /proc/$pid/environ ]]; then
        tr '\0' '\n' <"/proc/$pid/environ" | grep -qxF -- "MAIL_CONFIG=$RUNTIME/postfix"
    else
        [[ $(cat "/proc/$pid/comm" 2>/dev/null) == master ]] &&
            [[ $(cat "$PID_DIR/postfix.pid" 2>/dev/null) == "$pid" ]]
    fi
}

# Pid of our running service $1 (recorded first, else the daemon's pid file).
service_pid() {
    local service=$1 file pid
    for file in "$PID_DIR/$service.pid" "$(daemon_pid_file "$service")"; do
        [[ -r $file ]] || continue
        pid=$(head -n1 "$file" 2>/dev/null | tr -d ' \t')
        if pid_is_ours "$service" "$pid"; then
            echo "$pid"
            return 0
        fi
    done
    return 1
}

record_pid() {
    local service=$1 pid
    pid=$(head -n1 "$(daemon_pid_file "$service")" | tr -d ' \t')
    pid_is_ours "$service" "$pid" || die "$service started but its pid file does not name it; see its log"
    mkdir -p "$PID_DIR"
    echo "$pid" >"$PID_DIR/$service.pid"
}

wait_for_exit() {
    local pid=$1 seconds=$2
    local deadline=$((SECONDS + seconds))
    while [[ -d /proc/$pid ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# ------------------------------------------------------------ packages

missing_packages() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qx installed || echo "$pkg"
    done
}

POLICY_RC_MARKER="Temporary, written by Airgate Deploy/stack.sh during apt-get install."

# Make invoke-rc.d/deb-systemd-invoke refuse to start services during installs.
block_service_starts() {
    # Keep a pre-existing policy (but not one of ours left by a killed run).
    if [[ -e $POLICY_RC ]] && ! grep -qF "$POLICY_RC_MARKER" "$POLICY_RC"; then
        POLICY_RC_BACKUP=$(mktemp /tmp/airgate-policy-rc.XXXXXX)
        cp -p "$POLICY_RC" "$POLICY_RC_BACKUP"
    fi
    trap restore_policy_rc EXIT
    trap 'exit 130' INT TERM HUP
    printf '#!/bin/sh\n# %s\nexit 101\n' "$POLICY_RC_MARKER" >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
}

restore_policy_rc() {
    if [[ -n $POLICY_RC_BACKUP ]]; then
        cp -p "$POLICY_RC_BACKUP" "$POLICY_RC"
        rm -f "$POLICY_RC_BACKUP"
        POLICY_RC_BACKUP=""
    else
        rm -f "$POLICY_RC"
    fi
    trap - EXIT INT TERM HUP
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} == 0)); then
        say "packages: all installed"
        return
    fi
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    printf '%s\n' "postfix postfix/main_mailer_type select No configuration" \
                  "postfix postfix/mailname string $MAIL_DOMAIN" | debconf-set-selections
    block_service_starts
    local log=$RUNTIME/logs/apt.log
    if ! { apt-get update -q && apt-get install -y -q --no-install-recommends \
               -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
               "${missing[@]}"; } </dev/null >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        die "package installation failed; full output in $log"
    fi
    restore_policy_rc
    say "packages installed (apt output in $log)"
}

ensure_vmail_user() {
    if ! id -u "$VMAIL_USER" >/dev/null 2>&1; then
        say "creating system user $VMAIL_USER"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$VMAIL_USER"
    fi
    # shellcheck disable=SC2034  # both are read by render through ${!var}
    VMAIL_UID=$(id -u "$VMAIL_USER") VMAIL_GID=$(id -g "$VMAIL_USER")
}

# --------------------------------------------------------- runtime dir

ensure_runtime() {
    if load_runtime_record; then
        if [[ -d $RUNTIME ]]; then
            say "reusing runtime dir $RUNTIME"
            mkdir -p "$RUNTIME/logs"
            return
        fi
        warn "runtime dir $RUNTIME has vanished; stopping leftovers and starting afresh"
        stop_all
        rm -rf "$STATE_DIR"
    fi
    mkdir -p "$STATE_DIR" "$PID_DIR"
    # Keeps the state dir out of git even without a .gitignore entry.
    printf '*\n' >"$STATE_DIR/.gitignore"
    RUNTIME=$(mktemp -d /tmp/airgate-stack.XXXXXX)
    chmod 755 "$RUNTIME"
    mkdir -p "$RUNTIME/logs"
    echo "$RUNTIME" >"$RUNTIME_RECORD"
    say "created runtime dir $RUNTIME"
}

# Render template $1 into $2 (mode $3); sets CONFIG_CHANGED=1 if $2 changed.
# Further arguments NAME=value fill {{NAME}} placeholders of this copy only.
render() {
    local template=$TEMPLATE_DIR/$1 dest=$2 mode=$3 text var pair
    shift 3
    text=$(<"$template")
    for pair in "$@"; do
        text=${text//"{{${pair%%=*}}}"/${pair#*=}}
    done
    for var in RUNTIME MAIL_DOMAIN BETA_DOMAIN VMAIL_UID VMAIL_GID PUSH_PORT PUSH_SECRET "${PORT_DEFAULTS[@]%%:*}"; do
        text=${text//"{{$var}}"/${!var}}
    done
    [[ $text != *'{{'* ]] || die "unrendered placeholder left in $template"
    if [[ -f $dest ]] && [[ $(<"$dest") == "$text" ]]; then
        return 0
    fi
    printf '%s\n' "$text" >"$dest"
    chmod "$mode" "$dest"
    CONFIG_CHANGED=1
}

ensure_tls_cert() {
    local dir=$RUNTIME/tls log=$RUNTIME/logs/openssl.log
    [[ -s $dir/cert.pem && -s $dir/key.pem ]] && return
    mkdir -p "$dir"
    say "generating self-signed TLS certificate"
    # CA:TRUE so that clients can use the certificate itself as their trust anchor.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
        -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,digitalSignature,keyCertSign" \
        -addext "extendedKeyUsage=serverAuth" \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" >"$log" 2>&1 ||
        die "openssl could not create the certificate; see $log"
    chmod 600 "$dir/key.pem"
    chmod 644 "$dir/cert.pem"
}

ensure_logs() {
    touch "$RUNTIME/logs/dovecot.log" "$RUNTIME/logs/dovecot-beta.log" "$RUNTIME/logs/postfix.log" \
          "$RUNTIME/logs/postgres.log"
    chown postgres: "$RUNTIME/logs/postgres.log"
}

# ---------------------------------------------------------------- users

# Set user $2's password to $3 in passwd-file $1 (Dovecot re-reads on change).
upsert_passwd_entry() {
    local file=$1 user=$2 password=$3 tmp
    tmp=$(mktemp "$file.XXXXXX")
    [[ -f $file ]] && awk -F: -v user="$user" '$1 != user && NF' "$file" >"$tmp"
    printf '%s:{PLAIN}%s\n' "$user" "$password" >>"$tmp"
    chown root:dovecot "$tmp"
    chmod 640 "$tmp"
    mv -f "$tmp" "$file"
}

has_passwd_entry() {
    [[ -f $1 ]] && cut -d: -f1 "$1" | grep -qxF -- "$2"
}

# Postfix only accepts recipients listed in this texthash map.
sync_postfix_mailboxes() {
    local dir=$RUNTIME/postfix beta_users=$RUNTIME/dovecot-beta/users
    {
        cut -d: -f1 "$RUNTIME/dovecot/users"
        # The second Dovecot knows its users by local part.
        if [[ -f $beta_users ]]; then
            cut -d: -f1 "$beta_users" | sed "s/\$/@$BETA_DOMAIN/"
        fi
    } | sed 's/$/ OK/' >"$dir/vmailbox.new"
    mv -f "$dir/vmailbox.new" "$dir/vmailbox"
    printf 'postmaster@%s %s\n' "$MAIL_DOMAIN" "$DEMO_USER" "$BETA_DOMAIN" "$BETA_USER@$BETA_DOMAIN" \
        >"$dir/virtual"
    chmod 644 "$dir/vmailbox" "$dir/virtual"
}

# The default users of Dovecot instance $1, and the master user.
ensure_default_users() {
    local users=$RUNTIME/$1/users masters=$RUNTIME/$1/master-users
    case $1 in
        dovecot)      set -- "$DEMO_USER" "$DEMO_PASSWORD" "$OTHER_USER" "$OTHER_PASSWORD" \
                             "$AWAY_USER" "$AWAY_PASSWORD" "$PROFILES_USER" "$PROFILES_PASSWORD"
                      local index
                      for ((index = 1; index <= LOAD_USER_COUNT; index++)); do
                          set -- "$@" "$(printf 'load%02d@%s' "$index" "$MAIL_DOMAIN")" "$LOAD_PASSWORD"
                      done ;;
        dovecot-beta) set -- "$BETA_USER" "$BETA_PASSWORD" "$BETA_OTHER_USER" "$BETA_OTHER_PASSWORD" ;;
    esac
    while (($# >= 2)); do
        has_passwd_entry "$users" "$1" || upsert_passwd_entry "$users" "$1" "$2"
        shift 2
    done
    has_passwd_entry "$masters" "$MASTER_USER" || upsert_passwd_entry "$masters" "$MASTER_USER" "$MASTER_PASSWORD"
}

# -------------------------------------------------------------- dovecot

# Both Dovecot instances come from one template: $1 is "dovecot" ($MAIL_DOMAIN,
# users keyed by address) or "dovecot-beta" ($BETA_DOMAIN, users keyed by local
# part, so LMTP drops the domain of the recipient). Each has its own directory
# under the runtime dir (config, users, sockets, state), mail dir and log.
configure_dovecot() {
    local instance=$1 dir=$RUNTIME/$1 mail values errors
    CONFIG_CHANGED=0
    case $instance in
        dovecot)
            mail=$RUNTIME/mail
            values=(DOVECOT_INSTANCE=airgate-stack "DOVECOT_DOMAIN=$MAIL_DOMAIN"
                    "DOVECOT_HOME=$mail/%d/%n" DOVECOT_LMTP_USERNAME=%Lu
                    "DOVECOT_IMAP_PORT=$IMAP_PORT" "DOVECOT_IMAPS_PORT=$IMAPS_PORT"
                    "DOVECOT_LMTP_PORT=$LMTP_PORT" "DOVECOT_SIEVE_PORT=$SIEVE_PORT") ;;
        dovecot-beta)
            mail=$RUNTIME/mail-beta
            values=(DOVECOT_INSTANCE=airgate-stack-beta "DOVECOT_DOMAIN=$BETA_DOMAIN"
                    "DOVECOT_HOME=$mail/%n" DOVECOT_LMTP_USERNAME=%Ln
                    "DOVECOT_IMAP_PORT=$BETA_IMAP_PORT" DOVECOT_IMAPS_PORT=0
                    "DOVECOT_LMTP_PORT=$BETA_LMTP_PORT" "DOVECOT_SIEVE_PORT=$BETA_SIEVE_PORT") ;;
    esac
    mkdir -p "$dir" "$mail"
    chown "$VMAIL_USER:$VMAIL_USER" "$mail"
    chmod 750 "$mail"
    render dovecot.conf "$dir/dovecot.conf" 644 "DOVECOT=$instance" "${values[@]}"
    ensure_default_users "$instance"
    errors=$(doveconf -c "$dir/dovecot.conf" -n 2>&1 >/dev/null) ||
        die "Dovecot ($instance) rejects its configuration: $errors"
}

start_dovecot() {
    local instance=$1 conf=$RUNTIME/$1/dovecot.conf log=$RUNTIME/logs/$1.log
    # A stale master.pid (e.g. after a reboot) would make Dovecot refuse to start.
    rm -f "$(daemon_pid_file "$instance")"
    if [[ $instance == dovecot ]]; then
        require_ports_free "${DOVECOT_PORTS[@]}"
    else
        require_ports_free "${BETA_DOVECOT_PORTS[@]}"
    fi
    say "starting $instance"
    # Dovecot keeps its stderr open: never hand it the caller's terminal or pipe.
    launch dovecot -c "$conf" >>"$log" 2>&1 || die "$instance failed to start; see $log"
    wait_for_file "$(daemon_pid_file "$instance")" "$instance" "$log"
    record_pid "$instance"
}

wait_for_file() {
    local file=$1 what=$2 log=$3 deadline=$((SECONDS + START_TIMEOUT))
    until [[ -s $file ]]; do
        ((SECONDS < deadline)) || die "$what did not write $file within ${START_TIMEOUT}s; see $log"
        sleep 0.2
    done
}

# -------------------------------------------------------------- postfix

configure_postfix() {
    local dir=$RUNTIME/postfix
    CONFIG_CHANGED=0
    # Queue and data dirs stay outside the config dir: postfix check walks all
    # of it expecting root-owned files.
    mkdir -p "$dir" "$RUNTIME/postfix-queue" "$RUNTIME/postfix-data"
    chown postfix:postfix "$RUNTIME/postfix-data"
    chmod 700 "$RUNTIME/postfix-data"
    render postfix-main.cf "$dir/main.cf" 644
    render postfix-master.cf "$dir/master.cf" 644
    sync_postfix_mailboxes
    # Creates missing queue subdirectories and fixes their ownership.
    postfix -c "$dir" check </dev/null >"$RUNTIME/logs/postfix-check.log" 2>&1 ||
        die "postfix check failed; see $RUNTIME/logs/postfix-check.log and postfix.log"
}

start_postfix() {
    local dir=$RUNTIME/postfix
    require_ports_free "${POSTFIX_PORTS[@]}"
    say "starting postfix"
    launch postfix -c "$dir" start >/dev/null 2>&1 ||
        die "postfix failed to start; see $RUNTIME/logs/postfix.log"
    wait_for_file "$(daemon_pid_file postfix)" postfix "$RUNTIME/logs/postfix.log"
    record_pid postfix
}

# ------------------------------------------------------------ postgresql

pg_bin() {
    local dirs=(/usr/lib/postgresql/*/bin) dir
    dir=$(printf '%s\n' "${dirs[@]}" | sort -V | tail -n1)
    [[ -x $dir/initdb ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    echo "$dir"
}

# Run a command as the postgres user from a directory it may enter.
as_postgres() {
    (cd / && runuser -u postgres -- "$@")
}

configure_postgres() {
    local pg=$RUNTIME/pg data=$RUNTIME/pg/data bin
    CONFIG_CHANGED=0
    bin=$(pg_bin)
    mkdir -p "$pg/run"
    chown postgres: "$pg" "$pg/run"
    chmod 700 "$pg"
    if [[ ! -f $data/PG_VERSION ]]; then
        rm -rf "$data"
        say "initialising PostgreSQL cluster ($("$bin/postgres" --version))"
        as_postgres "$bin/initdb" -D "$data" -U postgres --auth-local=peer \
            --auth-host=scram-sha-256 -E UTF8 --no-locale >"$pg/initdb.log" 2>&1 ||
            die "initdb failed; see $pg/initdb.log"
        echo "include 'airgate.conf'" >>"$data/postgresql.conf"
    fi
    render postgresql.conf "$data/airgate.conf" 600
    render pg_hba.conf "$data/pg_hba.conf" 600
    chown postgres: "$data/airgate.conf" "$data/pg_hba.conf"
}

start_postgres() {
    local bin
    bin=$(pg_bin)
    require_ports_free "${POSTGRES_PORTS[@]}"
    say "starting postgresql"
    launch as_postgres "$bin/pg_ctl" -D "$RUNTIME/pg/data" -l "$RUNTIME/logs/postgres.log" \
        -w -t "$START_TIMEOUT" start >/dev/null 2>&1 ||
        die "PostgreSQL did not start; see $RUNTIME/logs/postgres.log"
    record_pid postgres
}

psql_admin() {
    as_postgres "$(pg_bin)/psql" -h "$RUNTIME/pg/run" -p "$PG_PORT" -U postgres -d postgres \
        -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

ensure_database() {
    if [[ $(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'") != 1 ]]; then
        say "creating PostgreSQL role $PG_USER and database $PG_DATABASE"
        psql_admin -c "CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD'"
    fi
    if [[ $(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'") != 1 ]]; then
        psql_admin -c "CREATE DATABASE $PG_DATABASE OWNER $PG_USER"
    fi
}

# ------------------------------------------------------------- lifecycle

# Start service $1 unless it already runs; restart it when its config changed.
# "dovecot-beta" is started by start_dovecot: the part before any "-" names the
# functions, the whole name is their argument (ignored by the others).
bring_up() {
    local service=$1 config_changed=$2 pid
    if pid=$(service_pid "$service"); then
        if ((config_changed)); then
            say "$service configuration changed; restarting it"
            stop_service "$service"
        else
            say "$service already running (pid $pid)"
            return
        fi
    fi
    "start_${service%%-*}" "$service"
}

stop_service() {
    local service=$1 pid
    pid=$(service_pid "$service") || { rm -f "$PID_DIR/$service.pid"; return 0; }
    say "stopping $service (pid $pid)"
    case $service in
        postgres) as_postgres "$(pg_bin)/pg_ctl" -D "$RUNTIME/pg/data" -m fast -w stop >/dev/null 2>&1 ||
                      kill -INT "$pid" 2>/dev/null || true ;;
        *)        kill -TERM "$pid" 2>/dev/null || true ;;
    esac
    if ! wait_for_exit "$pid" 30; then
        warn "$service (pid $pid) ignored the stop request for 30s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_for_exit "$pid" 10 || warn "$service (pid $pid) is still there"
    fi
    rm -f "$PID_DIR/$service.pid"
}

stop_all() {
    # Postfix first (it delivers into Dovecot), PostgreSQL last.
    local service
    for service in postfix dovecot dovecot-beta postgres; do
        stop_service "$service"
    done
}

wait_until_ready() {
    local logs=$RUNTIME/logs
    wait_for_greeting "Dovecot IMAP" "$IMAP_PORT" '^\* OK' "$logs/dovecot.log" "a LOGOUT"
    wait_for_greeting "Dovecot LMTP" "$LMTP_PORT" '^220 ' "$logs/dovecot.log" "QUIT"
    wait_for_greeting "Dovecot ManageSieve" "$SIEVE_PORT" '^"IMPLEMENTATION"' "$logs/dovecot.log" "LOGOUT"
    wait_for_greeting "Dovecot ($BETA_DOMAIN) IMAP" "$BETA_IMAP_PORT" '^\* OK' "$logs/dovecot-beta.log" "a LOGOUT"
    wait_for_greeting "Dovecot ($BETA_DOMAIN) LMTP" "$BETA_LMTP_PORT" '^220 ' "$logs/dovecot-beta.log" "QUIT"
    wait_for_greeting "Dovecot ($BETA_DOMAIN) ManageSieve" "$BETA_SIEVE_PORT" '^"IMPLEMENTATION"' \
        "$logs/dovecot-beta.log" "LOGOUT"
    wait_for_greeting "Postfix submission" "$SMTP_PORT" '^220 ' "$logs/postfix.log" "QUIT"
    wait_for_greeting "Postfix submission ($BETA_DOMAIN)" "$BETA_SMTP_PORT" '^220 ' "$logs/postfix.log" "QUIT"
    wait_for_greeting "Postfix SMTP" "$SMTP_PLAIN_PORT" '^220 ' "$logs/postfix.log" "QUIT"
    local deadline=$((SECONDS + START_TIMEOUT))
    until "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; do
        ((SECONDS < deadline)) || die "PostgreSQL on 127.0.0.1:$PG_PORT is not ready; see $logs/postgres.log"
        sleep 0.3
    done
}

# KEY=value, single-quoted when the value holds anything shell-special.
env_line() {
    local key=$1 value=$2
    if [[ $value =~ ^[A-Za-z0-9_./:@+,=-]*$ ]]; then
        printf '%s=%s\n' "$key" "$value"
    else
        printf "%s='%s'\n" "$key" "${value//\'/\'\\\'\'}"
    fi
}

write_env() {
    local tmp=$ENV_FILE.tmp
    {
        echo "# Airgate local mail stack, written by Deploy/stack.sh up. Removed by 'down'."
        env_line STACK_DIR "$RUNTIME"
        env_line MAIL_DOMAIN "$MAIL_DOMAIN"
        env_line IMAP_HOST 127.0.0.1
        env_line IMAP_PORT "$IMAP_PORT"
        env_line IMAPS_PORT "$IMAPS_PORT"
        env_line SMTP_HOST 127.0.0.1
        env_line SMTP_PORT "$SMTP_PORT"
        env_line SMTP_PLAIN_PORT "$SMTP_PLAIN_PORT"
        env_line LMTP_HOST 127.0.0.1
        env_line LMTP_PORT "$LMTP_PORT"
        env_line SIEVE_HOST 127.0.0.1
        env_line SIEVE_PORT "$SIEVE_PORT"
        env_line PG_HOST 127.0.0.1
        env_line PG_PORT "$PG_PORT"
        env_line PG_USER "$PG_USER"
        env_line PG_PASSWORD "$PG_PASSWORD"
        env_line PG_DATABASE "$PG_DATABASE"
        env_line PG_URL "postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DATABASE"
        env_line DEMO_USER "$DEMO_USER"
        env_line DEMO_PASSWORD "$DEMO_PASSWORD"
        env_line OTHER_USER "$OTHER_USER"
        env_line OTHER_PASSWORD "$OTHER_PASSWORD"
        env_line AWAY_USER "$AWAY_USER"
        env_line PROFILES_USER "$PROFILES_USER"
        env_line PROFILES_PASSWORD "$PROFILES_PASSWORD"
        env_line LOAD_USER_COUNT "$LOAD_USER_COUNT"
        env_line LOAD_PASSWORD "$LOAD_PASSWORD"
        env_line AWAY_PASSWORD "$AWAY_PASSWORD"
        env_line MASTER_USER "$MASTER_USER"
        env_line MASTER_PASSWORD "$MASTER_PASSWORD"
        env_line MASTER_SEPARATOR '*'
        env_line PUSH_PORT "$PUSH_PORT"
        env_line PUSH_SECRET "$PUSH_SECRET"
        env_line BETA_DOMAIN "$BETA_DOMAIN"
        env_line BETA_IMAP_PORT "$BETA_IMAP_PORT"
        env_line BETA_LMTP_PORT "$BETA_LMTP_PORT"
        env_line BETA_SIEVE_PORT "$BETA_SIEVE_PORT"
        env_line BETA_SMTP_PORT "$BETA_SMTP_PORT"
        env_line BETA_USER "$BETA_USER"
        env_line BETA_PASSWORD "$BETA_PASSWORD"
        env_line BETA_OTHER_USER "$BETA_OTHER_USER"
        env_line BETA_OTHER_PASSWORD "$BETA_OTHER_PASSWORD"
        env_line TLS_CA_FILE "$RUNTIME/tls/cert.pem"
        env_line DOVECOT_CONFIG "$RUNTIME/dovecot/dovecot.conf"
        env_line BETA_DOVECOT_CONFIG "$RUNTIME/dovecot-beta/dovecot.conf"
        env_line POSTFIX_CONFIG_DIR "$RUNTIME/postfix"
        env_line DOVECOT_LOG "$RUNTIME/logs/dovecot.log"
        env_line BETA_DOVECOT_LOG "$RUNTIME/logs/dovecot-beta.log"
        env_line POSTFIX_LOG "$RUNTIME/logs/postfix.log"
        env_line POSTGRES_LOG "$RUNTIME/logs/postgres.log"
        env_line DOVECOT_PID_FILE "$PID_DIR/dovecot.pid"
        env_line BETA_DOVECOT_PID_FILE "$PID_DIR/dovecot-beta.pid"
        env_line POSTFIX_PID_FILE "$PID_DIR/postfix.pid"
        env_line POSTGRES_PID_FILE "$PID_DIR/postgres.pid"
    } >"$tmp"
    mv -f "$tmp" "$ENV_FILE"
}

# --------------------------------------------------------------- commands

cmd_up() {
    need_root up
    take_lock
    local started=$SECONDS service
    resolve_ports
    ensure_runtime
    install_packages
    ensure_vmail_user
    ensure_tls_cert
    ensure_logs
    # Dovecot before Postfix: Postfix's SASL sockets and LMTP targets live there.
    for service in postgres dovecot dovecot-beta postfix; do
        "configure_${service%%-*}" "$service"
        bring_up "$service" "$CONFIG_CHANGED"
    done
    wait_until_ready
    ensure_database
    write_env
    say "stack is up in $((SECONDS - started))s; settings in $ENV_FILE"
    print_status
}

cmd_down() {
    need_root down
    take_lock
    if ! load_runtime_record; then
        [[ -d $STATE_DIR ]] && rm -rf "$STATE_DIR"
        say "nothing to stop"
        return 0
    fi
    stop_all
    if [[ $RUNTIME == /tmp/airgate-stack.* && -d $RUNTIME ]]; then
        rm -rf "$RUNTIME"
        say "removed $RUNTIME"
    fi
    rm -rf "$STATE_DIR"
    say "stack is down"
}

# Prints one row per port; returns non-zero when anything is not up.
print_status() {
    local failures=0 service pid state name row
    printf '%-12s %-16s %-7s %s\n' COMPONENT LISTENER PORT STATE
    for row in "dovecot:imap:IMAP_PORT" "dovecot:imaps:IMAPS_PORT" "dovecot:lmtp:LMTP_PORT" \
               "dovecot:managesieve:SIEVE_PORT" "dovecot-beta:imap:BETA_IMAP_PORT" \
               "dovecot-beta:lmtp:BETA_LMTP_PORT" "dovecot-beta:managesieve:BETA_SIEVE_PORT" \
               "postfix:submission:SMTP_PORT" "postfix:submission-beta:BETA_SMTP_PORT" \
               "postfix:smtp:SMTP_PLAIN_PORT" "postgres:postgresql:PG_PORT"; do
        IFS=: read -r service name var <<<"$row"
        if pid=$(service_pid "$service") && port_listening "${!var}"; then
            state="running (pid $pid)"
        elif pid=$(service_pid "$service"); then
            state="NOT LISTENING (pid $pid)"
            failures=$((failures + 1))
        else
            state="STOPPED"
            failures=$((failures + 1))
        fi
        printf '%-12s %-16s %-7s %s\n' "$service" "$name" "${!var}" "$state"
    done
    ((failures == 0))
}

cmd_status() {
    # Defaults first, so that an env file from before a port was added still works.
    resolve_ports
    if ! load_env; then
        if load_runtime_record; then
            echo "stack is half up (no $ENV_FILE); run '$0 up' to repair it"
        else
            echo "stack is down (no $ENV_FILE)"
        fi
        return 1
    fi
    echo "runtime dir: $RUNTIME"
    if print_status; then
        echo "all components running"
    else
        echo "some components are not running; '$0 up' repairs the stack"
        return 1
    fi
}

require_env() {
    [[ -f $ENV_FILE ]] || die "the stack is not up (no $ENV_FILE); run '$0 up' first"
}

cmd_seed() {
    require_env
    PYTHONDONTWRITEBYTECODE=1 exec "$(python_bin)" "$DEPLOY_DIR/seed-mail.py" "$@"
}

cmd_check() {
    require_env
    PYTHONDONTWRITEBYTECODE=1 exec "$(python_bin)" "$DEPLOY_DIR/stack-check.py" "$@"
}

cmd_user() {
    [[ ${1:-} == add && $# -eq 3 ]] || die "usage: $0 user add EMAIL PASSWORD"
    local email=$2 password=$3 instance login
    need_root "user add"
    take_lock
    require_env
    load_env
    if [[ $email =~ ^[A-Za-z0-9._%+-]+@${MAIL_DOMAIN//./\\.}$ ]]; then
        instance=dovecot login=$email
    elif [[ $email =~ ^([A-Za-z0-9._%+-]+)@${BETA_DOMAIN//./\\.}$ ]]; then
        # The second Dovecot knows its users by local part.
        instance=dovecot-beta login=${BASH_REMATCH[1]}
    else
        die "'$email' is not an address in $MAIL_DOMAIN or $BETA_DOMAIN (the domains the stack serves)"
    fi
    [[ $password != *:* && $password != *$'\n'* && -n $password ]] ||
        die "the password must be non-empty and contain no ':' or newline"
    [[ -d $RUNTIME/$instance ]] || die "$RUNTIME/$instance is missing; run '$0 up' first"
    upsert_passwd_entry "$RUNTIME/$instance/users" "$login" "$password"
    sync_postfix_mailboxes
    if service_pid postfix >/dev/null; then
        postfix -c "$RUNTIME/postfix" reload >/dev/null 2>&1 || warn "postfix reload failed"
    fi
    say "user $email set as login '$login' on $instance (Dovecot re-reads its passwd-file by itself)"
}

main() {
    local command=${1:-}
    [[ $# -gt 0 ]] && shift
    case $command in
        up)              cmd_up "$@" ;;
        down)            cmd_down "$@" ;;
        status)          cmd_status "$@" ;;
        seed)            cmd_seed "$@" ;;
        check)           cmd_check "$@" ;;
        user)            cmd_user "$@" ;;
        -h|--help|help)  usage ;;
        "")              usage >&2; exit 2 ;;
        *)               printf 'stack.sh: unknown command: %s\n\n' "$command" >&2; usage >&2; exit 2 ;;
    esac
}

main "$@"
