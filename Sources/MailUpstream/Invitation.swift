/// A meeting invitation carried by a message's text/calendar part (iTIP, [RFC 5546]): what a
/// phone shows for it and what an answer to the organizer needs.
public struct Invitation: Sendable, Equatable {
    /// `REQUEST`, `CANCEL`, …
    public var method: String
    public var uid: String
    public var sequence: Int
    public var summary: String?
    public var location: String?
    public var start: ICalendarTime?
    public var end: ICalendarTime?
    public var stamp: ICalendarTime?
    public var recurrenceId: ICalendarTime?
    public var organizer: String?
    public var organizerName: String?
    /// Whether the event repeats (an RRULE), which an answer covers as a whole.
    public var isRecurring: Bool
    /// Whether the organizer asked for an answer (no attendee has RSVP=FALSE).
    public var responseRequested: Bool
    /// The calendar object, for building the answer.
    public var calendar: ICalendarComponent

    /// Largest text/calendar part read.
    public static let maxBytes = 256 * 1024

    public init?(_ text: String) {
        guard let calendar = ICalendar.parse(text), calendar.name == "VCALENDAR",
              let event = calendar.component("VEVENT"), let uid = event.property("UID")?.value, !uid.isEmpty
        else { return nil }
        self.calendar = calendar
        self.uid = uid
        method = calendar.property("METHOD")?.value.uppercased() ?? "PUBLISH"
        sequence = event.property("SEQUENCE").flatMap { Int($0.value) } ?? 0
        summary = event.property("SUMMARY")?.text
        location = event.property("LOCATION")?.text
        start = event.property("DTSTART").flatMap { ICalendarTime($0, in: calendar) }
        end = event.property("DTEND").flatMap { ICalendarTime($0, in: calendar) }
        if end == nil, let start, let duration = event.property("DURATION").flatMap({ Self.durationSeconds($0.value) }) {
            var resolved = start
            resolved.milliseconds += Int64(duration) * 1000
            end = resolved
        }
        stamp = event.property("DTSTAMP").flatMap { ICalendarTime($0, in: calendar) }
        recurrenceId = event.property("RECURRENCE-ID").flatMap { ICalendarTime($0, in: calendar) }
        let organizerProperty = event.property("ORGANIZER")
        organizer = organizerProperty?.mailAddress
        organizerName = organizerProperty?.parameters["CN"]
        isRecurring = event.property("RRULE") != nil
        responseRequested = !event.properties("ATTENDEE").contains { $0.parameters["RSVP"]?.uppercased() == "FALSE" }
    }

    /// How the attendee answers ([RFC 5545] 3.2.12 PARTSTAT).
    public enum Answer: String, Sendable {
        case accepted = "ACCEPTED"
        case tentative = "TENTATIVE"
        case declined = "DECLINED"

        /// The subject prefix Exchange and Outlook use.
        public var subjectPrefix: String {
            switch self {
            case .accepted: "Accepted"
            case .tentative: "Tentative"
            case .declined: "Declined"
            }
        }
    }

    /// The iTIP REPLY ([RFC 5546] 3.2.3) from `attendee`: the event's identity and times
    /// copied, the attendee's PARTSTAT set, and the time zones the copied times refer to.
    public func reply(from attendee: String, name: String?, answer: Answer, stamp: String) -> String {
        var lines = ["BEGIN:VCALENDAR", "PRODID:-//Airgate//Exchange ActiveSync gateway//EN", "VERSION:2.0", "METHOD:REPLY"]
        let event = calendar.component("VEVENT")
        var zones = Set<String>()
        for property in event?.properties ?? [] where ["DTSTART", "DTEND", "RECURRENCE-ID"].contains(property.name) {
            if let zone = property.parameters["TZID"] { zones.insert(zone) }
        }
        for zone in calendar.components where zone.name == "VTIMEZONE" && zones.contains(zone.property("TZID")?.value ?? "") {
            lines += Self.lines(of: zone)
        }
        lines.append("BEGIN:VEVENT")
        lines.append("UID:" + uid)
        lines.append("DTSTAMP:" + stamp)
        lines.append("SEQUENCE:\(sequence)")
        for name in ["ORGANIZER", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "SUMMARY"] {
            if let property = event?.property(name) { lines.append(property.line) }
        }
        var attendeeLine = "ATTENDEE;PARTSTAT=\(answer.rawValue)"
        if let name, !name.isEmpty {
            attendeeLine += ";CN=\"" + name.filter { $0 != "\"" && !$0.isNewline } + "\""
        }
        attendeeLine += ":mailto:" + attendee
        lines.append(attendeeLine)
        lines += ["END:VEVENT", "END:VCALENDAR"]
        return lines.map(ICalendar.folded).joined(separator: "\r\n") + "\r\n"
    }

    static func lines(of component: ICalendarComponent) -> [String] {
        ["BEGIN:" + component.name] + component.properties.map(\.line) + component.components.flatMap(lines(of:))
            + ["END:" + component.name]
    }

    /// `PT1H30M`, `P1D`, `-PT15M` in seconds ([RFC 5545] 3.3.6).
    static func durationSeconds(_ value: String) -> Int? {
        var text = Substring(value.uppercased())
        var sign = 1
        if text.hasPrefix("-") { sign = -1; text = text.dropFirst() } else if text.hasPrefix("+") { text = text.dropFirst() }
        guard text.hasPrefix("P") else { return nil }
        var total = 0
        var number = 0
        var sawDigit = false
        for character in text.dropFirst() {
            if let digit = character.wholeNumberValue {
                number = number * 10 + digit
                sawDigit = true
                guard number < 100_000_000 else { return nil }
                continue
            }
            switch character {
            case "T": continue
            case "W": total += number * 604_800
            case "D": total += number * 86_400
            case "H": total += number * 3600
            case "M": total += number * 60
            case "S": total += number
            default: return nil
            }
            number = 0
        }
        return sawDigit ? sign * total : nil
    }
}
