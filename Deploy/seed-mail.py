#!/usr/bin/env python3
"""Seed deterministic, realistic test mail into the Airgate local mail stack.

Run through `Deploy/stack.sh seed [--user EMAIL] [--count N] [--folder NAME]`.
Standard library only. Messages are generated from a fixed random seed, so the
same arguments on the same day give byte-identical messages, and are APPENDed
over one IMAP connection to 127.0.0.1 (MULTIAPPEND with LITERAL+ when offered).
"""

import argparse
import base64
import datetime as dt
import hashlib
import imaplib
import random
import struct
import time
import zlib
from email import charset as email_charset
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr

from stack_env import load_env

WIRE_POLICY = compat32.clone(linesep="\r\n")
DEFAULT_SEED = 20260101
SPREAD_DAYS = 90
BATCH_MESSAGES = 1000
BATCH_BYTES = 16 * 1024 * 1024
EXTRA_FOLDERS = ["Projects", "Projects/2026", "Reçus", "Newsletters", "お知らせ"]

# ------------------------------------------------------------------ corpus
# Small hand-written corpora; the generator combines them.

PEOPLE = {
    "en": [("Anna Smith", "anna.smith@example.com"), ("Ben Carter", "ben@example.org"),
           ("Priya Natarajan", "priya.n@example.net"), ("Tom O'Neill", "tom.oneill@example.com")],
    "de": [("Jürgen Müller", "juergen.mueller@example.de"), ("Grete Weiß", "grete@example.de"),
           ("Björn Schäfer", "b.schaefer@example.de")],
    "fr": [("François Dubois", "f.dubois@example.fr"), ("Zoë Lefèvre", "zoe@example.fr"),
           ("Hélène Garçon", "helene.garcon@example.fr")],
    "ja": [("山田 太郎", "yamada@example.jp"), ("佐藤 花子", "hanako.sato@example.jp")],
    "ar": [("محمد علي", "m.ali@example.com"), ("فاطمة الزهراء", "fatima@example.com")],
    "he": [("דוד כהן", "david.cohen@example.co.il"), ("רחל לוי", "rachel@example.co.il")],
    "emoji": [("Launch Team 🚀", "launch@example.com"), ("Café ☕ Club", "coffee@example.org")],
}

SUBJECTS = {
    "en": ["Quarterly planning notes", "Invoice {n} is ready", "Can we move our call?",
           "Draft agenda for Thursday", "Server maintenance window", "Lunch next week?",
           "Feedback on the proposal", "Travel itinerary for {n}"],
    "de": ["Besprechung über die Änderungen", "Grüße aus München", "Rechnung {n} für Oktober",
           "Überprüfung des Entwurfs", "Kurze Frage zur Größe der Datei"],
    "fr": ["Réunion de l'équipe vendredi", "Reçu de paiement {n}", "À propos du déménagement",
           "Prévisions pour l'été", "Café après la réunion ?"],
    "ja": ["会議の議事録", "来週の予定について", "見積書 {n} の送付", "お疲れ様です"],
    "ar": ["اجتماع الفريق غدا", "تقرير المبيعات الشهري", "فاتورة رقم {n}"],
    "he": ["פגישת צוות מחר", "דוח מכירות חודשי", "חשבונית מספר {n}"],
    "emoji": ["🎉 Release {n} is out!", "☕ Coffee break?", "🚀 Launch checklist",
              "✅ Done: migration", "📅 Calendar update"],
}

SENTENCES = {
    "en": ["Thanks for sending this over so quickly.",
           "I have attached the numbers we discussed on Monday.",
           "Could you take a look before the end of the week?",
           "The meeting room on the third floor is booked from ten until noon.",
           "Let me know if anything is unclear or if you need more time.",
           "We decided to postpone the rollout until the tests are green.",
           "Please remember to update the shared calendar."],
    "de": ["Vielen Dank für die schnelle Rückmeldung.",
           "Die Übersicht über alle Änderungen findest du im Anhang.",
           "Können wir das bis Freitag gemeinsam prüfen?",
           "Der Besprechungsraum im dritten Stock ist ab zehn Uhr frei.",
           "Schöne Grüße und ein erholsames Wochenende."],
    "fr": ["Merci beaucoup pour ton retour rapide.",
           "Voici le récapitulatif de la réunion de mardi.",
           "Pourrais-tu vérifier les chiffres avant jeudi ?",
           "La salle de réunion au troisième étage est réservée.",
           "Bonne journée et à bientôt."],
    "ja": ["いつもお世話になっております。", "添付の資料をご確認ください。",
           "来週の会議は木曜日の午後に変更になりました。", "ご不明な点があればお知らせください。",
           "よろしくお願いいたします。"],
    "ar": ["شكرا جزيلا على ردك السريع.", "أرفقت لك التقرير الذي ناقشناه يوم الاثنين.",
           "هل يمكنك مراجعته قبل نهاية الأسبوع؟", "سيعقد الاجتماع في الطابق الثالث.",
           "مع أطيب التحيات."],
    "he": ["תודה רבה על התשובה המהירה.", "צירפתי את הדוח שדיברנו עליו ביום שני.",
           "האם תוכל לעבור עליו לפני סוף השבוע?", "הפגישה תתקיים בקומה השלישית.",
           "בברכה."],
    "emoji": ["We shipped it! 🎉", "Coffee is on me today ☕", "All checks are green ✅",
              "See you at the launch party 🚀", "Thanks, team 🙏"],
}

RTL = {"ar", "he"}
LATIN1_OK = {"en", "de", "fr"}
LANGUAGE_WEIGHTS = {"en": 40, "de": 15, "fr": 12, "ja": 8, "ar": 7, "he": 6, "emoji": 12}
TIMEZONES = [dt.timezone(dt.timedelta(hours=h)) for h in (0, 1, 2, -5, -8, 9, 3)]
NEWSLETTER_TOPICS = ["Product update", "Engineering notes", "Customer story", "Events near you",
                     "Security advisory", "Tips and tricks", "From the archive"]


def charset_with(name, body_encoding):
    cs = email_charset.Charset(name)
    cs.body_encoding = body_encoding
    cs.header_encoding = email_charset.QP if body_encoding == email_charset.QP else email_charset.BASE64
    return cs


UTF8_QP = charset_with("utf-8", email_charset.QP)
UTF8_B64 = charset_with("utf-8", email_charset.BASE64)
LATIN1_QP = charset_with("iso-8859-1", email_charset.QP)
LATIN1_B64 = charset_with("iso-8859-1", email_charset.BASE64)

def fits_latin1(text):
    try:
        text.encode("iso-8859-1")
        return True
    except UnicodeEncodeError:
        return False


# ------------------------------------------------------------ binary parts


def png_bytes(rng, size=24):
    """A small valid PNG: a diagonal gradient in a random colour."""
    r, g, b = rng.randrange(256), rng.randrange(256), rng.randrange(256)
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type "none"
        for x in range(size):
            shade = (x + y) * 255 // (2 * size)
            rows += bytes(((r + shade) % 256, (g + shade) % 256, (b + shade) % 256))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b""))


def pdf_bytes(title):
    """A minimal one-page PDF showing `title` (ASCII), with a correct xref table."""
    text = title.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
               b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# ------------------------------------------------------------- generator


class MailFactory:
    """Builds message number i of a reproducible mailbox for one user/folder."""

    def __init__(self, user, folder, count, seed, end):
        self.user = user
        self.folder = folder
        self.count = count
        self.rng = random.Random(f"{seed}:{user}:{folder}")
        self.owner_name = user.split("@")[0].replace(".", " ").title()
        self.tag = hashlib.sha1(f"{seed}:{user}:{folder}".encode()).hexdigest()[:8]
        self.end = end
        self.start = end - dt.timedelta(days=SPREAD_DAYS)
        self.threads = []  # (message_id, subject, references, sender)
        self.stats = {"replies": 0, "attachments": 0, "newsletters": 0, "rtl": 0}

    # -- small pieces

    def pick_language(self):
        langs, weights = zip(*LANGUAGE_WEIGHTS.items())
        return self.rng.choices(langs, weights)[0]

    def paragraph(self, lang, sentences=3):
        return " ".join(self.rng.choice(SENTENCES[lang]) for _ in range(sentences))

    def body_text(self, lang):
        count = self.rng.randint(1, 4)
        return "\n\n".join(self.paragraph(lang, self.rng.randint(1, 4)) for _ in range(count))

    def when(self, index):
        """Evenly spread over the window, jittered, so that UID order ~ date order."""
        span = (self.end - self.start).total_seconds()
        slot = span / max(self.count, 1)
        offset = index * slot + self.rng.uniform(0, slot * 0.9)
        return self.start + dt.timedelta(seconds=offset)

    def text_part(self, text, subtype, lang):
        if lang in LATIN1_OK and self.rng.random() < 0.35 and fits_latin1(text):
            return MIMEText(text, subtype, self.rng.choice([LATIN1_QP, LATIN1_B64]))
        if text.isascii() and self.rng.random() < 0.5:
            return MIMEText(text, subtype, "us-ascii")
        return MIMEText(text, subtype, self.rng.choice([UTF8_QP, UTF8_B64]))

    def html_for(self, text, lang, extra=""):
        direction = ' dir="rtl"' if lang in RTL else ""
        paragraphs = "".join(f"<p>{p}</p>\n" for p in text.split("\n\n"))
        return (f'<!DOCTYPE html>\n<html lang="{lang if lang != "emoji" else "en"}"{direction}>'
                f'<head><meta charset="utf-8"></head>\n<body style="font-family:sans-serif">\n'
                f"{paragraphs}{extra}</body></html>\n")

    def newsletter_html(self, lang):
        blocks = []
        for number in range(self.rng.randint(35, 70)):
            topic = self.rng.choice(NEWSLETTER_TOPICS)
            blocks.append(
                f'<tr><td style="padding:16px;border-bottom:1px solid #ddd">'
                f'<h2 style="color:#1a4d8f;margin:0 0 8px">{topic} #{number + 1}</h2>'
                f'<p style="line-height:1.5">{self.paragraph(lang, 4)}</p>'
                f'<a href="https://example.com/news/{self.tag}/{number}" '
                f'style="color:#1a4d8f">Read more</a></td></tr>\n')
        table = ('<table width="100%" cellpadding="0" cellspacing="0" '
                 'style="max-width:640px;margin:auto">\n' + "".join(blocks) + "</table>\n")
        return self.html_for("Your weekly digest", lang, table)

    # -- structures

    def build_body(self, lang, text, kind, subject):
        if kind == "plain":
            return self.text_part(text, "plain", lang)
        if kind == "html":
            return self.text_part(self.html_for(text, lang), "html", lang)
        if kind == "newsletter":
            self.stats["newsletters"] += 1
            html = self.newsletter_html(lang)
            body = MIMEMultipart("alternative")
            body.attach(MIMEText("Your weekly digest. View it in an HTML capable client.\n"
                                 + self.paragraph(lang, 6), "plain", UTF8_QP))
            body.attach(MIMEText(html, "html", self.rng.choice([UTF8_QP, UTF8_B64])))
            return body
        alternative = MIMEMultipart("alternative")
        alternative.attach(self.text_part(text, "plain", lang))
        if kind == "related":
            self.stats["attachments"] += 1
            related = MIMEMultipart("related")
            cid = f"logo.{self.tag}.{self.rng.randrange(10**6)}@airgate.test"
            related.attach(self.text_part(
                self.html_for(text, lang, f'<p><img src="cid:{cid}" alt="logo"></p>\n'), "html", lang))
            image = MIMEImage(png_bytes(self.rng), "png")
            image.add_header("Content-ID", f"<{cid}>")
            image.add_header("Content-Disposition", "inline", filename="logo.png")
            related.attach(image)
            alternative.attach(related)
            return alternative
        alternative.attach(self.text_part(self.html_for(text, lang), "html", lang))
        if kind == "alternative":
            return alternative
        # kind == "attachment"
        self.stats["attachments"] += 1
        mixed = MIMEMultipart("mixed")
        mixed.attach(alternative)
        if self.rng.random() < 0.5:
            name = self.rng.choice(["invoice.pdf", "Rechnung-Oktober.pdf", "Reçu-juin.pdf", "report.pdf"])
            part = MIMEApplication(pdf_bytes(subject if subject.isascii() else "Airgate test document"), "pdf")
        else:
            name = self.rng.choice(["photo.png", "screenshot.png", "Übersicht.png"])
            part = MIMEImage(png_bytes(self.rng, self.rng.choice([16, 24, 48])), "png")
        if name.isascii():
            part.add_header("Content-Disposition", "attachment", filename=name)
        else:  # RFC 2231 encoded file name
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
        mixed.attach(part)
        return mixed

    def pick_kind(self):
        roll = self.rng.random()
        for kind, upto in (("plain", 0.30), ("html", 0.42), ("alternative", 0.84),
                           ("attachment", 0.93), ("related", 0.96)):
            if roll < upto:
                return kind
        return "newsletter"

    @staticmethod
    def address(name, addr, latin1=False):
        return formataddr((name, addr), charset="iso-8859-1" if latin1 else "utf-8")

    def message(self, index):
        """Return (flags, internal_date, rfc5322_bytes) for message `index`."""
        rng = self.rng
        when = self.when(index)
        parent = rng.choice(self.threads) if self.threads and rng.random() < 0.2 else None
        lang = parent[4] if parent else self.pick_language()
        if lang in RTL:
            self.stats["rtl"] += 1
        kind = "plain" if parent and rng.random() < 0.6 else self.pick_kind()
        if kind == "newsletter":
            lang = rng.choice(["en", "de", "fr"])
        sender_name, sender = rng.choice(PEOPLE[lang])
        if self.folder.lower() in ("sent", "drafts"):
            sender_name, sender = self.owner_name, self.user
        text = self.body_text(lang)
        if parent:
            self.stats["replies"] += 1
            parent_id, parent_subject, parent_refs, parent_sender, _ = parent
            subject = parent_subject if parent_subject.startswith("Re: ") else "Re: " + parent_subject
            quoted = "\n".join("> " + line for line in self.paragraph(lang, 2).splitlines())
            text = f"{text}\n\n{parent_sender} wrote:\n{quoted}"
        else:
            subject = rng.choice(SUBJECTS[lang]).format(n=rng.randint(1000, 9999))

        msg = self.build_body(lang, text, kind, subject)
        latin1 = lang in LATIN1_OK and rng.random() < 0.3 and fits_latin1(subject + sender_name)
        header_charset = "iso-8859-1" if latin1 else "utf-8"
        message_id = f"<{self.tag}.{index}.{rng.randrange(16**8):08x}@{sender.split('@')[1]}>"
        msg["From"] = self.address(sender_name, sender, latin1)
        if self.folder.lower() == "sent":
            msg["To"] = self.address(*rng.choice(PEOPLE["en"]))
        else:
            msg["To"] = formataddr((self.owner_name, self.user))
        if rng.random() < 0.15:
            msg["Cc"] = self.address(*rng.choice(PEOPLE[rng.choice(list(PEOPLE))]))
        msg["Subject"] = subject if subject.isascii() else Header(subject, header_charset).encode()
        msg["Date"] = format_datetime(when.astimezone(rng.choice(TIMEZONES)))
        msg["Message-ID"] = message_id
        if parent:
            references = (parent_refs + " " + parent_id).strip()
            msg["In-Reply-To"] = parent_id
            msg["References"] = references
        else:
            references = ""
        if kind == "newsletter":
            msg["List-Id"] = "Weekly digest <digest.example.com>"
            msg["List-Unsubscribe"] = "<mailto:unsubscribe@example.com>"
        msg["X-Mailer"] = "Airgate seed-mail.py"
        if parent or (len(self.threads) < 400 and rng.random() < 0.3):
            self.threads.append((message_id, subject, references, sender_name, lang))

        age = (self.end - when).days
        flags = []
        if rng.random() < (0.9 if age > 7 else 0.4):
            flags.append("\\Seen")
        if rng.random() < 0.08:
            flags.append("\\Flagged")
        if parent and rng.random() < 0.3:
            flags.append("\\Answered")
        # The email package would pick random boundaries; keep output reproducible.
        for number, part in enumerate(p for p in msg.walk() if p.is_multipart()):
            part.set_boundary(f"=_airgate_{self.tag}_{index}_{number}_{rng.randrange(16**6):06x}")
        raw = msg.as_bytes(policy=WIRE_POLICY)
        return flags, when.astimezone(dt.timezone.utc), raw


# -------------------------------------------------------------------- IMAP


def utf7_encode(name):
    """Encode a mailbox name in IMAP modified UTF-7 (RFC 3501 section 5.1.3)."""
    out, pending = [], []

    def flush():
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def quote(mailbox):
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def internal_date(when):
    return '"' + when.strftime("%d-%b-%Y %H:%M:%S +0000") + '"'


class Appender:
    """APPENDs messages over one connection, batching with MULTIAPPEND + LITERAL+."""

    def __init__(self, conn):
        self.conn = conn
        caps = {c.upper() for c in conn.capabilities}
        self.pipelined = "MULTIAPPEND" in caps and "LITERAL+" in caps

    def ensure_mailbox(self, name):
        mailbox = utf7_encode(name)
        typ, data = self.conn.list('""', quote(mailbox))
        if typ == "OK" and data and data[0]:
            return False
        typ, data = self.conn.create(quote(mailbox))
        if typ != "OK":
            raise SystemExit(f"seed-mail: CREATE {name} failed: {data}")
        self.conn.subscribe(quote(mailbox))
        return True

    def append_all(self, mailbox, messages):
        # Dovecot syncs the maildir for every appended message. With the target
        # SELECTed (read-write) those syncs move new/ into cur/ and stay cheap;
        # otherwise new/ keeps growing and seeding gets quadratic in folder size.
        # (The seeded messages lose \Recent, which IMAP4rev2 dropped anyway.)
        typ, data = self.conn.select(quote(mailbox))
        if typ != "OK":
            raise SystemExit(f"seed-mail: cannot open {mailbox}: {data}")
        if not self.pipelined:
            for flags, when, raw in messages:
                typ, data = self.conn.append(quote(mailbox), "(" + " ".join(flags) + ")",
                                             imaplib.Time2Internaldate(when.timestamp()), raw)
                if typ != "OK":
                    raise SystemExit(f"seed-mail: APPEND failed: {data}")
            return
        batch, size = [], 0
        for item in messages:
            batch.append(item)
            size += len(item[2])
            if len(batch) >= BATCH_MESSAGES or size >= BATCH_BYTES:
                self.multiappend(mailbox, batch)
                batch, size = [], 0
        if batch:
            self.multiappend(mailbox, batch)

    def multiappend(self, mailbox, batch):
        tag = self.conn._new_tag()
        parts = [tag + b" APPEND " + quote(mailbox).encode()]
        for flags, when, raw in batch:
            parts.append(b" (" + " ".join(flags).encode() + b") " + internal_date(when).encode()
                         + b" {%d+}\r\n" % len(raw) + raw)
        parts.append(b"\r\n")
        self.conn.send(b"".join(parts))
        while True:
            line = self.conn.readline()
            if not line:
                raise SystemExit("seed-mail: server closed the connection during APPEND")
            if line.startswith(tag + b" "):
                if not line[len(tag) + 1:].startswith(b"OK"):
                    raise SystemExit(f"seed-mail: APPEND failed: {line.decode(errors='replace').strip()}")
                return


# -------------------------------------------------------------------- main




def login(env, user):
    """Log in as `user`: with its own password when known, else as master user.
    Addresses in BETA_DOMAIN live on the second Dovecot, which knows them by local part."""
    known = {env["DEMO_USER"]: env["DEMO_PASSWORD"], env["OTHER_USER"]: env["OTHER_PASSWORD"]}
    port = env["IMAP_PORT"]
    local, _, domain = user.rpartition("@")
    if env.get("BETA_DOMAIN") and domain.lower() == env["BETA_DOMAIN"]:
        known = {env["BETA_USER"]: env["BETA_PASSWORD"], env["BETA_OTHER_USER"]: env["BETA_OTHER_PASSWORD"]}
        user, port = local, env["BETA_IMAP_PORT"]
    conn = imaplib.IMAP4(env["IMAP_HOST"], int(port), timeout=60)
    if user in known:
        conn.login(user, known[user])
    else:
        conn.login(f"{user}{env.get('MASTER_SEPARATOR', '*')}{env['MASTER_USER']}",
                   env["MASTER_PASSWORD"])
    return conn


def parse_args(env):
    parser = argparse.ArgumentParser(
        prog="stack.sh seed",
        description="Append reproducible test mail to a mailbox of the local stack over IMAP.")
    parser.add_argument("--user", default=env["DEMO_USER"], help="mailbox owner (default: %(default)s)")
    parser.add_argument("--count", type=int, default=50, help="messages to append (default: 50; 0 = none)")
    parser.add_argument("--folder", default="INBOX", help="target folder, created if missing (default: INBOX)")
    parser.add_argument("--folders", action="store_true",
                        help="also create the extra folders " + ", ".join(EXTRA_FOLDERS) + " if missing")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=None,
                        help="last day of the 90-day window, YYYY-MM-DD (default: today, UTC)")
    args = parser.parse_args()
    if args.count < 0:
        parser.error("--count must be >= 0")
    return args


def main():
    env = load_env("seed-mail")
    args = parse_args(env)
    end_day = args.end_date or dt.datetime.now(dt.timezone.utc).date()
    end = dt.datetime.combine(end_day, dt.time(), dt.timezone.utc)
    started = time.monotonic()
    conn = login(env, args.user)
    appender = Appender(conn)
    created = [name for name in (EXTRA_FOLDERS if args.folders else []) if appender.ensure_mailbox(name)]
    if args.count and args.folder.upper() != "INBOX":
        appender.ensure_mailbox(args.folder)
    mailbox = "INBOX" if args.folder.upper() == "INBOX" else utf7_encode(args.folder)
    factory = MailFactory(args.user, args.folder, args.count, args.seed, end)
    total_bytes = 0

    def messages():
        nonlocal total_bytes
        for index in range(args.count):
            item = factory.message(index)
            total_bytes += len(item[2])
            yield item

    appender.append_all(mailbox, messages())
    conn.logout()
    elapsed = time.monotonic() - started
    folders = f"created folders: {', '.join(created)}" if created else ""
    if not args.count:
        print(folders or f"nothing to do for {args.user} (folders already exist)")
        return
    s = factory.stats
    size = f"{total_bytes / 1e6:.1f} MB" if total_bytes >= 1e6 else f"{total_bytes / 1e3:.0f} kB"
    print(f"seeded {args.count} messages ({size}; {s['replies']} replies, "
          f"{s['attachments']} with attachments, {s['newsletters']} newsletters, {s['rtl']} RTL) "
          f"into {args.user} {args.folder} in {elapsed:.1f}s" + (f"; {folders}" if folders else ""))

if __name__ == "__main__":
    main()
