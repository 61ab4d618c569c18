import EASProtocol
import Testing

/// Ranges come from the client as "first-last" text: any number it can write must give a
/// range or a clear refusal, never an overflow.
@Suite struct RequestRangeTests {
    @Test func searchRangesAreCutToAPageAndAbsurdStartsRefused() throws {
        #expect(try SearchRequest.range("0-99") == 0...99)
        #expect(try SearchRequest.range("5-1000") == 5...104)
        #expect(try SearchRequest.range("7-\(Int.max)") == 7...106)
        for bad in ["\(Int.max)-\(Int.max)", "\(SearchRequest.maxRangeStart + 1)-\(Int.max)", "9-3", "-1-4", "x", "1-2-3"] {
            #expect(throws: EASRequestError.self, "\(bad)") { try SearchRequest.range(bad) }
        }
    }
}
