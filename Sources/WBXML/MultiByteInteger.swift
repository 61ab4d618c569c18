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
    static func peek(_ buffer: ByteBuffer, at index: Int, absoluteOffset: Int) throws(WBXMLError) -> Peeked {
        var value: UInt32 = 0
        for position in 0..<maxLength {
            guard let byte = buffer.getInteger(at: index + position, as: UInt8.self) else { return .needMoreBytes }
            // Shifting in seven more bits must not drop any that are set.
            guard value & 0xFE00_0000 == 0 else { throw WBXMLError(.integerOverflow, at: absoluteOffset) }
            value = value << 7 | UInt32(byte & 0x7F)
            if byte & 0x80 == 0 { return .value(value, length: position + 1) }
        }
        throw WBXMLError(.integerOverflow, at: absoluteOffset)
    }

    /// Appends the shortest encoding of `value`.
    static func write(_ value: UInt32, to buffer: inout ByteBuffer) {
        if value < 0x80 {
            buffer.writeInteger(UInt8(value))
            return
        }
        var groups: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0)
        var count = 0
        var remaining = value
        withUnsafeMutableBytes(of: &groups) { bytes in
            while remaining != 0 || count == 0 {
                bytes[count] = UInt8(remaining & 0x7F)
                remaining >>= 7
                count += 1
            }
            for position in stride(from: count - 1, through: 0, by: -1) {
                buffer.writeInteger(bytes[position] | (position == 0 ? 0 : 0x80))
            }
        }
    }
}
