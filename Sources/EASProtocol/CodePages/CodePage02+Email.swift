extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.3: code page 2, namespace `Email`.
    public static let email = EASCodePage(
        number: 2,
        namespace: "Email",
        tokens: [
            (0x0F, "DateReceived"),
            (0x11, "DisplayTo"),
            (0x12, "Importance"),
            (0x13, "MessageClass"),
            (0x14, "Subject"),
            (0x15, "Read"),
            (0x16, "To"),
            (0x17, "Cc"),
            (0x18, "From"),
            (0x19, "ReplyTo"),
            (0x1A, "AllDayEvent"),
            (0x1B, "Categories"),
            (0x1C, "Category"),
            (0x1D, "DtStamp"),
            (0x1E, "EndTime"),
            (0x1F, "InstanceType"),
            (0x20, "BusyStatus"),
            (0x21, "Location"),
            (0x22, "MeetingRequest"),
            (0x23, "Organizer"),
            (0x24, "RecurrenceId"),
            (0x25, "Reminder"),
            (0x26, "ResponseRequested"),
            (0x27, "Recurrences"),
            (0x28, "Recurrence"),
            (0x29, "Type"),
            (0x2A, "Until"),
            (0x2B, "Occurrences"),
            (0x2C, "Interval"),
            (0x2D, "DayOfWeek"),
            (0x2E, "DayOfMonth"),
            (0x2F, "WeekOfMonth"),
            (0x30, "MonthOfYear"),
            (0x31, "StartTime"),
            (0x32, "Sensitivity"),
            (0x33, "TimeZone"),
            (0x34, "GlobalObjId"),
            (0x35, "ThreadTopic"),
            (0x39, "InternetCPID"),
            (0x3A, "Flag"),
            (0x3B, "Status"),
            (0x3C, "ContentClass"),
            (0x3D, "FlagType"),
            (0x3E, "CompleteTime"),
            (0x3F, "DisallowNewTimeProposal"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 2, `Email` ([MS-ASWBXML] 2.1.2.1.3).
    public enum Email {
        public static let dateReceived = EASTag(known: 2, 0x0F)
        public static let displayTo = EASTag(known: 2, 0x11)
        public static let importance = EASTag(known: 2, 0x12)
        public static let messageClass = EASTag(known: 2, 0x13)
        public static let subject = EASTag(known: 2, 0x14)
        public static let read = EASTag(known: 2, 0x15)
        public static let to = EASTag(known: 2, 0x16)
        public static let cc = EASTag(known: 2, 0x17)
        public static let from = EASTag(known: 2, 0x18)
        public static let replyTo = EASTag(known: 2, 0x19)
        public static let allDayEvent = EASTag(known: 2, 0x1A)
        public static let categories = EASTag(known: 2, 0x1B)
        public static let category = EASTag(known: 2, 0x1C)
        public static let dtStamp = EASTag(known: 2, 0x1D)
        public static let endTime = EASTag(known: 2, 0x1E)
        public static let instanceType = EASTag(known: 2, 0x1F)
        public static let busyStatus = EASTag(known: 2, 0x20)
        public static let location = EASTag(known: 2, 0x21)
        public static let meetingRequest = EASTag(known: 2, 0x22)
        public static let organizer = EASTag(known: 2, 0x23)
        public static let recurrenceId = EASTag(known: 2, 0x24)
        public static let reminder = EASTag(known: 2, 0x25)
        public static let responseRequested = EASTag(known: 2, 0x26)
        public static let recurrences = EASTag(known: 2, 0x27)
        public static let recurrence = EASTag(known: 2, 0x28)
        public static let type = EASTag(known: 2, 0x29)
        public static let until = EASTag(known: 2, 0x2A)
        public static let occurrences = EASTag(known: 2, 0x2B)
        public static let interval = EASTag(known: 2, 0x2C)
        public static let dayOfWeek = EASTag(known: 2, 0x2D)
        public static let dayOfMonth = EASTag(known: 2, 0x2E)
        public static let weekOfMonth = EASTag(known: 2, 0x2F)
        public static let monthOfYear = EASTag(known: 2, 0x30)
        public static let startTime = EASTag(known: 2, 0x31)
        public static let sensitivity = EASTag(known: 2, 0x32)
        public static let timeZone = EASTag(known: 2, 0x33)
        public static let globalObjId = EASTag(known: 2, 0x34)
        public static let threadTopic = EASTag(known: 2, 0x35)
        public static let internetCPID = EASTag(known: 2, 0x39)
        public static let flag = EASTag(known: 2, 0x3A)
        public static let status = EASTag(known: 2, 0x3B)
        public static let contentClass = EASTag(known: 2, 0x3C)
        public static let flagType = EASTag(known: 2, 0x3D)
        public static let completeTime = EASTag(known: 2, 0x3E)
        public static let disallowNewTimeProposal = EASTag(known: 2, 0x3F)
    }
}
