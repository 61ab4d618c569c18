import EASProtocol
import NIOCore
import Testing

@Suite struct Base64StreamDecoderTests {
    /// Decodes `encoded` fed in pieces of `piece` bytes.
    func decodeInPieces(_ encoded: [UInt8], piece: Int) -> [UInt8] {
        var decoder = Base64.StreamDecoder()
        var output = ByteBuffer()
        var offset = 0
        while offset < encoded.count {
            decoder.decode(Array(encoded[offset..<min(encoded.count, offset + piece)]), into: &output)
            offset += piece
        }
        decoder.finish(into: &output)
        return Array(output.readableBytesView)
    }

    @Test func anyCutOfMIMELinesDecodesToTheOriginal() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 3, 4, 5, 57, 58, 1000] {
            let original = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // As a MIME part carries it: lines of 76 characters ending in CRLF.
            let text = Array(Base64.encode(original).utf8)
            var lines: [UInt8] = []
            for (index, character) in text.enumerated() {
                if index > 0, index % 76 == 0 { lines += [13, 10] }
                lines.append(character)
            }
            lines += [13, 10]
            for piece in [1, 2, 3, 5, 77, 4096] {
                #expect(decodeInPieces(lines, piece: piece) == original, "length \(length), pieces of \(piece)")
            }
        }
    }

    @Test func paddingEndsTheDataAndAMissingPaddingIsForgiven() {
        #expect(decodeInPieces(Array("aGk=\r\nIGdhcmJhZ2U=".utf8), piece: 3) == Array("hi".utf8))
        #expect(decodeInPieces(Array("aGk".utf8), piece: 1) == Array("hi".utf8))
        #expect(decodeInPieces(Array("aGVs\r\nbG8".utf8), piece: 2) == Array("hello".utf8))
        // Characters outside the alphabet are skipped ([RFC 2045] 6.8).
        #expect(decodeInPieces(Array("a G-V*s\tbG8h".utf8), piece: 4) == Array("hello!".utf8))
    }
}
