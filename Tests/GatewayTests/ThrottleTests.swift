import AirgateServer
import AirgateTestSupport
import EASClient
import EASProtocol
import Foundation
import GatewayHTTP
import Testing

/// Failed-login and request-rate limits over real HTTP against the stack's Dovecot, and the
/// throttle's own windows and Sync slots. (Dovecot delays each failed login by seconds, so
/// these tests fail as few logins as they can.)
@Suite struct ThrottleTests {
    static let folderSync = EASElement(EASTag.FolderHierarchy.folderSync, children: [EASElement(EASTag.FolderHierarchy.syncKey, text: "0")])

    @Test func guessingIsCutOffButTheRightPasswordAlreadyProvenStillWorks() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start { $0.limits = ThrottleLimits(failedLoginsPerUser: 2, failedLoginsPerAddress: 100) }
        defer { Task { await gateway.stop() } }
        // The other user proves their password first.
        var other = gateway.device(user: Stack["OTHER_USER"], password: Stack["OTHER_PASSWORD"])
        #expect(try await other.send("FolderSync", Self.folderSync).status == 200)

        var guesser = gateway.device(user: Stack["OTHER_USER"], password: "guess")
        for _ in 0..<2 { #expect(try await guesser.send("FolderSync", Self.folderSync).status == 401) }
        let cutOff = try await guesser.send("FolderSync", Self.folderSync)
        #expect(cutOff.status == 503)
        #expect(Int(cutOff.http.header("Retry-After") ?? "") ?? 0 > 200)
        // The password proven before still works (a guesser cannot lock the owner out), and
        // other users are untouched.
        #expect(try await other.send("FolderSync", Self.folderSync).status == 200)
        var demo = gateway.device()
        #expect(try await demo.send("FolderSync", Self.folderSync).status == 200)
        let metrics = String(decoding: try await demo.exchange.send(method: .GET, path: "/metrics", headers: [], body: []).body,
                             as: UTF8.self)
        #expect(metrics.contains("airgate_throttled_total{reason=\"failed_logins_user\"}"))
    }

    @Test func oneAddressTryingManyUsersIsCutOff() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start { $0.limits = ThrottleLimits(failedLoginsPerUser: 100, failedLoginsPerAddress: 2) }
        defer { Task { await gateway.stop() } }
        for index in 0..<2 {
            var device = gateway.device(user: "nobody\(index)@\(Stack["MAIL_DOMAIN"])", password: "x")
            #expect(try await device.send("FolderSync", Self.folderSync).status == 401)
        }
        var next = gateway.device(user: "nobody9@\(Stack["MAIL_DOMAIN"])", password: "x")
        #expect(try await next.send("FolderSync", Self.folderSync).status == 503)
        // From that address even a real account's right password is refused now, so the
        // guesser cannot tell a right guess from a wrong one.
        var demo = gateway.device()
        #expect(try await demo.send("FolderSync", Self.folderSync).status == 503)
    }

    @Test func wrongPushSecretsAreCountedLikeFailedLogins() async throws {
        guard Stack.available() else { return }
        let secret = "a-push-secret-of-some-length"
        let gateway = try await RunningGateway.start { configuration in
            configuration.limits = ThrottleLimits(failedLoginsPerUser: 100, failedLoginsPerAddress: 2)
            configuration.http.mailPushSecret = secret
        }
        defer { Task { await gateway.stop() } }
        let exchange = HTTPExchange(host: "127.0.0.1", port: gateway.port)
        func push(_ password: String) async throws -> Int {
            try await exchange.send(method: .PUT, path: "/airgate/push/dovecot",
                                    headers: [("Authorization", "Basic " + Base64.encode(Array("airgate:\(password)".utf8)))],
                                    body: Array("{\"user\":\"nobody@example.net\",\"folder\":\"INBOX\"}".utf8)).status
        }
        #expect(try await push(secret) == 204)
        #expect(try await push("guess one") == 401)
        #expect(try await push("guess two") == 401)
        // Cut off: the next guess, and the right secret from the same address, wait.
        #expect(try await push("guess three") == 503)
        #expect(try await push(secret) == 503)
        // Client logins from that address are refused too: one counter per address.
        var demo = gateway.device()
        #expect(try await demo.send("FolderSync", Self.folderSync).status == 503)
    }

    @Test func behindATrustedProxyTheForwardedAddressIsCounted() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start { configuration in
            configuration.limits = ThrottleLimits(failedLoginsPerUser: 100, failedLoginsPerAddress: 2)
            configuration.http.trustedProxies = [IPNetwork("127.0.0.1")!, IPNetwork("::1")!]
        }
        defer { Task { await gateway.stop() } }
        func from(_ address: String) -> [(String, String)] { [("X-Forwarded-For", address), ("X-Forwarded-Proto", "https")] }
        // Two guesses from one client, at once (Dovecot delays each failure).
        async let first = gateway.device(user: "nobody1@\(Stack["MAIL_DOMAIN"])", password: "x")
            .send("FolderSync", Self.folderSync, extraHeaders: from("203.0.113.5"))
        async let second = gateway.device(user: "nobody2@\(Stack["MAIL_DOMAIN"])", password: "x")
            .send("FolderSync", Self.folderSync, extraHeaders: from("203.0.113.5"))
        let statuses = try await [first.status, second.status]
        #expect(statuses == [401, 401])
        var demo = gateway.device()
        #expect(try await demo.send("FolderSync", Self.folderSync, extraHeaders: from("203.0.113.5")).status == 503)
        // Other clients behind the same proxy, and the proxy itself, are not held to it.
        #expect(try await demo.send("FolderSync", Self.folderSync, extraHeaders: from("203.0.113.6")).status == 200)
        #expect(try await demo.send("FolderSync", Self.folderSync).status == 200)
        // Behind the proxy, a remote client that reached it over plain HTTP must not send a password.
        let clear = try await demo.send("FolderSync", Self.folderSync,
                                        extraHeaders: [("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "http")])
        #expect(clear.status == 403)
    }

    @Test func aDeviceThatAsksTooOftenWaits() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start { $0.limits = ThrottleLimits(requestsPerDeviceMinute: 5, requestsPerUserMinute: 1000) }
        defer { Task { await gateway.stop() } }
        var busy = gateway.device(type: "WindowsOutlook15")
        for _ in 0..<5 { #expect(try await busy.send("FolderSync", Self.folderSync).status == 200) }
        let refused = try await busy.send("FolderSync", Self.folderSync)
        #expect(refused.status == 503 && refused.http.header("Retry-After") != nil)
        var calm = gateway.device(type: "WindowsOutlook15")
        #expect(try await calm.send("FolderSync", Self.folderSync).status == 200)
    }

    @Test func batchesOfALargeSyncAreNotCountedAgainstTheRate() async throws {
        guard Stack.available() else { return }
        let gateway = try await RunningGateway.start { $0.limits = ThrottleLimits(requestsPerDeviceMinute: 6, requestsPerUserMinute: 6) }
        defer { Task { await gateway.stop() } }
        let log = ResponseLog()
        var phone = gateway.device()
        // Provision (two requests) and FolderSync: three of the six.
        let (folderId, _, uids) = try await SyncEndToEndTests.prepare(&phone, log: log, count: 12)
        var key = "0"
        var received = 0
        var requests = 0
        while true {
            let answer = try await phone.send("Sync", SyncEndToEndTests.syncRequest(key, collection: folderId, window: 2))
            requests += 1
            log.record(answer)
            try #require(answer.status == 200, "request \(requests): HTTP \(answer.status)")
            let collection = try #require(SyncEndToEndTests.collection(answer))
            received += collection.child(EASTag.AirSync.commands)?.children(EASTag.AirSync.add).count ?? 0
            key = try #require(collection.child(EASTag.AirSync.syncKey)?.text)
            if collection.child(EASTag.AirSync.moreAvailable) == nil, key != "0", requests > 1 { break }
        }
        // Key 0 and six batches of two: seven Syncs, of which the key-0 answer and the last one count.
        #expect(received == uids.count)
        #expect(requests == 7)
        // 3 + 2 counted: one more request passes, the next waits.
        #expect(try await phone.send("FolderSync", Self.folderSync).status == 200)
        let refused = try await phone.send("FolderSync", Self.folderSync)
        #expect(refused.status == 503 && refused.http.header("Retry-After") != nil)
        try log.validate()
    }

    @Test func batchesAreGivenBackOnlyUpToTheirAllowance() async {
        let throttle = Throttle(limits: ThrottleLimits(requestsPerDeviceMinute: 2, requestsPerUserMinute: 1000))
        let allowance = 2 * Throttle.batchAllowance
        // Every request a batch of more: all pass while the allowance lasts.
        for _ in 0..<allowance {
            #expect(await throttle.requestRefusal(user: "ana", deviceId: "p") == nil)
            await throttle.uncount(user: "ana", deviceId: "p")
        }
        // Then batches count like any request: two more pass, the third waits.
        for _ in 0..<2 {
            #expect(await throttle.requestRefusal(user: "ana", deviceId: "p") == nil)
            await throttle.uncount(user: "ana", deviceId: "p")
        }
        #expect(await throttle.requestRefusal(user: "ana", deviceId: "p")?.0 == .deviceRate)
        // Another device of the same user has its own allowance.
        #expect(await throttle.requestRefusal(user: "ana", deviceId: "q") == nil)
    }

    @Test func windowsEndAndSyncSlotsAreGivenBack() async throws {
        let throttle = Throttle(limits: ThrottleLimits(failedLoginsPerUser: 2, failedLoginsPerAddress: 10,
                                                       failedLoginWindow: .milliseconds(300), concurrentSyncs: 2))
        await throttle.loginFailed(user: "Ana", address: "192.0.2.1")
        #expect(await throttle.loginRefusal(user: "ana", address: "192.0.2.1", proven: false) == nil)
        await throttle.loginFailed(user: "ana", address: "192.0.2.1")
        #expect(await throttle.loginRefusal(user: "ANA", address: "192.0.2.7", proven: false)?.0 == .failedLoginsUser)
        #expect(await throttle.loginRefusal(user: "ana", address: "192.0.2.7", proven: true) == nil)
        try await Task.sleep(for: .milliseconds(350))
        #expect(await throttle.loginRefusal(user: "ana", address: "192.0.2.1", proven: false) == nil)

        #expect(await throttle.beginSync())
        #expect(await throttle.beginSync())
        #expect(await !throttle.beginSync())
        await throttle.endSync()
        #expect(await throttle.beginSync())
    }
}
