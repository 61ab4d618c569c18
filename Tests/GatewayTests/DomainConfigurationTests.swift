import AirgateServer
import EASProtocol
import Gateway
import MailUpstreamEtPan
import Testing

/// `[domain."NAME"]` sections: each domain's mail servers, login format and own settings, and
/// the mistakes a provider's configuration can hold.
@Suite struct DomainConfigurationTests {
    static let twoDomains = """
        [server]
        default_domain = "alpha.example"
        public_url = "https://eas.provider.example/Microsoft-Server-ActiveSync"
        [imap]
        ca_file = "/etc/provider/ca.pem"
        timeout_seconds = 12
        [store]
        sqlite = "/tmp/x.sqlite"
        [policy]
        device_password = true
        min_password_length = 6

        [domain."alpha.example"]
        aliases = ["alpha.example.net"]
        public_url = "https://eas.alpha.example/Microsoft-Server-ActiveSync"
        [domain."alpha.example".imap]
        host = "imap-a.provider.example"
        master_user = "gateway"
        master_password = "secret"

        [domain."Beta.Example"]
        login = "local_part"
        eas.protocol_ceiling = "14.1"
        access.max_devices_per_user = 2
        limits.requests_per_user_per_minute = 100
        features.out_of_office = false
        check.user = "probe@beta.example"
        check.password = "probe-password"
        [domain."Beta.Example".imap]
        host = "imap-b.provider.example"
        security = "tls"
        ca_file = "/etc/beta/ca.pem"
        [domain."Beta.Example".smtp]
        host = "smtp-b.provider.example"
        [domain."Beta.Example".sieve]
        host = "sieve-b.provider.example"
        [domain."Beta.Example".policy]
        min_password_length = 8
        """

    static func configuration(_ text: String) throws -> ServerConfiguration {
        try ServerConfiguration.make(from: try ConfigurationFile(text: text, name: "airgate.toml")).configuration
    }

    static func failure(_ text: String) -> String? {
        do {
            _ = try configuration(text)
            return nil
        } catch let failure as ConfigurationFile.Failure {
            return failure.description
        } catch {
            return "\(error)"
        }
    }

    @Test func eachDomainHasItsOwnServersLoginAndSettings() throws {
        let configuration = try Self.configuration(Self.twoDomains)
        let routes = configuration.routes
        #expect(routes.fallback == nil)
        #expect(routes.domains.map(\.name) == ["alpha.example", "beta.example"])

        let alpha = try #require(routes.domain(named: "ALPHA.example"))
        #expect(alpha.aliases == ["alpha.example.net"])
        #expect(alpha.route.imap.host == "imap-a.provider.example" && alpha.route.imap.port == 143)
        #expect(alpha.route.imap.security == .startTLS)
        // Taken from the top level: CA file and timeout.
        #expect(alpha.route.imap.caFile == "/etc/provider/ca.pem" && alpha.route.imap.timeout == .seconds(12))
        #expect(alpha.route.smtp?.host == "imap-a.provider.example" && alpha.route.smtp?.port == 587)
        #expect(alpha.route.sieve == nil)
        #expect(alpha.route.master == IMAPMasterLogin(user: "gateway", password: "secret"))
        #expect(alpha.route.login == .address)

        let beta = try #require(routes.domain(named: "beta.example"))
        #expect(beta.route.imap.port == 993 && beta.route.imap.caFile == "/etc/beta/ca.pem")
        #expect(beta.route.smtp?.host == "smtp-b.provider.example")
        // Out-of-office is off for the domain: no ManageSieve, so Settings Oof is refused.
        #expect(beta.route.sieve == nil)
        #expect(beta.route.master == nil && beta.route.login == .localPart)
        #expect(beta.checkAccount?.user == "probe@beta.example")

        // Gateway settings: the domain's own values over the global ones, the rest inherited.
        let gateway = configuration.gateway
        #expect(gateway.offeredVersions(for: "ana@beta.example").last == .v14_1)
        #expect(gateway.offeredVersions(for: "ana@alpha.example").last == .v16_1)
        let betaSettings = gateway.applyingDomain(ofUser: "ana@BETA.example")
        #expect(betaSettings.access.maxDevicesPerUser == 2)
        #expect(betaSettings.policy.minDevicePasswordLength == 8 && betaSettings.policy.devicePasswordEnabled)
        let alphaSettings = gateway.applyingDomain(ofUser: "ana")
        #expect(alphaSettings.policy.minDevicePasswordLength == 6)
        #expect(alphaSettings.access.maxDevicesPerUser == GatewayConfiguration().access.maxDevicesPerUser)
        #expect(gateway.domainSettings(ofUser: "ana@beta.example")?.requestsPerUserMinute == 100)
        // Metrics name a domain by its own name, also for an alias's users.
        #expect(gateway.domainSettings(ofUser: "ana@alpha.example.net")?.name == "alpha.example")

        // Autodiscover: each domain's URL; no answer for other domains (there is no fallback).
        #expect(configuration.http.autodiscoverDomains["alpha.example.net"]?.publicURL
                == "https://eas.alpha.example/Microsoft-Server-ActiveSync")
        #expect(configuration.http.autodiscoverDomains["beta.example"]?.publicURL == nil)
        #expect(configuration.http.autodiscoverOtherDomains == false)
    }

    @Test func aLoginFindsItsServerAndTheNameToLogInWith() throws {
        let routes = try Self.configuration(Self.twoDomains).routes
        let beta = try #require(routes.resolve(login: "ana@Beta.Example"))
        #expect(beta.route.imap.host == "imap-b.provider.example")
        #expect(beta.imapUser == "ana" && beta.address == "ana@beta.example" && beta.domain?.name == "beta.example")
        // No domain typed: the default domain's server, logging in by address.
        let bare = try #require(routes.resolve(login: "ana"))
        #expect(bare.route.imap.host == "imap-a.provider.example" && bare.imapUser == "ana@alpha.example")
        // An alias goes where its domain goes, and logs in under the domain's own name.
        let alias = try #require(routes.resolve(login: "ana@alpha.example.net"))
        #expect(alias.route.imap.host == "imap-a.provider.example" && alias.address == "ana@alpha.example")
        #expect(alias.imapUser == "ana@alpha.example")
        // Not plausible logins: two domains, control characters.
        #expect(routes.resolve(login: "ana@alpha.example@beta.example") == nil)
        #expect(routes.resolve(login: "ana\r\n@beta.example") == nil)
        // Another customer's domain is not served at all.
        #expect(routes.resolve(login: "ana@gamma.example") == nil)

        // With a top-level server, other domains fall back to it, logging in as typed.
        let withFallback = try Self.configuration(Self.twoDomains.replacing("[imap]\n", with: "[imap]\nhost = \"imap.provider.example\"\n"))
        let other = try #require(withFallback.routes.resolve(login: "Ana@Gamma.example"))
        #expect(other.route.imap.host == "imap.provider.example" && other.imapUser == "Ana@Gamma.example" && other.domain == nil)
        #expect(withFallback.http.autodiscoverOtherDomains)
    }

    @Test func aProvidersMistakesAreNamed() {
        let store = "[store]\nsqlite = \"/tmp/x\"\n"
        // No server anywhere.
        #expect(Self.failure(store)?.contains("imap.host is required") == true)
        // A domain without a mail server.
        #expect(Self.failure(store + "[domain.\"a.example\"]\nlogin = \"address\"\n")?
            .contains("domain a.example has no mail server: set imap.host in its section [domain.\"a.example\"]") == true)
        // The same domain twice, in another letter case.
        let twice = store + "[domain.\"a.example\".imap]\nhost = \"x\"\n[domain.\"A.Example\".imap]\nhost = \"y\"\n"
        #expect(Self.failure(twice)?.contains("domain a.example is configured twice") == true)
        // An alias that is another domain's name.
        let clash = store + "[domain.\"a.example\".imap]\nhost = \"x\"\n[domain.\"b.example\"]\naliases = [\"a.example\"]\n"
            + "[domain.\"b.example\".imap]\nhost = \"y\"\n"
        #expect(Self.failure(clash)?.contains("is already another domain's name or alias") == true)
        // A key domains do not have, with its line.
        let unknown = store + "[domain.\"a.example\"]\nstore.sqlite = \"/tmp/y\"\n"
        #expect(Self.failure(unknown) == "airgate.toml:4: unknown key domain.\"a.example\".store.sqlite")
        // Not a domain name.
        #expect(Self.failure(store + "[domain.\"a b\".imap]\nhost = \"x\"\n")?.contains("a b is not a domain name") == true)
        #expect(Self.failure(store + "[domain.\"a.example\".imap]\nhost = \"x\"\n[domain.\"a.example\"]\nlogin = \"upn\"\n")?
            .contains("login is address, local_part or as_typed, not upn") == true)
        #expect(Self.failure(store + "[domain.\"a.example\".imap]\nhost = \"x\"\n[domain.\"a.example\".check]\nuser = \"u\"\n")?
            .contains("check.user and domain.\"a.example\".check.password go together") == true)
        #expect(Self.failure(store + "[domain.\"a.example\".imap]\nhost = \"x\"\n[domain.\"a.example\".eas]\nprotocol_ceiling = \"2.5\"\n")?
            .contains("eas.protocol_ceiling is one of") == true)
        // A test account of another domain; top-level settings that nothing would use.
        #expect(Self.failure(store + "[domain.\"a.example\".imap]\nhost = \"x\"\n[domain.\"a.example\".check]\n"
                             + "user = \"u@b.example\"\npassword = \"p\"\n")?.contains("check.user u@b.example is not an address of domain a.example") == true)
        #expect(Self.failure(store + "[imap]\nmaster_user = \"m\"\nmaster_password = \"p\"\n[domain.\"a.example\".imap]\nhost = \"x\"\n")?
            .contains("imap.master_user applies to the top-level server, and imap.host is not set") == true)
    }

    @Test func quotedKeySegmentsHoldDotsAndEqualsSigns() throws {
        let file = try ConfigurationFile(text: """
            [ domain . "x.example" ]
            imap.host = "a"
            "quoted-key" = 1
            [domain."y=z"]
            a = 2
            """, name: "t")
        #expect(file.entries["domain.\"x.example\".imap.host"]?.value == .string("a"))
        #expect(file.entries["domain.\"x.example\".\"quoted-key\""]?.value == .integer(1))
        #expect(file.entries["domain.\"y=z\".a"]?.value == .integer(2))
        for bad in ["[domain.\"x]", "[domain.\"\"]", "[domain..x]", "[domain.\"a\\\"b\"]"] {
            #expect(throws: ConfigurationFile.Failure.self) { try ConfigurationFile(text: bad, name: "t") }
        }
    }
}
