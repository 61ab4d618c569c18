"""The physical reference for UpstreamBenchmark: the same IMAP commands, sent by Python's
imaplib, which reads the answers as raw bytes and parses nothing.

Usage: imap_reference.py ENV_FILE FOLDER PLAN_FILE
PLAN_FILE holds one batch per line: "uid-set<TAB>section=uids;section=uids...". Prints
"messages seconds bytes" on stdout.
"""
import imaplib
import ssl
import sys
import time


def load_env(path):
    values = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key] = value.strip("'\"")
    return values


def main():
    env = load_env(sys.argv[1])
    folder = sys.argv[2]
    with open(sys.argv[3]) as handle:
        plan = [line.rstrip("\n").split("\t") for line in handle if line.strip()]
    context = ssl.create_default_context(cafile=env["TLS_CA_FILE"])
    context.check_hostname = False
    start = time.perf_counter()
    client = imaplib.IMAP4(env["IMAP_HOST"], int(env["IMAP_PORT"]))
    client.starttls(ssl_context=context)
    client.login(env["DEMO_USER"], env["DEMO_PASSWORD"])
    client.enable("QRESYNC")
    client.select(folder, readonly=True)
    messages = 0
    received = 0
    for uids, sections in plan:
        typ, data = client.uid("FETCH", uids, "(UID FLAGS MODSEQ INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)")
        assert typ == "OK", data
        messages += sum(1 for item in data if isinstance(item, tuple) or (isinstance(item, bytes) and b"UID" in item))
        for group in sections.split(";"):
            section, members = group.split("=")
            typ, data = client.uid("FETCH", members, "(BODY.PEEK[%s]<0.51200>)" % section)
            assert typ == "OK", data
            received += sum(len(item[1]) for item in data if isinstance(item, tuple))
    client.logout()
    print(messages, time.perf_counter() - start, received)


main()
