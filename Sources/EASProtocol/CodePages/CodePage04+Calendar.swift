extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.5: code page 4, namespace `Calendar`.
    public static let calendar = EASCodePage(
        number: 4,
        namespace: "Calendar",
        tokens: [
            (0x05, "Timezone"),
            (0x06, "AllDayEvent"),
            (0x07, "Attendees"),
            (0x08, "Attendee"),
            (0x09, "Email"),
            (0x0A, "Name"),
            (0x0D, "BusyStatus"),
            (0x0E, "Categories"),
            (0x0F, "Category"),
            (0x11, "DtStamp"),
            (0x12, "EndTime"),
            (0x13, "Exception"),
            (0x14, "Exceptions"),
            (0x15, "Deleted"),
            (0x16, "ExceptionStartTime"),
            (0x17, "Location"),
            (0x18, "MeetingStatus"),
            (0x19, "OrganizerEmail"),
            (0x1A, "OrganizerName"),
            (0x1B, "Recurrence"),
            (0x1C, "Type"),
            (0x1D, "Until"),
            (0x1E, "Occurrences"),
            (0x1F, "Interval"),
            (0x20, "DayOfWeek"),
            (0x21, "DayOfMonth"),
            (0x22, "WeekOfMonth"),
            (0x23, "MonthOfYear"),
            (0x24, "Reminder"),
            (0x25, "Sensitivity"),
            (0x26, "Subject"),
            (0x27, "StartTime"),
            (0x28, "UID"),
            (0x29, "AttendeeStatus"),
            (0x2A, "AttendeeType"),
            (0x33, "DisallowNewTimeProposal"),
            (0x34, "ResponseRequested"),
            (0x35, "AppointmentReplyTime"),
            (0x36, "ResponseType"),
            (0x37, "CalendarType"),
            (0x38, "IsLeapMonth"),
            (0x39, "FirstDayOfWeek"),
            (0x3A, "OnlineMeetingConfLink"),
            (0x3B, "OnlineMeetingExternalLink"),
            (0x3C, "ClientUid"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 4, `Calendar` ([MS-ASWBXML] 2.1.2.1.5).
    public enum Calendar {
        public static let timezone = EASTag(known: 4, 0x05)
        public static let allDayEvent = EASTag(known: 4, 0x06)
        public static let attendees = EASTag(known: 4, 0x07)
        public static let attendee = EASTag(known: 4, 0x08)
        public static let email = EASTag(known: 4, 0x09)
        public static let name = EASTag(known: 4, 0x0A)
        public static let busyStatus = EASTag(known: 4, 0x0D)
        public static let categories = EASTag(known: 4, 0x0E)
        public static let category = EASTag(known: 4, 0x0F)
        public static let dtStamp = EASTag(known: 4, 0x11)
        public static let endTime = EASTag(known: 4, 0x12)
        public static let exception = EASTag(known: 4, 0x13)
        public static let exceptions = EASTag(known: 4, 0x14)
        public static let deleted = EASTag(known: 4, 0x15)
        public static let exceptionStartTime = EASTag(known: 4, 0x16)
        public static let location = EASTag(known: 4, 0x17)
        public static let meetingStatus = EASTag(known: 4, 0x18)
        public static let organizerEmail = EASTag(known: 4, 0x19)
        public static let organizerName = EASTag(known: 4, 0x1A)
        public static let recurrence = EASTag(known: 4, 0x1B)
        public static let type = EASTag(known: 4, 0x1C)
        public static let until = EASTag(known: 4, 0x1D)
        public static let occurrences = EASTag(known: 4, 0x1E)
        public static let interval = EASTag(known: 4, 0x1F)
        public static let dayOfWeek = EASTag(known: 4, 0x20)
        public static let dayOfMonth = EASTag(known: 4, 0x21)
        public static let weekOfMonth = EASTag(known: 4, 0x22)
        public static let monthOfYear = EASTag(known: 4, 0x23)
        public static let reminder = EASTag(known: 4, 0x24)
        public static let sensitivity = EASTag(known: 4, 0x25)
        public static let subject = EASTag(known: 4, 0x26)
        public static let startTime = EASTag(known: 4, 0x27)
        public static let uid = EASTag(known: 4, 0x28)
        public static let attendeeStatus = EASTag(known: 4, 0x29)
        public static let attendeeType = EASTag(known: 4, 0x2A)
        public static let disallowNewTimeProposal = EASTag(known: 4, 0x33)
        public static let responseRequested = EASTag(known: 4, 0x34)
        public static let appointmentReplyTime = EASTag(known: 4, 0x35)
        public static let responseType = EASTag(known: 4, 0x36)
        public static let calendarType = EASTag(known: 4, 0x37)
        public static let isLeapMonth = EASTag(known: 4, 0x38)
        public static let firstDayOfWeek = EASTag(known: 4, 0x39)
        public static let onlineMeetingConfLink = EASTag(known: 4, 0x3A)
        public static let onlineMeetingExternalLink = EASTag(known: 4, 0x3B)
        public static let clientUid = EASTag(known: 4, 0x3C)
    }
}
