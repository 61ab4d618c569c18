import AirgateServer
import ArgumentParser
import Foundation
import Gateway
import SyncState
import SyncStatePostgres
import SyncStateSQLite

/// `airgate devices`: what Exchange admins get from their mobile-device commands, against the
/// same state store `airgate serve` uses. Changes take effect on the device's next request,
/// on every node.
struct DevicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List and manage the devices that sync through the gateway.",
        subcommands: [List.self, Show.self, Wipe.self, CancelWipe.self, Block.self, Allow.self, Remove.self, Quarantine.self,
                      Trace.self, Resync.self]
    )

    /// Where the state lives: read from the same settings as `airgate serve` (stack file,
    /// configuration file, environment), or named directly.
    struct StoreOptions: ParsableArguments {
        @OptionGroup var settings: SettingsOptions

        @Option(help: "SQLite state database file (store.sqlite).")
        var sqlite: String?

        @Option(help: "PostgreSQL state database URL (store.postgres).")
        var postgres: String?

        func withStore<T: Sendable>(_ body: @Sendable (any StateStore) async throws -> T) async throws -> T {
            var sqlite = sqlite
            var postgres = postgres
            if sqlite == nil, postgres == nil {
                let file = try settings.load()
                if case .string(let path)? = file.entries["store.sqlite"]?.value { sqlite = path }
                if case .string(let url)? = file.entries["store.postgres"]?.value { postgres = url }
            }
            guard (sqlite == nil) != (postgres == nil) else {
                throw ValidationError("name the state store: --config, --stack-env, --sqlite or --postgres (one store)")
            }
            if let postgres {
                let store = try PostgresStateStore(url: postgres)
                return try await store.withRunning { try await body($0) }
            }
            let path = sqlite!
            guard FileManager.default.fileExists(atPath: path) else {
                throw DevicesError("no state database at \(path); has `airgate serve` run with it?")
            }
            let store = try await SQLiteStateStore.open(path: path)
            do {
                let result = try await body(store)
                try await store.close()
                return result
            } catch {
                try? await store.close()
                throw error
            }
        }
    }

    /// One device as the commands print it.
    struct Row: Codable, Sendable {
        var user: String
        var deviceId: String
        var deviceType: String
        var model: String?
        var os: String?
        var friendlyName: String?
        var userAgent: String?
        var protocolVersion: String?
        var firstSeen: String
        var lastSeen: String
        var access: String
        var wipe: String
        var policy: String
        var trace: Bool

        init(_ device: Device, user: String) {
            self.user = user
            deviceId = device.ref.deviceId
            deviceType = device.deviceType
            model = device.information.model
            os = device.information.os
            friendlyName = device.information.friendlyName
            userAgent = device.userAgent ?? device.information.userAgent
            protocolVersion = device.protocolVersion
            firstSeen = Row.date(device.firstSeen)
            lastSeen = Row.date(device.lastSeen)
            access = device.accessState.rawValue + (device.accessReason == .defaultLevel ? "" : " (\(device.accessReason.rawValue))")
            wipe = device.wipeState == .none ? "none" : device.wipeState.rawValue + (device.wipeAccountOnly ? " (account only)" : "")
            policy = device.policyState.rawValue
            trace = device.protocolTrace
        }

        static func date(_ milliseconds: Int64) -> String {
            let formatter = ISO8601DateFormatter()
            return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        }
    }

    /// Every device with its user's name, optionally of one user only.
    static func rows(_ store: any StateStore, user: String?) async throws -> [(Device, String)] {
        var names: [AccountID: String] = [:]
        var rows: [(Device, String)] = []
        for device in try await store.devices(of: nil) {
            if names[device.ref.account] == nil {
                names[device.ref.account] = try await store.username(of: device.ref.account) ?? "?"
            }
            let name = names[device.ref.account]!
            if let user, name.lowercased() != user.lowercased() { continue }
            rows.append((device, name))
        }
        return rows.sorted { ($0.1, $0.0.ref.deviceId) < ($1.1, $1.0.ref.deviceId) }
    }

    /// The one device named by user and id; a clear error otherwise.
    static func device(_ store: any StateStore, user: String, deviceId: String) async throws -> Device {
        guard let found = try await rows(store, user: user).first(where: { $0.0.ref.deviceId == deviceId })?.0 else {
            throw DevicesError("no device \(deviceId) of \(user)")
        }
        return found
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Names one device.
    struct DeviceOptions: ParsableArguments {
        @Option(help: "The account's login name.")
        var user: String

        @Option(help: "The DeviceId the device sends.")
        var device: String
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List devices (all, or one user's).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this user's devices.") var user: String?
        @Option(help: "Only devices of users of this mail domain (logins without one count as server.default_domain's).")
        var domain: String?
        @Flag(help: "JSON instead of a table.") var json = false

        func run() async throws {
            // The configured domains (aliases count as their domain) and the default domain, to
            // place logins typed without one.
            var routes = MailRoutes(fallback: nil)
            if domain != nil, store.settings.config != nil || store.settings.stackEnv != nil {
                routes = try DomainsCommand.routes(store.settings)
            }
            let wanted = domain.map { routes.domain(named: $0)?.name ?? $0.lowercased() }
            let rows = try await store.withStore { [user, routes] store in
                try await DevicesCommand.rows(store, user: user).filter { row in
                    guard let wanted else { return true }
                    let found = GatewayConfiguration.domain(ofUser: row.1, defaultDomain: routes.defaultDomain)
                    return found.map { routes.domain(named: $0)?.name ?? $0 } == wanted
                }.map { Row($0.0, user: $0.1) }
            }
            if json { return try DevicesCommand.printJSON(rows) }
            let header = ["USER", "DEVICE", "TYPE", "MODEL", "OS", "EAS", "LAST SEEN", "ACCESS", "WIPE"]
            let lines = rows.map {
                [$0.user, $0.deviceId, $0.deviceType, $0.model ?? "-", $0.os ?? "-", $0.protocolVersion ?? "-", $0.lastSeen,
                 $0.access, $0.wipe]
            }
            let widths = header.indices.map { column in ([header] + lines).map { $0[column].count }.max() ?? 0 }
            for line in [header] + lines {
                print(line.indices.map { line[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Everything known about one device.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: DeviceOptions
        @Flag(help: "JSON instead of text.") var json = false

        func run() async throws {
            let row = try await store.withStore { store in
                Row(try await DevicesCommand.device(store, user: target.user, deviceId: target.device), user: target.user)
            }
            if json { return try DevicesCommand.printJSON(row) }
            let fields: [(String, String?)] = [
                ("user", row.user), ("device", row.deviceId), ("type", row.deviceType), ("model", row.model), ("os", row.os),
                ("name", row.friendlyName), ("user agent", row.userAgent), ("EAS version", row.protocolVersion),
                ("first seen", row.firstSeen), ("last seen", row.lastSeen), ("access", row.access), ("wipe", row.wipe),
                ("policy", row.policy), ("trace", row.trace ? "on" : "off"),
            ]
            for (name, value) in fields { print("\(name):".padding(toLength: 13, withPad: " ", startingAt: 0) + (value ?? "-")) }
        }
    }

    /// Loads a device, changes it, saves it and says what happened.
    static func change(_ store: StoreOptions, _ target: DeviceOptions, _ done: String,
                       _ edit: @escaping @Sendable (inout Device) throws -> Void) async throws {
        try await store.withStore { store in
            var device = try await DevicesCommand.device(store, user: target.user, deviceId: target.device)
            try edit(&device)
            try await store.saveDevice(device)
        }
        print("\(target.user) \(target.device): \(done)")
    }

    /// An admin's access decision for one device: it stands against the access rules.
    static func decide(_ store: StoreOptions, _ target: DeviceOptions, _ access: Device.AccessState, _ done: String,
                       check: @escaping @Sendable (Device) throws -> Void = { _ in }) async throws {
        try await change(store, target, done) { device in
            try check(device)
            device.accessState = access
            device.accessReason = .individual
        }
    }

    struct Wipe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the device to wipe itself on its next request.",
            discussion: "With --account-only, a 16.1 device removes only this account's data.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: DeviceOptions
        @Flag(help: "Remove only this account from the device (EAS 16.1).") var accountOnly = false

        func run() async throws {
            let accountOnly = accountOnly
            try await DevicesCommand.change(store, target, accountOnly ? "account-only wipe pending" : "wipe pending") { device in
                guard device.wipeState != .acknowledged else {
                    throw DevicesError("the device already confirmed a wipe; remove it instead")
                }
                device.wipeState = .pending
                device.wipeAccountOnly = accountOnly
            }
        }
    }

    struct CancelWipe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel-wipe", abstract: "Withdraw a wipe not yet sent.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: DeviceOptions

        func run() async throws {
            try await DevicesCommand.change(store, target, "wipe cancelled") { device in
                guard device.wipeState == .pending else {
                    throw DevicesError("no wipe is pending (state: \(device.wipeState.rawValue))")
                }
                device.wipeState = .none
                device.wipeAccountOnly = false
            }
        }
    }

    struct Block: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse the device from its next request on.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: DeviceOptions

        func run() async throws {
            try await DevicesCommand.decide(store, target, .blocked, "blocked")
        }
    }

    struct Allow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a blocked or quarantined device in again.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: DeviceOptions

        func run() async throws {
            try await DevicesCommand.decide(store, target, .allowed, "allowed")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget the device and its sync state.",
            discussion: "The device starts from scratch (FolderSync 0) if it connects again.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: DeviceOptions

        func run() async throws {
            try await store.withStore { store in
                let device = try await DevicesCommand.device(store, user: target.user, deviceId: target.device)
                try await store.removeDevice(device.ref)
            }
            print("\(target.user) \(target.device): removed")
        }
    }

    struct Resync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the device fetch a folder (or everything) again.",
            discussion: """
                With --folder, the device's next Sync of that folder answers Status 3 and the device \
                fetches its contents from the start; without it, every folder and the folder list. \
                Nothing on the mail server changes. --folder takes the EAS folder id or the IMAP \
                mailbox name.
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: DeviceOptions
        @Option(help: "One folder (EAS id or IMAP mailbox name); all when omitted.") var folder: String?

        func run() async throws {
            let what = try await store.withStore { store in
                let device = try await DevicesCommand.device(store, user: target.user, deviceId: target.device)
                var folderId: String?
                if let folder {
                    let folders = try await store.folders(of: device.ref.account)
                    guard let match = folders.first(where: { $0.folderId == folder }) ?? folders.first(where: { $0.mailboxName == folder })
                    else { throw DevicesError("\(target.user) has no folder \(folder)") }
                    folderId = match.folderId
                }
                try await store.resetSyncState(device.ref, folderId: folderId)
                return folderId.map { "folder \($0)" } ?? "every folder"
            }
            print("\(target.user) \(target.device): resync of \(what) on the next request")
        }
    }

    struct Trace: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Log a device's requests and answers, decoded, from its next request on (on|off).",
            discussion: "The trace holds message contents; turn it off when done.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: DeviceOptions
        @Argument(help: "on or off") var state: String

        func validate() throws {
            guard state == "on" || state == "off" else { throw ValidationError("trace on or trace off") }
        }

        func run() async throws {
            let on = state == "on"
            try await DevicesCommand.change(store, target, on ? "trace on" : "trace off") { $0.protocolTrace = on }
        }
    }

    struct Quarantine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Quarantined devices.", subcommands: [Approve.self])

        struct Approve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Let a quarantined device in.")
            @OptionGroup var store: StoreOptions
            @OptionGroup var target: DeviceOptions

            func run() async throws {
                try await DevicesCommand.decide(store, target, .allowed, "approved") { device in
                    guard device.accessState == .quarantined else {
                        throw DevicesError("the device is not quarantined (access: \(device.accessState.rawValue))")
                    }
                }
            }
        }
    }
}

/// What went wrong with an admin's request: printed as `Error: …`, exit status 1.
struct DevicesError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
