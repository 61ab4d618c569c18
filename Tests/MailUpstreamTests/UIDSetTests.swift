import MailUpstream
import Testing

@Suite("UID sets")
struct UIDSetTests {
    @Test("parse, normalise and format")
    func parse() throws {
        let set = try #require(UIDSet(parsing: "9:7,1,2,3,12,13:20,5"))
        #expect(set.description == "1:3,5,7:9,12:20")
        #expect(set.count == 16)
        #expect(set.contains(8) && !set.contains(4) && !set.contains(21))
        #expect(UIDSet(uids: [3, 1, 2]).description == "1:3")
    }

    static let malformed = ["", "0", "1:", ":5", "1:*", "a", "1,,2", "4294967296", "1:2:3"]

    @Test("refuses what is not a UID set", arguments: malformed)
    func refuse(text: String) {
        #expect(UIDSet(parsing: text) == nil)
    }

    @Test("a huge range stays two numbers, and is clipped to what a client can know")
    func huge() throws {
        let set = try #require(UIDSet(parsing: "1:4294967295"))
        #expect(set.count == 4_294_967_295)
        #expect(set.below(101).description == "1:100")
        #expect(set.below(1).isEmpty)
    }

    @Test("too many ranges are refused")
    func tooMany() {
        let text = (1...50).map { String($0 * 2) }.joined(separator: ",")
        #expect(UIDSet(parsing: text, maxRanges: 49) == nil)
        #expect(UIDSet(parsing: text, maxRanges: 50)?.count == 50)
    }
}
