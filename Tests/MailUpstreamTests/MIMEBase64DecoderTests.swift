import Foundation
import MailUpstream
import Testing

@Suite struct MIMEBase64DecoderTests {
    /// Decodes `encoded` fed in pieces of `piece` bytes.
    func decodeInPieces(_ encoded: [UInt8], piece: Int) -> [UInt8] {
        var decoder = MIMEBase64Decoder()
        var output: [UInt8] = []
        var offset = 0
        while offset < encoded.count {
            let chunk = Array(encoded[offset..<min(encoded.count, offset + piece)])
            var buffer = [UInt8](repeating: 0, count: MIMEBase64Decoder.capacity(for: chunk.count))
            let written = chunk.withUnsafeBufferPointer { input in
                buffer.withUnsafeMutableBufferPointer { decoder.decode(input, into: $0) }
            }
            output += buffer.prefix(written)
            offset += piece
        }
        var last = [UInt8](repeating: 0, count: 2)
        let written = last.withUnsafeMutableBufferPointer { decoder.finish(into: $0) }
        return output + last.prefix(written)
    }

    @Test func anyCutOfMIMELinesDecodesToTheOriginal() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 3, 4, 5, 57, 58, 1000] {
            let original = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // As a MIME part carries it: lines of 76 characters ending in CRLF.
            let text = Array(Data(original).base64EncodedString().utf8)
            var lines: [UInt8] = []
            for (index, character) in text.enumerated() {
                if index > 0, index % 76 == 0 { lines += [13, 10] }
                lines.append(character)
            }
            lines += [13, 10]
            for piece in [1, 2, 3, 5, 77, 4096] {
                #expect(decodeInPieces(lines, piece: piece) == original, "length \(length), pieces of \(piece)")
            }
            #expect(MIMEBase64Decoder.decode(lines) == original)
        }
    }

    @Test func paddingEndsTheDataAndAMissingPaddingIsForgiven() {
        #expect(decodeInPieces(Array("aGk=\r\nIGdhcmJhZ2U=".utf8), piece: 3) == Array("hi".utf8))
        #expect(decodeInPieces(Array("aGk".utf8), piece: 1) == Array("hi".utf8))
        #expect(decodeInPieces(Array("aGVs\r\nbG8".utf8), piece: 2) == Array("hello".utf8))
        // Characters outside the alphabet are skipped ([RFC 2045] 6.8).
        #expect(decodeInPieces(Array("a G-V*s\tbG8h".utf8), piece: 4) == Array("hello!".utf8))
        #expect(MIMEBase64Decoder.decode(Array("aGk=IGdh".utf8)) == Array("hi".utf8))
        // A lone character left by a cut is no byte.
        #expect(MIMEBase64Decoder.decode(Array("aGVsb".utf8)) == Array("hel".utf8))
    }
}
