/// iCalendar objects ([RFC 5545]) as far as invitations that arrive by mail need them:
/// components, properties with parameters, text values, and times resolved through the
/// object's own VTIMEZONE definitions.
public struct ICalendarComponent: Sendable, Equatable {
    public var name: String
    public var properties: [ICalendarProperty]
    public var components: [ICalendarComponent]

    public func property(_ name: String) -> ICalendarProperty? { properties.first { $0.name == name } }
    public func properties(_ name: String) -> [ICalendarProperty] { properties.filter { $0.name == name } }
    public func component(_ name: String) -> ICalendarComponent? { components.first { $0.name == name } }
}

public struct ICalendarProperty: Sendable, Equatable {
    /// Upper-cased name (`DTSTART`).
    public var name: String
    /// Parameters, names upper-cased, quotes removed.
    public var parameters: [String: String]
    /// The raw value, escapes kept.
    public var value: String
    /// The whole unfolded line, to be copied into a reply unchanged.
    public var line: String

    /// The value as TEXT ([RFC 5545] 3.3.11): `\n`, `\,`, `\;` and `\\` undone.
    public var text: String {
        BackslashEscapes.unescaped(value, ["n": "\n", "N": "\n"])
    }

    /// A `mailto:` value's address.
    public var mailAddress: String? {
        guard value.lowercased().hasPrefix("mailto:") else { return nil }
        let address = String(value.dropFirst(7))
        return address.contains("@") ? address : nil
    }
}

public enum ICalendar {
    /// Limits for what a sender controls.
    public static let maxLines = 20_000
    public static let maxDepth = 8

    /// The first top-level component (normally VCALENDAR), or nil for text that is not iCalendar.
    public static func parse(_ text: String) -> ICalendarComponent? {
        var stack: [ICalendarComponent] = []
        var result: ICalendarComponent?
        for line in unfolded(text).prefix(maxLines) {
            guard let property = property(line) else { continue }
            switch property.name {
            case "BEGIN":
                guard stack.count < maxDepth else { return nil }
                stack.append(ICalendarComponent(name: property.value.uppercased(), properties: [], components: []))
            case "END":
                guard let done = stack.popLast(), done.name == property.value.uppercased() else { return nil }
                if stack.isEmpty {
                    result = done
                    return result
                }
                stack[stack.count - 1].components.append(done)
            default:
                guard !stack.isEmpty else { continue }
                stack[stack.count - 1].properties.append(property)
            }
        }
        return result
    }

    /// Lines with folding undone ([RFC 5545] 3.1): a line starting with a space or tab continues
    /// the one before.
    static func unfolded(_ text: String) -> [String] {
        var lines: [String] = []
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            if let first = raw.first, first == " " || first == "\t", !lines.isEmpty {
                lines[lines.count - 1] += raw.dropFirst()
            } else {
                lines.append(String(raw))
            }
        }
        return lines
    }

    /// `NAME;PARAM=value;PARAM="quoted":value`.
    static func property(_ line: String) -> ICalendarProperty? {
        var index = line.startIndex
        var inQuotes = false
        var separators: [String.Index] = []
        while index < line.endIndex {
            let character = line[index]
            if character == "\"" { inQuotes.toggle() }
            if !inQuotes, character == ";" { separators.append(index) }
            if !inQuotes, character == ":" { break }
            index = line.index(after: index)
        }
        guard index < line.endIndex else { return nil }
        let head = line[..<index]
        let value = String(line[line.index(after: index)...])
        var pieces: [Substring] = []
        var start = head.startIndex
        for separator in separators {
            pieces.append(head[start..<separator])
            start = head.index(after: separator)
        }
        pieces.append(head[start...])
        guard let name = pieces.first, !name.isEmpty else { return nil }
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            var parameterValue = String(piece[piece.index(after: equals)...])
            if parameterValue.hasPrefix("\""), parameterValue.hasSuffix("\""), parameterValue.count >= 2 {
                parameterValue = String(parameterValue.dropFirst().dropLast())
            }
            parameters[piece[..<equals].uppercased()] = parameterValue
        }
        return ICalendarProperty(name: name.uppercased(), parameters: parameters, value: value, line: line)
    }

    /// A line folded at 75 octets with CRLF + space, never inside a UTF-8 sequence.
    public static func folded(_ line: String) -> String {
        var out: [UInt8] = []
        var count = 0
        for scalar in line.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if count + bytes.count > 75 {
                out += [13, 10, 32]
                count = 1
            }
            out += bytes
            count += bytes.count
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The TEXT escaping of [RFC 5545] 3.3.11.
    public static func escapedText(_ text: String) -> String {
        text.replacing("\\", with: "\\\\").replacing(";", with: "\\;").replacing(",", with: "\\,")
            .replacing("\r\n", with: "\\n").replacing("\n", with: "\\n")
    }
}

/// A DATE or DATE-TIME value resolved to UTC ([RFC 5545] 3.3.4, 3.3.5).
public struct ICalendarTime: Sendable, Equatable {
    /// Milliseconds since 1970, UTC.
    public var milliseconds: Int64
    /// A DATE value: a whole day.
    public var isDate: Bool
    /// Minutes east of UTC in force at this time (0 for UTC, dates and floating times).
    public var utcOffsetMinutes: Int

    /// Resolves `property` (DTSTART, DTEND, RECURRENCE-ID…), using `calendar`'s VTIMEZONE for
    /// a TZID. A TZID without a definition, and floating times, are taken as UTC.
    public init?(_ property: ICalendarProperty, in calendar: ICalendarComponent) {
        guard let wall = Self.wallClock(property.value) else { return nil }
        isDate = wall.isDate
        if wall.isUTC || wall.isDate {
            milliseconds = wall.milliseconds
            utcOffsetMinutes = 0
            return
        }
        let offset = property.parameters["TZID"].flatMap { tzid in
            calendar.components.first { $0.name == "VTIMEZONE" && $0.property("TZID")?.value == tzid }
        }.flatMap { Self.offsetSeconds(atWallClock: wall.milliseconds, in: $0) } ?? 0
        milliseconds = wall.milliseconds - Int64(offset) * 1000
        utcOffsetMinutes = offset / 60
    }

    /// `20261201`, `20261201T090000` or `20261201T090000Z` as milliseconds of wall-clock time.
    static func wallClock(_ value: String) -> (milliseconds: Int64, isDate: Bool, isUTC: Bool)? {
        let bytes = Array(value.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= bytes.count, bytes[range].allSatisfy({ (48...57).contains($0) }) else { return nil }
            return Int64(String(decoding: bytes[range], as: UTF8.self))
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
              (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let days = CivilDate.days(year: year, month: month, day: day)
        if bytes.count == 8 { return (days * 86_400_000, true, false) }
        guard bytes.count >= 15, bytes[8] == 84, let hour = number(9..<11), let minute = number(11..<13),
              let second = number(13..<15), hour < 24, minute < 60, second < 61
        else { return nil }
        let milliseconds = ((days * 86_400) + hour * 3600 + minute * 60 + second) * 1000
        return (milliseconds, false, bytes.count == 16 && bytes[15] == 90)
    }

    /// The UTC offset a VTIMEZONE gives at a wall-clock time: the observance (STANDARD or
    /// DAYLIGHT) with the latest onset not after it, onsets from DTSTART and a yearly RRULE
    /// with BYMONTH and BYDAY (the form every common calendar writes), or RDATEs.
    static func offsetSeconds(atWallClock wall: Int64, in zone: ICalendarComponent) -> Int? {
        let year = CivilDate.date(days: wall >= 0 ? wall / 86_400_000 : (wall - 86_399_999) / 86_400_000).year
        var best: (onset: Int64, offset: Int)?
        var earliest: (onset: Int64, offsetFrom: Int)?
        for observance in zone.components where observance.name == "STANDARD" || observance.name == "DAYLIGHT" {
            guard let start = observance.property("DTSTART").flatMap({ wallClock($0.value) }),
                  let offsetTo = observance.property("TZOFFSETTO").flatMap({ utcOffset($0.value) })
            else { continue }
            let offsetFrom = observance.property("TZOFFSETFROM").flatMap { utcOffset($0.value) } ?? offsetTo
            if earliest == nil || start.milliseconds < earliest!.onset { earliest = (start.milliseconds, offsetFrom) }
            var onsets = [start.milliseconds]
            // DTSTART is often in 1601 (Outlook): the time of day of a negative count.
            let timeOfDay = (start.milliseconds % 86_400_000 + 86_400_000) % 86_400_000
            if let rule = observance.property("RRULE")?.value {
                for candidateYear in [year - 1, year] {
                    if let onset = yearlyOnset(rule, year: candidateYear, timeOfDay: timeOfDay),
                       onset >= start.milliseconds
                    {
                        onsets.append(onset)
                    }
                }
            }
            for rdate in observance.properties("RDATE") {
                for value in rdate.value.split(separator: ",") {
                    if let onset = wallClock(String(value)) { onsets.append(onset.milliseconds) }
                }
            }
            for onset in onsets where onset <= wall {
                if best == nil || onset > best!.onset { best = (onset, offsetTo) }
            }
        }
        return best?.offset ?? earliest?.offsetFrom
    }

    /// `FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU`: the onset in `year`, or nil for other rules (or
    /// a rule that has ended before it).
    static func yearlyOnset(_ rule: String, year: Int64, timeOfDay: Int64) -> Int64? {
        var parts: [String: String] = [:]
        for piece in rule.split(separator: ";") {
            let pair = piece.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { parts[pair[0].uppercased()] = String(pair[1]) }
        }
        guard parts["FREQ"]?.uppercased() == "YEARLY", let monthText = parts["BYMONTH"], let month = Int64(monthText),
              (1...12).contains(month), let byDay = parts["BYDAY"]?.uppercased(), byDay.count >= 3
        else { return nil }
        let weekdays = ["SU": 0, "MO": 1, "TU": 2, "WE": 3, "TH": 4, "FR": 5, "SA": 6]
        guard let weekday = weekdays[String(byDay.suffix(2))], let nth = Int64(byDay.dropLast(2)), nth != 0, abs(nth) <= 5
        else { return nil }
        if let until = parts["UNTIL"].flatMap(wallClock), CivilDate.date(days: until.milliseconds / 86_400_000).year < year {
            return nil
        }
        // 1970-01-01 was a Thursday (4).
        func weekdayOf(_ days: Int64) -> Int64 { ((days % 7) + 7 + 4) % 7 }
        let firstOfMonth = CivilDate.days(year: year, month: month, day: 1)
        let nextMonth = month == 12 ? CivilDate.days(year: year + 1, month: 1, day: 1) : CivilDate.days(year: year, month: month + 1, day: 1)
        let day: Int64
        if nth > 0 {
            let first = firstOfMonth + (Int64(weekday) - weekdayOf(firstOfMonth) + 7) % 7
            day = first + (nth - 1) * 7
        } else {
            let lastDay = nextMonth - 1
            let last = lastDay - (weekdayOf(lastDay) - Int64(weekday) + 7) % 7
            day = last + (nth + 1) * 7
        }
        guard day >= firstOfMonth, day < nextMonth else { return nil }
        return day * 86_400_000 + timeOfDay
    }

    /// `+0100`, `-0530`, `+013000` in seconds east of UTC.
    static func utcOffset(_ value: String) -> Int? {
        let bytes = Array(value.utf8)
        guard bytes.count == 5 || bytes.count == 7, bytes[0] == 43 || bytes[0] == 45,
              bytes.dropFirst().allSatisfy({ (48...57).contains($0) })
        else { return nil }
        let digits = bytes.dropFirst().map { Int($0 - 48) }
        var seconds = (digits[0] * 10 + digits[1]) * 3600 + (digits[2] * 10 + digits[3]) * 60
        if digits.count == 6 { seconds += digits[4] * 10 + digits[5] }
        return bytes[0] == 45 ? -seconds : seconds
    }
}

/// Backslash escapes: `\x` becomes what `replacements` says for x, or x itself.
enum BackslashEscapes {
    static func unescaped(_ text: String, _ replacements: [Character: Character]) -> String {
        var out = ""
        var escaping = false
        for character in text {
            if escaping {
                out.append(replacements[character] ?? character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
