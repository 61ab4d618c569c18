import EASClient
import EASProtocol
import Foundation
import MailUpstream
import Testing

/// Settings Oof against the real Dovecot: the script is checked by a ManageSieve client of
/// Python's, and the automatic reply really arrives through Postfix. Uses the stack's own
/// away@ user, so that no other test's mail draws replies.
@Suite(.serialized) struct OutOfOfficeEndToEndTests {
    typealias ST = EASTag.Settings

    /// A minimal ManageSieve client ([RFC 5804]) in Python: `prepare` leaves only the user's
    /// own filter script, active; `list` prints the scripts; `get NAME` prints one.
    static let sieveClient = """
        import base64, os, socket, sys
        user, password, action = sys.argv[1], sys.argv[2], sys.argv[3]
        sock = socket.create_connection((os.environ["SIEVE_HOST"], int(os.environ["SIEVE_PORT"])), timeout=20)
        stream = sock.makefile("rb")
        def response():
            lines = []
            while True:
                line = stream.readline()
                if not line:
                    raise SystemExit("ManageSieve closed the connection")
                line = line.rstrip(b"\\r\\n")
                if line.endswith(b"}") and b"{" in line:
                    size = int(line[line.rindex(b"{") + 1:-1].rstrip(b"+"))
                    lines.append(stream.read(size).decode())
                    stream.readline()
                    continue
                if line[:2] in (b"OK", b"NO") or line[:3] == b"BYE":
                    return line.decode(), lines
                lines.append(line.decode())
        def command(text):
            sock.sendall(text.encode() + b"\\r\\n")
            return response()
        response()
        token = base64.b64encode(b"\\0" + user.encode() + b"\\0" + password.encode()).decode()
        status, _ = command('AUTHENTICATE "PLAIN" "%s"' % token)
        assert status.startswith("OK"), status
        if action == "prepare":
            script = 'require "fileinto";\\r\\nif header :contains "subject" "no-such-subject-ever" { fileinto "INBOX"; }\\r\\n'
            data = script.encode()
            sock.sendall(b'PUTSCRIPT "my-filters" {%d+}\\r\\n' % len(data) + data + b"\\r\\n")
            status, _ = response()
            assert status.startswith("OK"), status
            assert command('SETACTIVE "my-filters"')[0].startswith("OK")
            command('DELETESCRIPT "airgate-oof"')
        elif action == "list":
            print("\\n".join(command("LISTSCRIPTS")[1]))
        elif action == "get":
            status, lines = command('GETSCRIPT "%s"' % sys.argv[4])
            assert status.startswith("OK"), status
            print(lines[0])
        command("LOGOUT")
        """

    static func sieve(_ action: String, _ extra: [String] = []) async throws -> String {
        try await Stack.python(sieveClient, [Stack["AWAY_USER"], Stack["AWAY_PASSWORD"], action] + extra)
    }

    @Test func outOfOfficeBecomesAnActiveSieveVacationThatReallyReplies() async throws {
        guard Stack.available() else { return }
        try await Self.sieve("prepare")
        let gateway = try await RunningGateway.start()
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var device = gateway.device(type: "iPhone", version: .v16_1, user: Stack["AWAY_USER"], password: Stack["AWAY_PASSWORD"])
        try await device.provision()
        let marker = UUID().uuidString
        let internalText = "Out until Monday (colleagues) \(marker)"
        let set = try await device.send("Settings", EASElement(ST.settings, children: [EASElement(ST.oof, children: [
            EASElement(ST.set, children: [
                EASElement(ST.oofState, text: "1"),
                EASElement(ST.oofMessage, children: [
                    EASElement(ST.appliesToInternal), EASElement(ST.enabled, text: "1"),
                    EASElement(ST.replyMessage, text: internalText), EASElement(ST.bodyType, text: "Text"),
                ]),
                EASElement(ST.oofMessage, children: [
                    EASElement(ST.appliesToExternalUnknown), EASElement(ST.enabled, text: "1"),
                    EASElement(ST.replyMessage, text: "Out until Monday."), EASElement(ST.bodyType, text: "Text"),
                ]),
            ]),
        ])]))
        log.record(set)
        #expect(set.element?.child(ST.oof)?.child(ST.status)?.text == "1")

        // Seen from an independent ManageSieve client: our script is active and still runs the
        // user's own filters.
        let scripts = try await Self.sieve("list")
        #expect(scripts.contains("\"airgate-oof\" ACTIVE"))
        #expect(scripts.contains("\"my-filters\""))
        let script = try await Self.sieve("get", ["airgate-oof"])
        #expect(script.contains("vacation :addresses [\"\(Stack["AWAY_USER"])\"]"))
        #expect(script.contains("include :personal :optional \"my-filters\";"))

        let get = try await device.send("Settings", EASElement(ST.settings, children: [EASElement(ST.oof, children: [
            EASElement(ST.get, children: [EASElement(ST.bodyType, text: "Text")]),
        ])]))
        log.record(get)
        let answer = get.element?.child(ST.oof)?.child(ST.get)
        #expect(answer?.child(ST.oofState)?.text == "1")
        #expect(answer?.children(ST.oofMessage).first?.child(ST.replyMessage)?.text == internalText)

        // A colleague writes: Dovecot's Sieve answers through Postfix with the internal text.
        let subject = "oof-probe-\(marker)"
        try await Stack.python("""
            import os, smtplib, sys
            with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PLAIN_PORT"])) as s:
                s.sendmail(os.environ["OTHER_USER"], [os.environ["AWAY_USER"]],
                           "From: %s\\r\\nTo: %s\\r\\nSubject: %s\\r\\nMessage-ID: <%s@airgate.test>\\r\\n\\r\\nAre you in?\\r\\n"
                           % (os.environ["OTHER_USER"], os.environ["AWAY_USER"], sys.argv[1], sys.argv[1]))
            """, [subject])
        let other = Stack.session(Stack["OTHER_USER"], Stack["OTHER_PASSWORD"])
        var replies: [UInt32] = []
        for _ in 0..<100 where replies.isEmpty {
            replies = try await other.search(in: IMAPMailboxName(wire: "INBOX"), MailSearch(subject: subject))
            if replies.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        let reply = try #require(replies.first, "no automatic reply reached \(Stack["OTHER_USER"])")
        let text = String(decoding: try await other.fetch(in: IMAPMailboxName(wire: "INBOX"), uid: reply, section: "TEXT", range: nil),
                          as: UTF8.self)
        #expect(text.contains(marker))

        // Off: the user's own script is the active one again.
        let off = try await device.send("Settings", EASElement(ST.settings, children: [EASElement(ST.oof, children: [
            EASElement(ST.set, children: [EASElement(ST.oofState, text: "0")]),
        ])]))
        log.record(off)
        #expect(off.element?.child(ST.oof)?.child(ST.status)?.text == "1")
        #expect(try await Self.sieve("list").contains("\"my-filters\" ACTIVE"))
        try log.validate()
    }
}
