import MailUpstream
import SyncState

/// What an initial enumeration learnt about its mailbox and may use in the collection's next
/// request: the UIDs a search found below the boundary, and summaries and body parts fetched
/// ahead while the device was reading the previous answer.
///
/// Valid for the request that presents the key the previous answer gave. Summaries
/// carry flags, so they are as of the folder's log entry `asOfHead`: entries logged after it
/// name the messages whose summaries are dropped before use. Body parts never change under a
/// UID of one UIDVALIDITY.
struct EnumerationReadAhead: Sendable {
    var uidValidity: UInt32
    /// Where the enumeration began and its filter: another enumeration is another list.
    var start: UInt32
    var filterType: Int?
    /// UIDs found in `low..<top`, newest first.
    var uids: [UInt32]
    var low: UInt32
    var top: UInt32
    var summaries: [UInt32: MessageSummary] = [:]
    var parts: [PartRequest: [UInt8]] = [:]
    var asOfHead: Int64

    /// Body bytes kept ahead for one collection: two or three answers of the 50 KB budget.
    static let maxPartBytes = 128 * 1024
    /// Summaries fetched ahead: about what the next two answers take.
    static let aheadRange = 16...64

    /// The found UIDs below `top`, newest first.
    func uids(below top: UInt32) -> ArraySlice<UInt32> {
        let first = uids.firstIndex { $0 < top } ?? uids.endIndex
        return uids[first...]
    }

    /// Drops what the log says changed: their summaries are stale.
    mutating func forget(_ changed: some Sequence<UInt32>) {
        for uid in changed { summaries[uid] = nil }
    }
}

/// The read-ahead of the collections in an initial enumeration on this node, at most one fetch
/// ahead per collection. Bounded in count; an entry goes when it is taken (the last answer of an
/// enumeration puts none back), so a device that stops half way leaves at most one entry behind
/// until it is pushed out.
actor EnumerationReadAheads {
    private struct Slot {
        var key: String
        var fill: Task<EnumerationReadAhead?, Never>
        var stamp: UInt64
    }

    private var slots: [CollectionRef: Slot] = [:]
    private var clock: UInt64 = 0
    let capacity: Int

    /// With the limits of an entry, at most about 32 MB in all.
    init(capacity: Int = 128) {
        self.capacity = capacity
    }

    /// The read-ahead made for `key`, once its fetch is done; nil for any other key. The entry
    /// leaves the cache: the request owns it until it puts the next one.
    func take(_ ref: CollectionRef, key: String) async -> EnumerationReadAhead? {
        guard let slot = slots.removeValue(forKey: ref) else { return nil }
        guard slot.key == key else {
            slot.fill.cancel()
            return nil
        }
        return await slot.fill.value
    }

    /// Keeps the entry `fill` produces for the collection's next request, with `key`.
    func put(_ ref: CollectionRef, key: String, fill: Task<EnumerationReadAhead?, Never>) {
        clock += 1
        slots[ref]?.fill.cancel()
        slots[ref] = Slot(key: key, fill: fill, stamp: clock)
        if slots.count > capacity, let oldest = slots.min(by: { $0.value.stamp < $1.value.stamp })?.key {
            slots.removeValue(forKey: oldest)?.fill.cancel()
        }
    }

    /// The key and entry kept for the collection once its fetch is done, left in place (for
    /// tests).
    func peek(_ ref: CollectionRef) async -> (key: String, entry: EnumerationReadAhead)? {
        guard let slot = slots[ref], let entry = await slot.fill.value else { return nil }
        return (slot.key, entry)
    }

    var count: Int { slots.count }
}
