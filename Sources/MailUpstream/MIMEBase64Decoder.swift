/// Base64 as a MIME part carries it ([RFC 2045] 6.8), decoded piece by piece as the part
/// arrives: characters outside the alphabet (line breaks) are skipped, the first `=` ends the
/// data, and a last group of two or three characters (the part cut short) gives one or two
/// bytes. Used for body text and for attachments streamed from IMAP.
public struct MIMEBase64Decoder: Sendable {
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = UInt8(index)
        }
        return table
    }()

    private var group: UInt32 = 0
    private var count = 0
    /// An `=` was seen: nothing after it is data.
    public private(set) var ended = false

    public init() {}

    /// The most bytes `decode` writes for `count` input bytes.
    public static func capacity(for count: Int) -> Int {
        count / 4 * 3 + 3
    }

    /// Decodes `input` into the start of `output` (at least `capacity(for: input.count)`
    /// bytes); returns how many bytes it wrote. Once the data has ended, the group it cut
    /// short is written too.
    public mutating func decode(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        guard !ended else { return 0 }
        var group = group
        var count = count
        var written = 0
        Self.values.withUnsafeBufferPointer { values in
            for character in input {
                let value = values[Int(character)]
                guard value != 0xFF else {
                    if character == UInt8(ascii: "=") {
                        ended = true
                        break
                    }
                    continue
                }
                group = group << 6 | UInt32(value)
                count += 1
                if count == 4 {
                    output[written] = UInt8(truncatingIfNeeded: group >> 16)
                    output[written + 1] = UInt8(truncatingIfNeeded: group >> 8)
                    output[written + 2] = UInt8(truncatingIfNeeded: group)
                    written += 3
                    group = 0
                    count = 0
                }
            }
        }
        self.group = group
        self.count = count
        if ended { written += finish(into: UnsafeMutableBufferPointer(rebasing: output[written...])) }
        return written
    }

    /// Writes the bytes of a last group cut short (no padding, or ended by `=`) into the start
    /// of `output` (at least 2 bytes); returns how many (0–2).
    public mutating func finish(into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        defer {
            group = 0
            count = 0
        }
        switch count {
        case 2:
            output[0] = UInt8(truncatingIfNeeded: group >> 4)
            return 1
        case 3:
            output[0] = UInt8(truncatingIfNeeded: group >> 10)
            output[1] = UInt8(truncatingIfNeeded: group >> 2)
            return 2
        default:
            return 0
        }
    }

    /// The whole of `encoded`, decoded.
    public static func decode(_ encoded: [UInt8]) -> [UInt8] {
        encoded.withUnsafeBufferPointer { input in
            [UInt8](unsafeUninitializedCapacity: capacity(for: input.count)) { output, written in
                var decoder = MIMEBase64Decoder()
                written = decoder.decode(input, into: output)
                written += decoder.finish(into: UnsafeMutableBufferPointer(rebasing: output[written...]))
            }
        }
    }
}
