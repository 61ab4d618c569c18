import AirgateTestSupport
import Foundation
import MailUpstream
import Testing

@testable import MailUpstreamEtPan

/// A 25 MB attachment travels in chunks, never whole.
@Suite struct LargeMessageTests {
    static let adapter = IMAPAdapter(threads: 2)

    /// The process's peak resident memory (VmHWM), in bytes.
    private func peakResidentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    @Test func twentyFiveMegabyteAttachmentStreamsInChunks() async throws {
        guard MailStack.available() else { return }
        let session = IMAPMailSession(pool: Self.adapter.pool(endpoint: MailStack.imap(timeout: .seconds(60)),
                                                              credentials: MailStack.demoLogin))
        let mailbox = MailStack.uniqueMailbox("Large")
        try await session.createTestMailbox(mailbox)
        defer { Task { try? await session.deleteMailbox(mailbox) } }

        var generator = SystemRandomNumberGenerator()
        var payload = Data(count: 25 * 1024 * 1024)
        payload.withUnsafeMutableBytes { bytes in
            for index in stride(from: 0, to: bytes.count, by: 8) {
                withUnsafeBytes(of: generator.next()) { random in
                    for offset in 0..<min(8, bytes.count - index) { bytes[index + offset] = random[offset] }
                }
            }
        }
        let encoded = payload.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let uid: UInt32 = try await {
            let message = Array("""
                From: a@example.net\r
                To: demo@airgate.test\r
                Subject: large\r
                MIME-Version: 1.0\r
                Content-Type: multipart/mixed; boundary="b"\r
                \r
                --b\r
                Content-Type: text/plain\r
                \r
                see attachment\r
                --b\r
                Content-Type: application/octet-stream; name="big.bin"\r
                Content-Transfer-Encoding: base64\r
                \r
                \(encoded)\r
                --b--\r

                """.utf8)
            return try #require(try await session.append(to: mailbox, message: message, flags: [], internalDate: nil))
        }()
        let part = try #require(try await session.summaries(in: mailbox, uids: UIDSet(uids: [uid])).first?.structure?.part("2"))
        #expect(part.size > 25 * 1024 * 1024)

        let peakBefore = peakResidentBytes()
        var total = 0
        var chunks = 0
        var largest = 0
        var head: [UInt8] = []
        for try await chunk in session.fetchChunks(in: mailbox, uid: uid, section: "2", range: nil) {
            total += chunk.count
            chunks += 1
            largest = max(largest, chunk.count)
            if head.count < 76 { head += chunk.prefix(76 - head.count) }
        }
        let growth = peakResidentBytes() - peakBefore
        #expect(total == part.size)
        #expect(chunks > 100)
        #expect(largest <= 1024 * 1024)
        #expect(head == Array(encoded.utf8.prefix(76)))
        // Holding the part once would add its whole size; streaming adds a few chunks.
        #expect(growth < part.size / 2, "peak memory grew by \(growth) bytes while streaming \(part.size)")

        // A consumer that stops early ends the transfer; the account can go on.
        for try await _ in session.fetchChunks(in: mailbox, uid: uid, section: "2", range: nil) { break }
        #expect(try await session.status(mailbox).messages == 1)
    }
}
