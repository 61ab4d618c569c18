import NIOCore
import Testing

@testable import WBXML

@Suite("mb_u_int32 (WBXML 1.3, 5.1)")
struct MultiByteIntegerTests {
    static let encodings: [(UInt32, [UInt8])] = [
        (0, [0x00]),
        (0x7F, [0x7F]),
        (0x80, [0x81, 0x00]),
        (0xA0, [0x81, 0x20]),  // the example of WBXML 1.3, 5.1
        (0x3FFF, [0xFF, 0x7F]),
        (0x4000, [0x81, 0x80, 0x00]),
        (UInt32.max, [0x8F, 0xFF, 0xFF, 0xFF, 0x7F]),
    ]

    @Test("round-trips boundary values with the shortest encoding", arguments: encodings)
    func roundTrip(value: UInt32, encoding: [UInt8]) throws {
        var written: [UInt8] = []
        MultiByteInteger.write(value, to: &written)
        #expect(written == encoding)
        guard case .value(let decoded, let length) = try MultiByteInteger.peek(written, at: 0, absoluteOffset: 0) else {
            Issue.record("complete integer reported as incomplete")
            return
        }
        #expect(decoded == value)
        #expect(length == encoding.count)
    }

    @Test("asks for more bytes while the continuation bit is set")
    func incomplete() throws {
        guard case .needMoreBytes = try MultiByteInteger.peek([0x81, 0x80], at: 0, absoluteOffset: 0) else {
            Issue.record("incomplete integer reported as complete")
            return
        }
    }

    @Test("rejects values wider than 32 bits and encodings longer than five bytes", arguments: [
        [UInt8(0x90), 0x80, 0x80, 0x80, 0x00],
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
    ])
    func overflow(bytes: [UInt8]) {
        #expect(throws: WBXMLError(.integerOverflow, at: 7)) {
            try MultiByteInteger.peek(bytes, at: 0, absoluteOffset: 7)
        }
    }
}
