// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Airgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "airgate", targets: ["airgate"]),
        .library(name: "WBXML", targets: ["WBXML"]),
        .library(name: "EASProtocol", targets: ["EASProtocol"]),
        .library(name: "SyncState", targets: ["SyncState"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Generic WBXML 1.3: tokens, streaming reader, writer, limits. No EAS knowledge.
        .target(
            name: "WBXML",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // EAS code pages, the namespace-qualified element tree, XML rendering, protocol versions.
        .target(
            name: "EASProtocol",
            dependencies: ["WBXML", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // The gateway's own vocabulary for the mail server: the MailSession and MailSubmitter
        // protocols, mailbox names, UID sets, change tracking, in-memory servers for tests.
        // No I/O; the IMAP/SMTP adapter comes with its own target.
        .target(name: "MailUpstream"),
        // A sleep whose timer goes away with its cancelled task (held Pings, waits).
        .target(name: "CancellableSleep"),
        // libetpan from Debian's libetpan-dev; only MailUpstreamEtPan and CEtPanStream use it.
        .systemLibrary(
            name: "CEtPan",
            pkgConfig: "libetpan",
            providers: [.apt(["libetpan-dev"])]
        ),
        // SQLite from Debian's libsqlite3-dev, for the embedded state store's own driver.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // A libetpan stream driver of our own: poll() instead of select(), cancellation, and
        // TLS through GnuTLS with certificate and host-name verification.
        .target(
            name: "CEtPanStream",
            dependencies: ["CEtPan"],
            linkerSettings: [.linkedLibrary("gnutls")]
        ),
        // The IMAP and SMTP adapter over libetpan: connections, pool, MailSession, MailSubmitter.
        .target(
            name: "MailUpstreamEtPan",
            dependencies: [
                "MailUpstream", "CEtPan", "CEtPanStream", "CancellableSleep",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Sync state: the StateStore protocol, value types, change notification, in-memory store.
        .target(name: "SyncState"),
        // The SQL schema files (resources) and their splitting into statements.
        .target(
            name: "Migrations",
            path: "Migrations",
            exclude: ["README.md"],
            resources: [.copy("postgres"), .copy("sqlite")]
        ),
        // The StateStore over SQL, shared by both databases; drivers supply the connection.
        .target(name: "SyncStateSQL", dependencies: ["SyncState", "Migrations"]),
        .target(
            name: "SyncStateSQLite",
            dependencies: ["SyncStateSQL", "CSQLite"]
        ),
        .target(
            name: "SyncStatePostgres",
            dependencies: [
                "SyncStateSQL", "CancellableSleep",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The EAS command handlers, the tracker and the Ping hub; protocols only, no HTTP.
        .target(
            name: "Gateway",
            dependencies: [
                "EASProtocol", "MailUpstream", "SyncState", "CancellableSleep",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The Hummingbird application: routes, authentication, query forms, status mapping.
        .target(
            name: "GatewayHTTP",
            dependencies: [
                "Gateway", "EASProtocol", "MailUpstream", "CancellableSleep",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The assembly `airgate serve` runs: IMAP-backed authentication, store, gateway, HTTP.
        .target(
            name: "AirgateServer",
            dependencies: [
                "Gateway", "GatewayHTTP", "EASProtocol", "MailUpstream", "MailUpstreamEtPan", "SyncState", "SyncStateSQL",
                "SyncStateSQLite", "SyncStatePostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // A small EAS client: request builders and an HTTP/1.1 transport that shows the raw
        // response (for the tests and `airgate probe`).
        .target(
            name: "EASClient",
            dependencies: [
                "EASProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // `airgate probe`: runs a client's first steps against any EAS server and points out
        // protocol violations; the checks are pure functions over the answers.
        .target(name: "EASProbe", dependencies: ["EASClient", "EASProtocol", "WBXML"]),
        .executableTarget(
            name: "airgate",
            dependencies: [
                "WBXML", "EASProtocol", "SyncStateSQL", "SyncStateSQLite", "SyncStatePostgres",
                "Gateway", "GatewayHTTP", "MailUpstream", "MailUpstreamEtPan", "AirgateServer", "EASClient", "EASProbe",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "CodecBenchmark",
            dependencies: ["WBXML", "EASProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Benchmarks/CodecBenchmark"
        ),
        .testTarget(name: "MailUpstreamTests", dependencies: ["MailUpstream"]),
        // What the suites that run against the local stack share: its settings and a Python runner.
        .target(name: "AirgateTestSupport", dependencies: ["MailUpstream"], path: "Tests/AirgateTestSupport"),
        .testTarget(name: "MailUpstreamEtPanTests", dependencies: ["MailUpstream", "MailUpstreamEtPan", "AirgateTestSupport"]),
        .testTarget(name: "CancellableSleepTests", dependencies: ["CancellableSleep"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "GatewayHTTP", "EASClient", "EASProtocol", "MailUpstream", "MailUpstreamEtPan", "SyncState",
                "SyncStateSQLite", "AirgateServer", "AirgateTestSupport", "EASProbe",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SyncStateTests",
            dependencies: ["SyncState", "SyncStateSQL", "SyncStateSQLite", "SyncStatePostgres", "StateCrashDriver"]
        ),
        // A process for SyncStateTests to kill mid-transaction.
        .executableTarget(
            name: "StateCrashDriver",
            dependencies: ["SyncState", "SyncStateSQL", "SyncStateSQLite", "SyncStatePostgres"],
            path: "Tests/StateCrashDriver"
        ),
        .executableTarget(
            name: "StateStoreBenchmark",
            dependencies: ["SyncState", "SyncStateSQL", "SyncStateSQLite", "SyncStatePostgres"],
            path: "Benchmarks/StateStoreBenchmark"
        ),
        .target(name: "BenchmarkSupport", dependencies: ["MailUpstream", "EASClient"], path: "Benchmarks/BenchmarkSupport"),
        .executableTarget(
            name: "GatewayBenchmark",
            dependencies: ["BenchmarkSupport", "EASClient", "EASProtocol", "MailUpstream", "MailUpstreamEtPan"],
            path: "Benchmarks/GatewayBenchmark"
        ),
        .executableTarget(
            name: "LoadBenchmark",
            dependencies: ["BenchmarkSupport", "EASClient", "EASProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Benchmarks/LoadBenchmark"
        ),
        .executableTarget(
            name: "UpstreamBenchmark",
            dependencies: ["BenchmarkSupport", "MailUpstream", "MailUpstreamEtPan"],
            path: "Benchmarks/UpstreamBenchmark",
            exclude: ["imap_reference.py"]
        ),
        .testTarget(
            name: "WBXMLTests",
            dependencies: ["WBXML", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "EASProtocolTests",
            dependencies: ["EASProtocol", "WBXML", .product(name: "NIOCore", package: "swift-nio")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets, only when asked for (Fuzz/run.sh sets AIRGATE_FUZZ=1): they need
// -parse-as-library and a build with --sanitize=fuzzer, which ordinary builds must not get.
if Context.environment["AIRGATE_FUZZ"] == "1" {
    package.targets.append(
        .executableTarget(
            name: "FuzzEASDecoder",
            dependencies: ["EASProtocol", "WBXML", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/FuzzEASDecoder",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "FuzzEASRequests",
            dependencies: ["EASProtocol", "WBXML", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/FuzzEASRequests",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "FuzzIMAPFetch",
            dependencies: ["MailUpstreamEtPan"],
            path: "Fuzz/FuzzIMAPFetch",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "FuzzMIME",
            dependencies: ["MailUpstream", "MailUpstreamEtPan"],
            path: "Fuzz/FuzzMIME",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    )
}
