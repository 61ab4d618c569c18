import MailUpstream
import Testing

@Suite struct OutOfOfficeTests {
    @Test func settingsSurviveTheScriptAndTheScriptSaysWhatTheyMean() {
        let settings = OutOfOffice(state: .scheduled, start: 1_796_112_000_000, end: 1_796_716_800_000,
                                   internalReply: "Back on Monday.\nAsk \"Sam\" \\ the desk.", externalReply: "I am away.")
        let script = SieveVacationScript.render(settings, address: "ana@example.org", previousScript: "my filters")
        #expect(SieveVacationScript.settings(in: script) == settings)
        #expect(SieveVacationScript.previousScript(in: script) == "my filters")
        #expect(script.contains("require [\"vacation\", \"date\", \"relational\", \"include\"];"))
        // 2026-12-01T08:00:00Z … 2026-12-08T08:00:00Z, compared in UTC.
        #expect(script.contains("currentdate :zone \"+0000\" :value \"ge\" \"iso8601\" \"2026-12-01T08:00:00\""))
        #expect(script.contains("currentdate :zone \"+0000\" :value \"lt\" \"iso8601\" \"2026-12-08T08:00:00\""))
        #expect(script.contains("if address :domain :is \"from\" \"example.org\" {"))
        // Sieve strings escape quote and backslash; line ends are CRLF.
        #expect(script.contains("\"Back on Monday.\r\nAsk \\\"Sam\\\" \\\\ the desk.\""))
        #expect(script.contains("include :personal :optional \"my filters\";"))
        #expect(SieveVacationScript.settings(in: "require \"vacation\";\r\nvacation \"x\";\r\n") == nil)
    }

    @Test func onlyExternalRepliesAndHTMLAreWrittenAsSuch() {
        let settings = OutOfOffice(state: .on, externalReply: "<p>Away</p>", isHTML: true)
        let script = SieveVacationScript.render(settings, address: "ana@example.org", previousScript: nil)
        #expect(script.contains("if not address :domain :is \"from\" \"example.org\" {"))
        #expect(script.contains("vacation :mime :addresses [\"ana@example.org\"] \"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Away</p>\";"))
        #expect(!script.contains("currentdate"))
        #expect(!script.contains("include"))
        #expect(SieveVacationScript.settings(in: script) == settings)
    }

    @Test func turningRepliesOnAndOffKeepsTheUsersOwnFilters() async throws {
        let scripts = InMemorySieveScripts()
        await scripts.put("require \"fileinto\";\r\nfileinto \"Lists\";\r\n", named: "roundcube")
        try await scripts.activate("roundcube")
        let service = SieveOutOfOffice(scripts: scripts, address: "ana@example.org")
        #expect(try await service.current() == OutOfOffice())

        let on = OutOfOffice(state: .on, internalReply: "away", externalReply: "away")
        try await service.set(on)
        #expect(try await service.current() == on)
        var list = await scripts.scripts()
        #expect(list.first(where: \.active)?.name == SieveOutOfOffice.scriptName)
        let written = try #require(await scripts.script(named: SieveOutOfOffice.scriptName))
        #expect(written.contains("include :personal :optional \"roundcube\";"))

        // Changed while on: still includes the user's script, not itself.
        try await service.set(OutOfOffice(state: .on, externalReply: "later"))
        #expect(try #require(await scripts.script(named: SieveOutOfOffice.scriptName)).contains("\"roundcube\""))

        // Off: the user's script is active again; the texts are still there to show.
        try await service.set(OutOfOffice(state: .off, externalReply: "later"))
        list = await scripts.scripts()
        #expect(list.first(where: \.active)?.name == "roundcube")
        #expect(try await service.current() == OutOfOffice(state: .off, externalReply: "later"))
    }
}
