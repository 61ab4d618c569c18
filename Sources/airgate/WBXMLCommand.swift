import ArgumentParser
import EASProtocol
import Foundation
import NIOCore
import WBXML

/// `airgate wbxml decode|encode`: read and write EAS traffic by hand.
struct WBXMLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wbxml",
        abstract: "Convert EAS bodies between WBXML and XML.",
        subcommands: [Decode.self, Encode.self]
    )

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an EAS WBXML body as indented XML.",
            discussion: """
                Tags are checked against the code pages of [MS-ASWBXML]; Outlook's annotation page \
                0xFE is skipped. Opaque data is shown with an opaque="base64" (or "hex") attribute, \
                which 'airgate wbxml encode' reads back.
                """
        )

        @Argument(help: "The WBXML file, or - for standard input.")
        var input: String = "-"

        @Option(help: "How to show opaque data: base64 or hex.")
        var opaque: String = "base64"

        func run() throws {
            guard let rendering = EASElement.OpaqueRendering(rawValue: opaque) else {
                throw ValidationError("--opaque must be base64 or hex")
            }
            let body = try readInput(input)
            do {
                let root = try EASDecoder.decode(ByteBuffer(bytes: body))
                FileHandle.standardOutput.write(Data(root.xml(opaque: rendering).utf8))
            } catch {
                throw CommandFailure("\(input): \(error)")
            }
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write XML (as 'decode' prints it, or as libwbxml and [MS-ASCMD] write it) as EAS WBXML.",
            discussion: "The WBXML goes to standard output, or to the file named by --output."
        )

        @Argument(help: "The XML file, or - for standard input.")
        var input: String = "-"

        @Option(name: .shortAndLong, help: "Write the WBXML to this file instead of standard output.")
        var output: String?

        func run() throws {
            let xml = try readInput(input)
            let body: ByteBuffer
            do {
                body = try EASXMLParser.parse(xml).wbxml()
            } catch {
                throw CommandFailure("\(input): \(error)")
            }
            let data = Data(body.readableBytesView)
            if let output {
                try data.write(to: URL(fileURLWithPath: output))
            } else {
                FileHandle.standardOutput.write(data)
            }
        }
    }
}

/// A failure explained in one line, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The largest file the `wbxml` commands read: the decoder's own body limit.
private let maxInputSize = WBXMLLimits.defaultMaxBodySize

private func readInput(_ path: String) throws -> [UInt8] {
    let handle: FileHandle
    if path == "-" {
        handle = FileHandle.standardInput
    } else {
        guard let file = FileHandle(forReadingAtPath: path) else { throw CommandFailure("cannot open \(path)") }
        handle = file
    }
    var bytes: [UInt8] = []
    while let chunk = try handle.read(upToCount: 64 * 1024), !chunk.isEmpty {
        bytes += chunk
        guard bytes.count <= maxInputSize else { throw CommandFailure("\(path) is larger than \(maxInputSize) bytes") }
    }
    return bytes
}
