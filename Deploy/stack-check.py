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

    def imap(self, user=None, password=None, tls=None):
        """Logged-in IMAP connection; tls is None, 'starttls' or 'implicit'."""
        if tls == "implicit":
            conn = imaplib.IMAP4_SSL(self.host, self.port("IMAPS_PORT"),
                                     ssl_context=self.tls_context(), timeout=TIMEOUT)
        else:
            conn = imaplib.IMAP4(self.host, self.port("IMAP_PORT"), timeout=TIMEOUT)
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


def wait_for_search(stack, credentials, criteria, seconds=DELIVERY_WAIT):
    """Poll INBOX of `credentials` until SEARCH `criteria` finds something."""
    conn = stack.imap(*credentials)
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
    conn = stack.smtp("SMTP_PORT", auth_as=stack.demo())
    try:
        refused = conn.send_message(msg)
    finally:
        conn.quit()
    if refused:
        raise CheckFailed(f"recipients refused: {refused}")
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


def check_managesieve(stack):
    user, password = stack.demo()
    with socket.create_connection((stack.host, stack.port("SIEVE_PORT")), TIMEOUT) as sock:
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
