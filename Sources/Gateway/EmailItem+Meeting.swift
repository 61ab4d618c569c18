import EASProtocol
import MailUpstream
import NIOCore

/// Invitations in mail ([MS-ASEMAIL] 2.2.2.48 MeetingRequest): what a phone needs to show
/// Accept / Tentative / Decline under a message whose text/calendar part is an iTIP REQUEST.
extension EmailItem {
    /// The message class of an invitation by its iTIP method ([MS-ASEMAIL] 2.2.2.49).
    static let meetingMessageClass = ["REQUEST": "IPM.Schedule.Meeting.Request", "CANCEL": "IPM.Schedule.Meeting.Canceled"]

    /// The text/calendar leaf of a message, if it has one small enough to read.
    static func calendarPart(of summary: MessageSummary) -> MIMEPart? {
        summary.structure?.firstPart {
            !$0.isMultipart && ($0.mediaType == "text/calendar" || $0.mediaType == "application/ics")
                && $0.size <= Invitation.maxBytes * 2
        }
    }

    static func calendarRequest(uid: UInt32, part: MIMEPart) -> PartRequest {
        PartRequest(uid: uid, section: part.section, range: 0..<(Invitation.maxBytes * 2))
    }

    /// [MS-ASEMAIL] 2.2.2.48 children in the schema's order. Recurrence rules are not
    /// converted: a repeating meeting shows as its first occurrence.
    static func meetingRequest(_ invitation: Invitation, version: EASProtocolVersion) -> EASElement {
        typealias E = EASTag.Email
        var children: [EASElement] = []
        let allDay = invitation.start?.isDate == true
        children.append(EASElement(E.allDayEvent, text: allDay ? "1" : "0"))
        if let start = invitation.start { children.append(EASElement(E.startTime, text: EASDate.string(milliseconds: start.milliseconds))) }
        let stamp = invitation.stamp ?? invitation.start
        children.append(EASElement(E.dtStamp, text: EASDate.string(milliseconds: stamp?.milliseconds ?? 0)))
        if let end = invitation.end { children.append(EASElement(E.endTime, text: EASDate.string(milliseconds: end.milliseconds))) }
        // 0 a single meeting, 3 one changed occurrence of a series.
        children.append(EASElement(E.instanceType, text: invitation.recurrenceId == nil ? "0" : "3"))
        if let location = invitation.location, !location.isEmpty {
            if version >= .v16_0 {
                children.append(EASElement(EASTag.AirSyncBase.location, children: [
                    EASElement(EASTag.AirSyncBase.displayName, text: location),
                ]))
            } else {
                children.append(EASElement(E.location, text: location))
            }
        }
        if let organizer = invitation.organizer {
            let name = invitation.organizerName.map { "\"\($0.filter { $0 != "\"" })\" <\(organizer)>" }
            children.append(EASElement(E.organizer, text: name ?? organizer))
        }
        if let recurrence = invitation.recurrenceId {
            children.append(EASElement(E.recurrenceId, text: EASDate.string(milliseconds: recurrence.milliseconds)))
        }
        children.append(EASElement(E.responseRequested, text: invitation.responseRequested ? "1" : "0"))
        children.append(EASElement(E.sensitivity, text: "0"))
        // 2: busy, what the organizer's calendar asks of attendees by default.
        children.append(EASElement(E.busyStatus, text: "2"))
        children.append(EASElement(E.timeZone, text: Base64.encode(timeZone(offsetMinutes: invitation.start?.utcOffsetMinutes ?? 0))))
        let messageType = invitation.method == "REQUEST" ? "1" : "0"
        if version >= .v16_0 {
            children.append(EASElement(EASTag.Email2.meetingMessageType, text: messageType))
            children.append(EASElement(EASTag.Calendar.uid, text: invitation.uid))
        } else {
            children.append(EASElement(E.globalObjId, text: Base64.encode(globalObjectId(uid: invitation.uid))))
            if version >= .v14_1 { children.append(EASElement(EASTag.Email2.meetingMessageType, text: messageType)) }
        }
        return EASElement(E.meetingRequest, children: children)
    }

    /// [MS-ASDTYPE] 2.7.4 TimeZone: the 172-byte TIME_ZONE_INFORMATION with only the bias of
    /// the meeting's start set (minutes to add to local time for UTC); no transition rules.
    static func timeZone(offsetMinutes: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 172)
        let bias = UInt32(bitPattern: Int32(-offsetMinutes))
        for index in 0..<4 { bytes[index] = UInt8(truncatingIfNeeded: bias >> (8 * UInt32(index))) }
        return bytes
    }

    /// [MS-OXOCAL] 2.2.1.27 PidLidGlobalObjectId for an iCalendar UID: an Outlook UID (hex of
    /// a global object id) decoded as it is, any other UID wrapped as "vCal-Uid" data.
    static func globalObjectId(uid: String) -> [UInt8] {
        let outlookPrefix = "040000008200E00074C5B7101A82E008"
        if uid.uppercased().hasPrefix(outlookPrefix), uid.utf8.count % 2 == 0, let decoded = hexBytes(uid) {
            return decoded
        }
        var bytes = hexBytes(outlookPrefix) ?? []
        bytes += [UInt8](repeating: 0, count: 4 + 8 + 8)  // instance date, creation time, reserved
        let data = Array("vCal-Uid".utf8) + [1, 0, 0, 0] + Array(uid.utf8) + [0]
        let size = UInt32(data.count)
        for index in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: size >> (8 * UInt32(index)))) }
        return bytes + data
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
            index += 2
        }
        return bytes
    }
}
