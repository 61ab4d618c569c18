#!/usr/bin/env python3
"""End-to-end self-test of the running Airgate local mail stack.

Run through `Deploy/stack.sh check`. Standard library only. Every check prints
`ok   NAME` or `FAIL NAME: reason`; the last line is `N passed, N failed` and
the exit status is 1 when anything failed. All traffic goes to 127.0.0.1.
"""

import base64
import glob
import imaplib
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate

from stack_env import load_env

TIMEOUT = 10          # seconds for any single network operation
DELIVERY_WAIT = 30    # seconds for a message to show up in a mailbox
REQUIRED_CAPABILITIES = {"CONDSTORE", "QRESYNC", "IDLE", "SPECIAL-USE", "UIDPLUS",
                         "MOVE", "ENABLE", "NAMESPACE", "LIST-STATUS"}
SPECIAL_FOLDERS = {"Drafts": r"\Drafts", "Sent": r"\Sent", "Trash": r"\Trash",
                   "Junk": r"\Junk", "Archive": r"\Archive"}


class CheckFailed(Exception):
    pass




class Stack:
    """Connection helpers bound to the values in Deploy/.stack/env."""

    def __init__(self, env):
        self.env = env
        self.host = env["IMAP_HOST"]

    def port(self, key):
        return int(self.env[key])

    def tls_context(self):
        ctx = ssl.create_default_context(cafile=self.env["TLS_CA_FILE"])
        ctx.check_hostname = True
        return ctx

    def imap(self, user=None, password=None, tls=None, port_key="IMAP_PORT"):
        """Logged-in IMAP connection; tls is None, 'starttls' or 'implicit'.
        port_key BETA_IMAP_PORT selects the second Dovecot (beta.test)."""
        if tls == "implicit":
            conn = imaplib.IMAP4_SSL(self.host, self.port("IMAPS_PORT"),
                                     ssl_context=self.tls_context(), timeout=TIMEOUT)
        else:
            conn = imaplib.IMAP4(self.host, self.port(port_key), timeout=TIMEOUT)
            if tls == "starttls":
                conn.starttls(ssl_context=self.tls_context())
        conn.login(user or self.env["DEMO_USER"], password or self.env["DEMO_PASSWORD"])
        return conn

    def smtp(self, port_key, auth_as=None, starttls=False):
        conn = smtplib.SMTP(self.env["SMTP_HOST"], self.port(port_key),
                            local_hostname="check.airgate.test", timeout=TIMEOUT)
        conn.ehlo()
        if starttls:
            conn.starttls(context=self.tls_context())
            conn.ehlo()
        if auth_as:
            conn.user, conn.password = auth_as
            conn.auth("PLAIN", conn.auth_plain)
        return conn

    def demo(self):
        return (self.env["DEMO_USER"], self.env["DEMO_PASSWORD"])

    def other(self):
        return (self.env["OTHER_USER"], self.env["OTHER_PASSWORD"])

    def beta(self):
        """The beta.test demo user: logs in by local part, on the second Dovecot."""
        return (self.env["BETA_USER"], self.env["BETA_PASSWORD"])

    def beta_address(self, user):
        return f"{user}@{self.env['BETA_DOMAIN']}"


def new_message(sender, recipient, subject):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = f"<check-{uuid.uuid4().hex}@airgate.test>"
    msg.set_content(f"Sent by Deploy/stack-check.py at {time.ctime()}.\n")
    return msg


def ok_response(typ, data, what):
    if typ != "OK":
        raise CheckFailed(f"{what}: {typ} {data!r}")
    return data


def wait_for_search(stack, credentials, criteria, seconds=DELIVERY_WAIT, port_key="IMAP_PORT"):
    """Poll INBOX of `credentials` until SEARCH `criteria` finds something.
    seconds=0 searches once: False then means "not there now"."""
    conn = stack.imap(*credentials, port_key=port_key)
    try:
        ok_response(*conn.select("INBOX"), "SELECT INBOX")
        deadline = time.monotonic() + seconds
        while True:
            typ, data = conn.search(None, *criteria)
            ok_response(typ, data, "SEARCH")
            if data and data[0].split():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)
            conn.noop()
    finally:
        conn.logout()


def expect_refused(send):
    """Run `send()`; it must be refused with an SMTP error. Returns the reason."""
    try:
        refused = send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        return str(exc)
    except smtplib.SMTPResponseException as exc:
        return f"{exc.smtp_code} {exc.smtp_error!r}"
    if refused:
        return str(refused)
    raise CheckFailed("the server accepted the message")


# --------------------------------------------------------------- checks

def check_imap_plain(stack):
    stack.imap().logout()


def check_imap_starttls(stack):
    stack.imap(tls="starttls").logout()


def check_imap_implicit_tls(stack):
    stack.imap(tls="implicit").logout()


def check_imap_capabilities(stack):
    conn = stack.imap()
    try:
        data = ok_response(*conn.capability(), "CAPABILITY")
        advertised = set(data[0].decode().upper().split())
        missing = REQUIRED_CAPABILITIES - advertised
        if missing:
            raise CheckFailed(f"missing {' '.join(sorted(missing))}")
    finally:
        conn.logout()


def check_imap_special_use(stack):
    conn = stack.imap()
    try:
        typ, data = conn._simple_command("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE)")
        data = ok_response(*conn._untagged_response(typ, data, "LIST"), "LIST")
        found = {}
        for line in data:
            match = re.match(rb'\((?P<flags>[^)]*)\) (?:"[^"]*"|NIL) "?(?P<name>[^"]*)"?$', line)
            if match:
                found[match["name"].decode()] = match["flags"].decode().split()
        problems = [f"{name} lacks {flag}" for name, flag in SPECIAL_FOLDERS.items()
                    if flag not in found.get(name, [])]
        if problems:
            raise CheckFailed("; ".join(problems))
    finally:
        conn.logout()


def check_imap_master_user(stack):
    env = stack.env
    login = f"{env['DEMO_USER']}{env.get('MASTER_SEPARATOR', '*')}{env['MASTER_USER']}"
    conn = stack.imap(login, env["MASTER_PASSWORD"])
    try:
        ok_response(*conn.select("INBOX", readonly=True), "SELECT INBOX")
    finally:
        conn.logout()


def check_imap_wrong_password(stack):
    try:
        conn = stack.imap(stack.env["DEMO_USER"], "not-the-password")
    except imaplib.IMAP4.error:
        return
    conn.logout()
    raise CheckFailed("LOGIN with a wrong password succeeded")


def check_submission_delivers(stack):
    msg = new_message(stack.env["DEMO_USER"], stack.env["OTHER_USER"], "stack check: submission")
    send(stack, "SMTP_PORT", stack.demo(), msg)
    if not wait_for_search(stack, stack.other(), ["HEADER", "Message-ID", msg["Message-ID"]]):
        raise CheckFailed(f"{msg['Message-ID']} not in other's INBOX after {DELIVERY_WAIT}s")


def check_submission_starttls(stack):
    conn = stack.smtp("SMTP_PORT", auth_as=stack.demo(), starttls=True)
    conn.quit()


def check_submission_requires_auth(stack):
    msg = new_message(stack.env["DEMO_USER"], stack.env["OTHER_USER"], "stack check: no auth")
    conn = stack.smtp("SMTP_PORT")
    try:
        expect_refused(lambda: conn.send_message(msg))
    finally:
        conn.close()


def check_plain_smtp_refuses_relay(stack):
    msg = new_message("probe@airgate.test", "someone@example.com", "stack check: relay")
    conn = stack.smtp("SMTP_PLAIN_PORT")
    try:
        expect_refused(lambda: conn.send_message(msg))
    finally:
        conn.close()


def check_plain_smtp_refuses_unknown_user(stack):
    msg = new_message("probe@airgate.test", "nobody-here@airgate.test", "stack check: unknown")
    conn = stack.smtp("SMTP_PLAIN_PORT")
    try:
        expect_refused(lambda: conn.send_message(msg))
    finally:
        conn.close()


def check_submission_never_relays(stack):
    """Authenticated mail to another domain is refused, or bounced to the sender."""
    msg = new_message(stack.env["DEMO_USER"], "someone@example.com", "stack check: external")
    conn = stack.smtp("SMTP_PORT", auth_as=stack.demo())
    try:
        try:
            refused = conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused:
            return
    finally:
        conn.quit()
    if refused:
        return
    bounce = ["FROM", "MAILER-DAEMON", "TEXT", msg["Message-ID"]]
    if not wait_for_search(stack, stack.demo(), bounce):
        raise CheckFailed("accepted, and no bounce came back within "
                          f"{DELIVERY_WAIT}s; check the Postfix log")


def check_imap_idle_push(stack):
    conn = stack.imap(*stack.other())
    try:
        ok_response(*conn.select("INBOX"), "SELECT INBOX")
        tag = conn._new_tag().decode()
        conn.send(f"{tag} IDLE\r\n".encode())
        if not conn.readline().startswith(b"+"):
            raise CheckFailed("server did not accept IDLE")
        msg = new_message("idle-probe@airgate.test", stack.env["OTHER_USER"], "stack check: idle")
        injector = stack.smtp("SMTP_PLAIN_PORT")
        try:
            injector.send_message(msg)
        finally:
            injector.quit()
        deadline = time.monotonic() + DELIVERY_WAIT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CheckFailed(f"no EXISTS within {DELIVERY_WAIT}s")
            conn.sock.settimeout(remaining)
            try:
                line = conn.readline()
            except (socket.timeout, TimeoutError):
                raise CheckFailed(f"no EXISTS within {DELIVERY_WAIT}s") from None
            if re.match(rb"\* \d+ EXISTS", line):
                break
        conn.sock.settimeout(TIMEOUT)
        conn.send(b"DONE\r\n")
        while not conn.readline().startswith(tag.encode()):
            pass
    finally:
        conn.logout()


def sieve_read_response(reader):
    """Read ManageSieve lines up to and including the OK/NO/BYE status line."""
    lines = []
    while True:
        line = reader.readline()
        if not line:
            raise CheckFailed("connection closed: " + b" | ".join(lines).decode(errors="replace"))
        line = line.rstrip(b"\r\n")
        lines.append(line)
        if re.match(rb"(OK|NO|BYE)\b", line):
            return lines


def check_managesieve(stack, credentials=None, port_key="SIEVE_PORT"):
    user, password = credentials or stack.demo()
    with socket.create_connection((stack.host, stack.port(port_key)), TIMEOUT) as sock:
        reader = sock.makefile("rb")
        greeting = sieve_read_response(reader)
        if not greeting[-1].startswith(b"OK"):
            raise CheckFailed(f"greeting ended with {greeting[-1]!r}")
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        sock.sendall(f'AUTHENTICATE "PLAIN" "{token}"\r\n'.encode())
        reply = sieve_read_response(reader)
        if not reply[-1].startswith(b"OK"):
            raise CheckFailed(f"AUTHENTICATE: {reply[-1]!r}")
        sock.sendall(b"LOGOUT\r\n")


def find_psql():
    found = shutil.which("psql")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    if not candidates:
        raise CheckFailed("psql not found")
    return candidates[-1]


def expect_login_refused(stack, user, password, port_key):
    try:
        conn = stack.imap(user, password, port_key=port_key)
    except imaplib.IMAP4.error:
        return
    conn.logout()
    raise CheckFailed(f"LOGIN {user} / {password} on {port_key} succeeded")


def check_beta_imap_login(stack):
    conn = stack.imap(*stack.beta(), tls="starttls", port_key="BETA_IMAP_PORT")
    try:
        ok_response(*conn.select("INBOX", readonly=True), "SELECT INBOX")
        data = ok_response(*conn.capability(), "CAPABILITY")
        missing = REQUIRED_CAPABILITIES - set(data[0].decode().upper().split())
        if missing:
            raise CheckFailed(f"missing {' '.join(sorted(missing))}")
    finally:
        conn.logout()


def check_beta_imap_master_user(stack):
    env = stack.env
    login = f"{env['BETA_USER']}{env.get('MASTER_SEPARATOR', '*')}{env['MASTER_USER']}"
    conn = stack.imap(login, env["MASTER_PASSWORD"], port_key="BETA_IMAP_PORT")
    try:
        ok_response(*conn.select("INBOX", readonly=True), "SELECT INBOX")
    finally:
        conn.logout()


def check_beta_imap_local_part_only(stack):
    """beta.test users are known by local part: the full address is no login there."""
    user, password = stack.beta()
    expect_login_refused(stack, stack.beta_address(user), password, "BETA_IMAP_PORT")


def check_domains_keep_passwords_apart(stack):
    """demo@airgate.test and demo@beta.test are different users with their own passwords."""
    env = stack.env
    expect_login_refused(stack, env["BETA_USER"], env["DEMO_PASSWORD"], "BETA_IMAP_PORT")
    expect_login_refused(stack, env["DEMO_USER"], env["DEMO_PASSWORD"], "BETA_IMAP_PORT")
    expect_login_refused(stack, env["DEMO_USER"], env["BETA_PASSWORD"], "IMAP_PORT")


def check_beta_submission_rejects_first_domain_login(stack):
    try:
        conn = stack.smtp("BETA_SMTP_PORT", auth_as=stack.demo())
    except smtplib.SMTPAuthenticationError:
        return
    conn.quit()
    raise CheckFailed(f"{stack.env['DEMO_USER']} authenticated on BETA_SMTP_PORT")


def message_id_search(msg):
    return ["HEADER", "Message-ID", msg["Message-ID"]]


def send(stack, port_key, credentials, msg):
    conn = stack.smtp(port_key, auth_as=credentials)
    try:
        refused = conn.send_message(msg)
    finally:
        conn.quit()
    if refused:
        raise CheckFailed(f"recipients refused: {refused}")


def check_beta_submission_routes_per_domain(stack):
    """Sent by the beta.test demo: to demo@beta.test lands on the second Dovecot only,
    to demo@airgate.test on the first only."""
    beta_user = stack.beta_address(stack.env["BETA_USER"])
    to_beta = new_message(beta_user, beta_user, "stack check: beta to beta")
    to_first = new_message(beta_user, stack.env["DEMO_USER"], "stack check: beta to airgate")
    send(stack, "BETA_SMTP_PORT", stack.beta(), to_beta)
    send(stack, "BETA_SMTP_PORT", stack.beta(), to_first)
    if not wait_for_search(stack, stack.beta(), message_id_search(to_beta), port_key="BETA_IMAP_PORT"):
        raise CheckFailed(f"{to_beta['Message-ID']} not in {beta_user}'s INBOX after {DELIVERY_WAIT}s")
    if not wait_for_search(stack, stack.demo(), message_id_search(to_first)):
        raise CheckFailed(f"{to_first['Message-ID']} not in {stack.env['DEMO_USER']}'s INBOX "
                          f"after {DELIVERY_WAIT}s")
    # Both were delivered by now: a copy on the wrong server would be there too.
    if wait_for_search(stack, stack.demo(), message_id_search(to_beta), seconds=0):
        raise CheckFailed(f"mail to {beta_user} also reached {stack.env['DEMO_USER']} (first Dovecot)")
    if wait_for_search(stack, stack.beta(), message_id_search(to_first), seconds=0,
                       port_key="BETA_IMAP_PORT"):
        raise CheckFailed(f"mail to {stack.env['DEMO_USER']} also reached {beta_user} (second Dovecot)")


def check_submission_delivers_to_beta(stack):
    beta_user = stack.beta_address(stack.env["BETA_USER"])
    msg = new_message(stack.env["DEMO_USER"], beta_user, "stack check: airgate to beta")
    send(stack, "SMTP_PORT", stack.demo(), msg)
    if not wait_for_search(stack, stack.beta(), message_id_search(msg), port_key="BETA_IMAP_PORT"):
        raise CheckFailed(f"{msg['Message-ID']} not in {beta_user}'s INBOX after {DELIVERY_WAIT}s")


def check_beta_managesieve(stack):
    check_managesieve(stack, credentials=stack.beta(), port_key="BETA_SIEVE_PORT")


def check_postgres(stack):
    result = subprocess.run([find_psql(), stack.env["PG_URL"], "-X", "-A", "-t", "-c", "select 1"],
                            capture_output=True, text=True, timeout=30)
    if result.returncode != 0 or result.stdout.strip() != "1":
        raise CheckFailed((result.stderr or result.stdout).strip() or f"exit {result.returncode}")


CHECKS = [
    ("imap-login-plain", check_imap_plain),
    ("imap-login-starttls", check_imap_starttls),
    ("imaps-login-implicit-tls", check_imap_implicit_tls),
    ("imap-capabilities", check_imap_capabilities),
    ("imap-special-use-folders", check_imap_special_use),
    ("imap-master-user-login", check_imap_master_user),
    ("imap-wrong-password-rejected", check_imap_wrong_password),
    ("smtp-submission-starttls-auth", check_submission_starttls),
    ("smtp-submission-delivers-to-inbox", check_submission_delivers),
    ("smtp-submission-requires-auth", check_submission_requires_auth),
    ("smtp-plain-refuses-relay", check_plain_smtp_refuses_relay),
    ("smtp-plain-refuses-unknown-user", check_plain_smtp_refuses_unknown_user),
    ("smtp-submission-never-relays", check_submission_never_relays),
    ("imap-idle-push", check_imap_idle_push),
    ("managesieve-auth", check_managesieve),
    ("postgres-select-1", check_postgres),
    # The second Dovecot, for beta.test (users log in by local part).
    ("beta-imap-starttls-login-capabilities", check_beta_imap_login),
    ("beta-imap-master-user-login", check_beta_imap_master_user),
    ("beta-imap-refuses-full-address-login", check_beta_imap_local_part_only),
    ("domains-keep-passwords-apart", check_domains_keep_passwords_apart),
    ("beta-submission-refuses-first-domain-login", check_beta_submission_rejects_first_domain_login),
    ("beta-submission-routes-per-domain", check_beta_submission_routes_per_domain),
    ("smtp-submission-delivers-to-beta", check_submission_delivers_to_beta),
    ("beta-managesieve-auth", check_beta_managesieve),
]


def main():
    stack = Stack(load_env("stack-check"))
    passed = failed = 0
    for name, check in CHECKS:
        try:
            check(stack)
        except Exception as exc:  # report every kind of failure the same way
            reason = str(exc) or type(exc).__name__
            print(f"FAIL {name}: {reason}", flush=True)
            failed += 1
        else:
            print(f"ok   {name}", flush=True)
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
