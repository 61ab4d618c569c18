import AirgateServer
import ArgumentParser
import Foundation
import Logging
import MailUpstream
import MailUpstreamEtPan

/// `airgate domains`: the mail domains a hosting provider configured, and whether each one's
/// mail servers answer.
struct DomainsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domains",
        abstract: "Show the configured mail domains and check their mail servers.",
        subcommands: [List.self, Check.self]
    )

    /// The routes the settings describe; a configuration mistake is reported as `serve` would.
    static func routes(_ settings: SettingsOptions) throws -> MailRoutes {
        do {
            return try ServerConfiguration.make(from: try settings.load(), requiringStore: false).configuration.routes
        } catch let failure as ConfigurationFile.Failure {
            throw ValidationError(failure.description)
        }
    }

    /// One row per domain, then the fallback for other domains.
    static func entries(_ routes: MailRoutes) -> [(name: String, domain: MailDomain?, route: MailRoute)] {
        routes.domains.map { ($0.name, $0, $0.route) } + (routes.fallback.map { [("(other domains)", nil, $0)] } ?? [])
    }

    static func describe(_ endpoint: ServerEndpoint?) -> String {
        guard let endpoint else { return "-" }
        return "\(endpoint.host):\(endpoint.port) \(endpoint.security.rawValue)"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the configured domains and their mail servers.")
        @OptionGroup var settings: SettingsOptions
        @Flag(help: "JSON instead of a table.") var json = false

        struct Row: Encodable {
            var domain: String
            var aliases: [String]
            var imap: String
            var smtp: String?
            var sieve: String?
            var login: String
            var masterUser: String?
            var publicURL: String?
            var checkUser: String?
        }

        func run() async throws {
            let routes = try DomainsCommand.routes(settings)
            let rows = DomainsCommand.entries(routes).map { name, domain, route in
                Row(domain: name, aliases: domain?.aliases ?? [], imap: describe(route.imap), smtp: route.smtp.map { describe($0) },
                    sieve: route.sieve.map { describe($0) }, login: route.login.rawValue, masterUser: route.master?.user,
                    publicURL: domain?.publicURL, checkUser: domain?.checkAccount?.user)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(rows), as: UTF8.self))
                return
            }
            let header = ["DOMAIN", "ALIASES", "IMAP", "SMTP", "SIEVE", "LOGIN", "MASTER", "PUBLIC URL"]
            let lines = rows.map {
                [$0.domain, $0.aliases.isEmpty ? "-" : $0.aliases.joined(separator: ","), $0.imap, $0.smtp ?? "-", $0.sieve ?? "-",
                 $0.login, $0.masterUser ?? "-", $0.publicURL ?? "-"]
            }
            let widths = header.indices.map { column in ([header] + lines).map { $0[column].count }.max() ?? 0 }
            for line in [header] + lines {
                print(line.indices.map { line[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that every domain's mail servers answer.",
            discussion: """
                Connects to each domain's IMAP, submission and ManageSieve servers as the gateway \
                would (TLS and certificate checks included). A domain with a test account \
                (check.user, check.password) is also logged in to: IMAP through the gateway's own \
                login path (master login included), submission and ManageSieve with the same \
                credentials. Exit status 0 when everything answers, 1 when something does not, \
                64 for a configuration mistake.
                """
        )
        @OptionGroup var settings: SettingsOptions
        @Option(help: "Only this domain.") var domain: String?
        @Option(help: "Seconds each connection may take.") var timeout = 10

        func run() async throws {
            let routes = try DomainsCommand.routes(settings)
            var entries = DomainsCommand.entries(routes)
            if let domain {
                guard let configured = routes.domain(named: domain) else {
                    throw ValidationError("\(domain) is not a configured domain (see `airgate domains list`)")
                }
                entries = entries.filter { $0.name == configured.name }
            }
            var logger = Logger(label: "airgate.domains")
            logger.logLevel = .critical
            let adapter = IMAPAdapter(threads: 4, logger: logger)
            let authenticator = IMAPAccountAuthenticator(adapter: adapter, routes: routes)
            var failures = 0
            for (name, domain, route) in entries {
                print(name)
                func timed(_ route: ServerEndpoint) -> ServerEndpoint {
                    var endpoint = route
                    endpoint.timeout = .seconds(max(1, timeout))
                    return endpoint
                }
                var steps: [(String, () async throws -> Void)] = [
                    ("imap  \(describe(route.imap))", { try await adapter.checkReachable(timed(route.imap)) }),
                ]
                if let smtp = route.smtp {
                    steps.append(("smtp  \(describe(smtp))", { try await adapter.checkSubmission(timed(smtp)) }))
                }
                if let sieve = route.sieve {
                    steps.append(("sieve \(describe(sieve))", { try await adapter.checkManageSieve(timed(sieve)) }))
                }
                if let account = domain?.checkAccount {
                    let imapUser = routes.resolve(login: account.user)?.imapUser ?? account.user
                    steps.append(("login \(account.user) (imap)", {
                        _ = try await authenticator.account(user: account.user, password: account.password)
                    }))
                    if let smtp = route.smtp {
                        steps.append(("login \(account.user) (smtp)", {
                            try await adapter.checkSubmission(timed(smtp), credentials: .plain(user: imapUser, password: account.password))
                        }))
                    }
                    if let sieve = route.sieve {
                        steps.append(("login \(account.user) (sieve)", {
                            try await adapter.checkManageSieve(timed(sieve), user: imapUser, password: account.password)
                        }))
                    }
                }
                for (label, step) in steps {
                    let started = ContinuousClock.now
                    do {
                        try await step()
                        let elapsed = ContinuousClock.now - started
                        print("  ok    \(label) (\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000) ms)")
                    } catch {
                        failures += 1
                        print("  FAIL  \(label): \((error as? UpstreamError)?.message ?? "\(error)")")
                    }
                }
            }
            try? await adapter.shutdown()
            fflush(nil)
            if failures > 0 { throw ExitCode(1) }
        }
    }
}
