import MailUpstream
import Testing

@Suite("Change tracking ([RFC 7162])")
struct ChangeTrackingTests {
    let known = MailboxState(uidValidity: 77, highestModSeq: 500, uidNext: 101)

    @Test("new, changed and vanished messages since a known state, oldest change first")
    func incremental() throws {
        let report = ChangedSinceReport(
            state: MailboxState(uidValidity: 77, highestModSeq: 510, uidNext: 103),
            changed: [
                MessageFlags(uid: 102, flags: [], modSeq: 509),
                MessageFlags(uid: 5, flags: ["\\Seen", "\\Flagged"], modSeq: 505),
                MessageFlags(uid: 101, flags: ["\\Seen"], modSeq: 508),
                MessageFlags(uid: 9, flags: ["\\Seen"], modSeq: 400),  // not changed since 500
            ],
            vanished: try #require(UIDSet(parsing: "1:3,60,200:300")))
        guard case .changes(let changes, let state) = ChangeTracking.changes(since: known, report: report) else {
            Issue.record("expected changes")
            return
        }
        #expect(changes == [
            .removed(uid: 1), .removed(uid: 2), .removed(uid: 3), .removed(uid: 60),
            .flagsChanged(MessageFlags(uid: 5, flags: ["\\Flagged", "\\Seen"], modSeq: 505)),
            .added(MessageFlags(uid: 101, flags: ["\\Seen"], modSeq: 508)),
            .added(MessageFlags(uid: 102, flags: [], modSeq: 509)),
        ])
        #expect(state == MailboxState(uidValidity: 77, highestModSeq: 510, uidNext: 103))
    }

    @Test("a new UIDVALIDITY, a HIGHESTMODSEQ that went back, or NOMODSEQ mean a full resync")
    func fullResync() {
        func outcome(_ state: MailboxState) -> ChangeTracking.Outcome {
            ChangeTracking.changes(since: known, report: ChangedSinceReport(state: state, changed: [], vanished: UIDSet()))
        }
        let recreated = MailboxState(uidValidity: 78, highestModSeq: 1, uidNext: 1)
        #expect(outcome(recreated) == .fullResync(.uidValidityChanged(from: 77, to: 78), recreated))
        let restored = MailboxState(uidValidity: 77, highestModSeq: 450, uidNext: 101)
        #expect(outcome(restored) == .fullResync(.modSeqWentBack(from: 500, to: 450), restored))
        let noModSeq = MailboxState(uidValidity: 77, highestModSeq: 0, uidNext: 101)
        #expect(outcome(noModSeq) == .fullResync(.noModSeq, noModSeq))
        #expect(outcome(known) == .changes([], known))
    }

    @Test("VANISHED naming more known UIDs than the limit asks for a full resync")
    func tooManyRemovals() throws {
        let big = MailboxState(uidValidity: 77, highestModSeq: 500, uidNext: 1_000_001)
        let report = ChangedSinceReport(state: big, changed: [], vanished: try #require(UIDSet(parsing: "1:4294967295")))
        #expect(ChangeTracking.changes(since: big, report: report, maxRemovals: 1000)
                == .fullResync(.tooManyRemovals(1_000_000), big))
    }

    @Test("without CONDSTORE, two listings are compared")
    func comparison() {
        let previous: [UInt32: [String]] = [1: ["\\Seen"], 2: [], 3: ["\\Flagged"]]
        let current = [MessageFlags(uid: 3, flags: ["\\Flagged"]), MessageFlags(uid: 2, flags: ["\\Seen"]),
                       MessageFlags(uid: 4, flags: [])]
        #expect(ChangeTracking.changes(from: previous, to: current) == [
            .removed(uid: 1),
            .flagsChanged(MessageFlags(uid: 2, flags: ["\\Seen"])),
            .added(MessageFlags(uid: 4, flags: [])),
        ])
    }
}
