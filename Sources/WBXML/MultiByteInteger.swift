import NIOCore

/// `mb_u_int32` (WBXML 1.3, 5.1): an unsigned 32-bit integer in at most five bytes, seven bits
/// per byte, most significant group first, the high bit set on every byte but the last.
enum MultiByteInteger {
    /// The longest encoding of a 32-bit value.
    static let maxLength = 5

    enum Peeked {
        case value(UInt32, length: Int)
        case needMoreBytes
    }

    /// Reads the integer starting at `index` without moving the reader index.
    static func peek(_ bytes: [UInt8], at index: Int, absoluteOffset: Int) throws(WBXMLError) -> Peeked {
        var value: UInt32 = 0
        for position in 0..<maxLength {
            guard index + position < bytes.count else { return .needMoreBytes }
            let byte = bytes[index + position]
            // Shifting in seven more bits must not drop any that are set.
            guard value & 0xFE00_0000 == 0 else { throw WBXMLError(.integerOverflow, at: absoluteOffset) }
            value = value << 7 | UInt32(byte & 0x7F)
            if byte & 0x80 == 0 { return .value(value, length: position + 1) }
        }
        throw WBXMLError(.integerOverflow, at: absoluteOffset)
    }

    /// Appends the shortest encoding of `value`.
    static func write(_ value: UInt32, to bytes: inout [UInt8]) {
        var shift = 28
        while shift > 0 && value >> UInt32(shift) == 0 { shift -= 7 }
        while shift > 0 {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)) & 0x7F | 0x80)
            shift -= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: value) & 0x7F)
    }
}
