extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.23: code page 22, namespace `Email2`.
    public static let email2 = EASCodePage(
        number: 22,
        namespace: "Email2",
        tokens: [
            (0x05, "UmCallerID"),
            (0x06, "UmUserNotes"),
            (0x07, "UmAttDuration"),
            (0x08, "UmAttOrder"),
            (0x09, "ConversationId"),
            (0x0A, "ConversationIndex"),
            (0x0B, "LastVerbExecuted"),
            (0x0C, "LastVerbExecutionTime"),
            (0x0D, "ReceivedAsBcc"),
            (0x0E, "Sender"),
            (0x0F, "CalendarType"),
            (0x10, "IsLeapMonth"),
            (0x11, "AccountId"),
            (0x12, "FirstDayOfWeek"),
            (0x13, "MeetingMessageType"),
            (0x15, "IsDraft"),
            (0x16, "Bcc"),
            (0x17, "Send"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 22, `Email2` ([MS-ASWBXML] 2.1.2.1.23).
    public enum Email2 {
        public static let umCallerID = EASTag(known: 22, 0x05)
        public static let umUserNotes = EASTag(known: 22, 0x06)
        public static let umAttDuration = EASTag(known: 22, 0x07)
        public static let umAttOrder = EASTag(known: 22, 0x08)
        public static let conversationId = EASTag(known: 22, 0x09)
        public static let conversationIndex = EASTag(known: 22, 0x0A)
        public static let lastVerbExecuted = EASTag(known: 22, 0x0B)
        public static let lastVerbExecutionTime = EASTag(known: 22, 0x0C)
        public static let receivedAsBcc = EASTag(known: 22, 0x0D)
        public static let sender = EASTag(known: 22, 0x0E)
        public static let calendarType = EASTag(known: 22, 0x0F)
        public static let isLeapMonth = EASTag(known: 22, 0x10)
        public static let accountId = EASTag(known: 22, 0x11)
        public static let firstDayOfWeek = EASTag(known: 22, 0x12)
        public static let meetingMessageType = EASTag(known: 22, 0x13)
        public static let isDraft = EASTag(known: 22, 0x15)
        public static let bcc = EASTag(known: 22, 0x16)
        public static let send = EASTag(known: 22, 0x17)
    }
}
