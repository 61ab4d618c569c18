internal import CEtPan
import MailUpstream

#if canImport(Glibc)
import Glibc
#endif

// Small bridges between libetpan's C types and Swift values. Nothing here keeps a pointer
// beyond the call it was given to.

/// Calls `body` with each element of a libetpan `clist`, cast to `T`.
func forEach<T>(in list: UnsafeMutablePointer<clist>?, as _: T.Type, _ body: (UnsafeMutablePointer<T>) throws -> Void)
    rethrows
{
    var cell = list?.pointee.first
    while let current = cell {
        if let data = current.pointee.data {
            try body(data.assumingMemoryBound(to: T.self))
        }
        cell = current.pointee.next
    }
}

/// A Swift string from a C string libetpan owns; nil stays nil. Invalid UTF-8 is repaired.
func string(_ pointer: UnsafePointer<CChar>?) -> String? {
    guard let pointer else { return nil }
    return String(decoding: UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)), as: UTF8.self)
}

func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
    string(UnsafePointer(pointer))
}

/// The NUL-terminated text in a buffer a C function wrote into.
func text(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { string($0.baseAddress) } ?? ""
}

/// A copy on the C heap, for libetpan constructors that take ownership of their strings.
func cString(_ text: String) -> UnsafeMutablePointer<CChar> {
    strdup(text)!
}

extension UIDSet {
    /// A libetpan set the caller must free with `mailimap_set_free` (or hand to a constructor
    /// that takes ownership).
    func etpanSet() -> UnsafeMutablePointer<mailimap_set> {
        let set = mailimap_set_new_empty()!
        for range in ranges {
            mailimap_set_add_interval(set, range.lowerBound, range.upperBound)
        }
        return set
    }

    /// From a libetpan set. `*` (0 in libetpan) stands for `star`.
    init(etpan set: UnsafeMutablePointer<mailimap_set>?, star: UInt32 = UInt32.max) {
        var ranges: [ClosedRange<UInt32>] = []
        forEach(in: set?.pointee.set_list, as: mailimap_set_item.self) { item in
            var first = item.pointee.set_first
            var last = item.pointee.set_last
            if first == 0 { first = star }
            if last == 0 { last = star }
            ranges.append(min(first, last)...max(first, last))
        }
        self.init(ranges)
    }
}

/// A flag as IMAP writes it (`\Seen`, `$Forwarded`).
func flagName(_ flag: UnsafeMutablePointer<mailimap_flag>) -> String? {
    switch Int(flag.pointee.fl_type) {
    case MAILIMAP_FLAG_ANSWERED: return "\\Answered"
    case MAILIMAP_FLAG_FLAGGED: return "\\Flagged"
    case MAILIMAP_FLAG_DELETED: return "\\Deleted"
    case MAILIMAP_FLAG_SEEN: return "\\Seen"
    case MAILIMAP_FLAG_DRAFT: return "\\Draft"
    case MAILIMAP_FLAG_KEYWORD: return string(flag.pointee.fl_data.fl_keyword)
    case MAILIMAP_FLAG_EXTENSION: return string(flag.pointee.fl_data.fl_extension).map { "\\" + $0 }
    default: return nil
    }
}

/// A libetpan flag list for STORE and APPEND; the caller owns it.
func etpanFlagList(_ flags: [String]) throws -> UnsafeMutablePointer<mailimap_flag_list> {
    let list = mailimap_flag_list_new_empty()!
    for name in flags {
        guard IMAPAtom.isValidFlag(name) else {
            mailimap_flag_list_free(list)
            throw UpstreamError(.refused, "not a valid IMAP flag: \(name.debugDescription)")
        }
        let flag: UnsafeMutablePointer<mailimap_flag>
        switch name.lowercased() {
        case "\\answered": flag = mailimap_flag_new_answered()
        case "\\flagged": flag = mailimap_flag_new_flagged()
        case "\\deleted": flag = mailimap_flag_new_deleted()
        case "\\seen": flag = mailimap_flag_new_seen()
        case "\\draft": flag = mailimap_flag_new_draft()
        default:
            if name.hasPrefix("\\") {
                flag = mailimap_flag_new_flag_extension(cString(String(name.dropFirst())))
            } else {
                flag = mailimap_flag_new_flag_keyword(cString(name))
            }
        }
        mailimap_flag_list_add(list, flag)
    }
    return list
}

/// What may be sent to the server bare, without quoting ([RFC 3501] 9, `atom`).
enum IMAPAtom {
    /// A system flag (`\Seen`) or a keyword made of atom characters; nothing a client could
    /// use to inject syntax.
    static func isValidFlag(_ name: String) -> Bool {
        let body = name.hasPrefix("\\") ? Substring(name.dropFirst()) : Substring(name)
        guard !body.isEmpty, body.utf8.count <= 256 else { return false }
        return body.utf8.allSatisfy(isAtomByte)
    }

    static func isAtomByte(_ byte: UInt8) -> Bool {
        guard byte > 0x20, byte < 0x7F else { return false }
        return !"(){ %*\"\\]".utf8.contains(byte)
    }
}
