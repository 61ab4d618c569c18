import MailUpstream
import Testing

@Suite struct InvitationTests {
    /// An Outlook-style invitation: Windows time zone name, folded lines, escaped text.
    static let berlin = """
        BEGIN:VCALENDAR\r
        METHOD:REQUEST\r
        PRODID:Microsoft Exchange Server 2010\r
        VERSION:2.0\r
        BEGIN:VTIMEZONE\r
        TZID:W. Europe Standard Time\r
        BEGIN:STANDARD\r
        DTSTART:16010101T030000\r
        TZOFFSETFROM:+0200\r
        TZOFFSETTO:+0100\r
        RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r
        END:STANDARD\r
        BEGIN:DAYLIGHT\r
        DTSTART:16010101T020000\r
        TZOFFSETFROM:+0100\r
        TZOFFSETTO:+0200\r
        RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r
        END:DAYLIGHT\r
        END:VTIMEZONE\r
        BEGIN:VEVENT\r
        ORGANIZER;CN="Ana Ruiz":mailto:ana@example.org\r
        ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Demo:mailto:demo@airgate.test\r
        SUMMARY;LANGUAGE=en-US:Planning\\, Q1 \\; budget\r
        DTSTART;TZID=W. Europe Standard Time:20260701T100000\r
        DTEND;TZID=W. Europe Standard Time:20260701T113000\r
        UID:040000008200E00074C5B7101A82E00800000000A0B1C2D3E4F5A6010000000000000000100\r
         00000C1D2E3F4A5B6C7D8E9F00112233445566\r
        LOCATION;LANGUAGE=en-US:Room 4\r
        SEQUENCE:2\r
        DTSTAMP:20260620T080000Z\r
        END:VEVENT\r
        END:VCALENDAR\r

        """

    @Test func anOutlookInvitationIsReadWithItsOwnTimeZone() throws {
        let invitation = try #require(Invitation(Self.berlin))
        #expect(invitation.method == "REQUEST")
        #expect(invitation.summary == "Planning, Q1 ; budget")
        #expect(invitation.location == "Room 4")
        #expect(invitation.organizer == "ana@example.org")
        #expect(invitation.organizerName == "Ana Ruiz")
        #expect(invitation.sequence == 2)
        #expect(invitation.uid.hasSuffix("C1D2E3F4A5B6C7D8E9F00112233445566"))
        // 10:00 in Berlin in July is 08:00 UTC (summer time, +02:00).
        #expect(invitation.start?.milliseconds == 1_782_892_800_000)
        #expect(invitation.start?.utcOffsetMinutes == 120)
        #expect(invitation.end?.milliseconds == 1_782_898_200_000)
        #expect(invitation.responseRequested)
    }

    @Test func winterTimeAndTheLastSundayRule() throws {
        let winter = Self.berlin.replacing("20260701T100000", with: "20261201T100000").replacing("20260701T113000", with: "20261201T113000")
        let invitation = try #require(Invitation(winter))
        // 10:00 in December is 09:00 UTC (+01:00).
        #expect(invitation.start?.milliseconds == 1_796_115_600_000)
        #expect(invitation.start?.utcOffsetMinutes == 60)
        // The day after the change in 2026 (last Sunday of October, 25th) is already winter time.
        let after = Self.berlin.replacing("20260701T100000", with: "20261026T100000")
        #expect(try #require(Invitation(after)).start?.utcOffsetMinutes == 60)
        let before = Self.berlin.replacing("20260701T100000", with: "20261024T100000")
        #expect(try #require(Invitation(before)).start?.utcOffsetMinutes == 120)
    }

    @Test func utcAllDayAndDurationForms() throws {
        let text = """
            BEGIN:VCALENDAR\r
            METHOD:REQUEST\r
            BEGIN:VEVENT\r
            UID:abc@example.net\r
            DTSTART:20261203T143000Z\r
            DURATION:PT45M\r
            ORGANIZER:mailto:bob@example.net\r
            ATTENDEE;RSVP=FALSE:mailto:demo@airgate.test\r
            END:VEVENT\r
            END:VCALENDAR\r

            """
        let invitation = try #require(Invitation(text))
        let start = try #require(invitation.start), end = try #require(invitation.end)
        #expect(end.milliseconds - start.milliseconds == 2_700_000)
        #expect(!invitation.responseRequested)
        let allDay = try #require(Invitation(text.replacing("DTSTART:20261203T143000Z", with: "DTSTART;VALUE=DATE:20261203")))
        #expect(allDay.start?.isDate == true)
        #expect(Invitation("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n") == nil)
        #expect(Invitation("not a calendar") == nil)
    }

    @Test func theReplyNamesTheEventAndTheAnswer() throws {
        let invitation = try #require(Invitation(Self.berlin))
        let reply = invitation.reply(from: "demo@airgate.test", name: "Demo", answer: .tentative, stamp: "20260621T090000Z")
        let parsed = try #require(ICalendar.parse(reply))
        #expect(parsed.property("METHOD")?.value == "REPLY")
        let event = try #require(parsed.component("VEVENT"))
        #expect(event.property("UID")?.value == invitation.uid)
        #expect(event.property("SEQUENCE")?.value == "2")
        #expect(event.property("ATTENDEE")?.parameters["PARTSTAT"] == "TENTATIVE")
        #expect(event.property("ATTENDEE")?.mailAddress == "demo@airgate.test")
        #expect(event.property("ORGANIZER")?.mailAddress == "ana@example.org")
        // The time zone DTSTART refers to travels with it; lines stay within 75 octets.
        #expect(parsed.component("VTIMEZONE")?.property("TZID")?.value == "W. Europe Standard Time")
        #expect(reply.split(separator: "\r\n").allSatisfy { $0.utf8.count <= 75 })
        #expect(try #require(Invitation(reply)).start == invitation.start)
    }
}
