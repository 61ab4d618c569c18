// Measures how fast the EAS codec encodes and decodes large Sync responses, on one core.
//
//   swift run -c release CodecBenchmark            # full size, about a minute
//   swift run -c release CodecBenchmark --quick    # small size, to check that it runs
//   swift run -c release CodecBenchmark --only flag # one workload
//
// Prints a Markdown table for BENCHMARKS.md.

import EASProtocol
import NIOCore
import WBXML

#if canImport(Glibc)
import Glibc
#endif

typealias AirSync = EASTag.AirSync
typealias Email = EASTag.Email
typealias Base = EASTag.AirSyncBase

/// A deterministic pseudo-random source, so every run measures the same document.
struct Generator {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }
}

let words = ["meeting", "Grüße", "invoice", "شكرا", "project", "שלום", "review", "日本", "update", "résumé", "budget"]

func sentence(_ generator: inout Generator, words count: Int) -> String {
    (0..<count).map { _ in words[generator.next(words.count)] }.joined(separator: " ")
}

/// A Sync response adding `count` messages, each with an HTML body of a few KB (as an iPhone
/// gets them with BodyPreference HTML truncated at 51,200 bytes and WindowSize 100+).
func syncWithBodies(count: Int) -> EASElement {
    var generator = Generator(state: 42)
    let adds = (0..<count).map { index -> EASElement in
        let paragraphs = 2 + generator.next(30)
        let html = "<html><body>" + (0..<paragraphs).map { _ in
            "<p>" + sentence(&generator, words: 20 + generator.next(40)) + "</p>"
        }.joined() + "</body></html>"
        return EASElement(AirSync.add, children: [
            EASElement(AirSync.serverId, text: "1:\(100_000 + index)"),
            EASElement(AirSync.applicationData, children: [
                EASElement(Email.to, text: "\"Demo User\" <demo@airgate.test>"),
                EASElement(Email.from, text: "\"Sender \(index)\" <sender\(index)@example.test>"),
                EASElement(Email.subject, text: sentence(&generator, words: 6)),
                EASElement(Email.dateReceived, text: "2026-11-23T09:41:00.000Z"),
                EASElement(Email.displayTo, text: "Demo User"),
                EASElement(Email.importance, text: "1"),
                EASElement(Email.read, text: generator.next(2) == 0 ? "0" : "1"),
                EASElement(Base.body, children: [
                    EASElement(Base.type, text: "2"),
                    EASElement(Base.estimatedDataSize, text: "\(html.utf8.count)"),
                    EASElement(Base.data, text: html),
                ]),
                EASElement(Email.messageClass, text: "IPM.Note"),
                EASElement(Email.internetCPID, text: "65001"),
                EASElement(Email.flag),
                EASElement(Base.nativeBodyType, text: "2"),
                EASElement(EASTag.Email2.conversationId, .opaque(ByteBuffer(repeating: UInt8(index & 0xFF), count: 16))),
            ]),
        ])
    }
    return syncResponse(commands: adds)
}

/// A Sync response of `count` flag changes: many tiny elements, the codec's worst case per byte.
func syncWithFlagChanges(count: Int) -> EASElement {
    let changes = (0..<count).map { index in
        EASElement(AirSync.change, children: [
            EASElement(AirSync.serverId, text: "1:\(100_000 + index)"),
            EASElement(AirSync.applicationData, children: [
                EASElement(Email.read, text: index % 2 == 0 ? "1" : "0"),
                EASElement(Email.flag, children: [EASElement(Email.status, text: "2"),
                                                  EASElement(Email.flagType, text: "Flag for follow up")]),
            ]),
        ])
    }
    return syncResponse(commands: changes)
}

func syncResponse(commands: [EASElement]) -> EASElement {
    EASElement(AirSync.sync, children: [
        EASElement(AirSync.collections, children: [
            EASElement(AirSync.collection, children: [
                EASElement(AirSync.syncKey, text: "4f1c7d52-9"),
                EASElement(AirSync.collectionId, text: "1"),
                EASElement(AirSync.status, text: "1"),
                EASElement(AirSync.commands, children: commands),
            ])
        ])
    ])
}

/// CPU time of this process, so other load on the machine does not count.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

/// Runs `body` repeatedly for about `seconds` of CPU time and returns the median MB/s of
/// batches, counting `bytes` per call.
func measure(bytes: Int, seconds: Double, _ body: () throws -> Void) rethrows -> Double {
    try body()  // warm up
    var rates: [Double] = []
    let deadline = cpuSeconds() + seconds
    while cpuSeconds() < deadline || rates.count < 3 {
        let start = cpuSeconds()
        var iterations = 0
        repeat {
            try body()
            iterations += 1
        } while cpuSeconds() - start < 0.2
        rates.append(Double(bytes * iterations) / (cpuSeconds() - start) / 1_000_000)
    }
    return rates.sorted()[rates.count / 2]
}

let quick = CommandLine.arguments.contains("--quick")
/// `--only WORD` runs the workloads whose name contains WORD (for profiling one of them).
let only = CommandLine.arguments.firstIndex(of: "--only").map { CommandLine.arguments[$0 + 1] }
let seconds = quick ? 0.3 : 5.0
let workloads: [(String, EASElement)] = [
    ("Sync, \(quick ? 50 : 500) messages with HTML bodies", syncWithBodies(count: quick ? 50 : 500)),
    ("Sync, \(quick ? 500 : 20_000) flag changes", syncWithFlagChanges(count: quick ? 500 : 20_000)),
]

print("| workload | body size | decode MB/s | encode MB/s | read events only MB/s |")
print("| --- | ---: | ---: | ---: | ---: |")
for (name, document) in workloads where only.map(name.contains) ?? true {
    let body = try document.wbxml()
    guard try EASDecoder.decode(body) == document else { fatalError("round trip failed for \(name)") }
    let size = body.readableBytes
    var sink = 0
    let decode = try measure(bytes: size, seconds: seconds) {
        sink &+= try EASDecoder.decode(body).children.count
    }
    let encode = try measure(bytes: size, seconds: seconds) {
        sink &+= try document.wbxml().readableBytes
    }
    // The reader alone, without building a tree: what a streaming consumer pays.
    let events = try measure(bytes: size, seconds: seconds) {
        var reader = try WBXMLReader(body: body)
        while let event = try reader.next() {
            if case .endElement = event { sink &+= 1 }
        }
    }
    let sizeText = "\((Double(size) / 100_000).rounded() / 10) MB"
    print("| \(name) | \(sizeText) | \(Int(decode)) | \(Int(encode)) | \(Int(events)) |")
    if sink == 42 { print("") }  // keeps the work from being optimised away
}
