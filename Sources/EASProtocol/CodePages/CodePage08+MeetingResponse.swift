extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.9: code page 8, namespace `MeetingResponse`.
    public static let meetingResponse = EASCodePage(
        number: 8,
        namespace: "MeetingResponse",
        tokens: [
            (0x05, "CalendarId"),
            (0x06, "CollectionId"),
            (0x07, "MeetingResponse"),
            (0x08, "RequestId"),
            (0x09, "Request"),
            (0x0A, "Result"),
            (0x0B, "Status"),
            (0x0C, "UserResponse"),
            (0x0E, "InstanceId"),
            (0x10, "ProposedStartTime"),
            (0x11, "ProposedEndTime"),
            (0x12, "SendResponse"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 8, `MeetingResponse` ([MS-ASWBXML] 2.1.2.1.9).
    public enum MeetingResponse {
        public static let calendarId = EASTag(known: 8, 0x05)
        public static let collectionId = EASTag(known: 8, 0x06)
        public static let meetingResponse = EASTag(known: 8, 0x07)
        public static let requestId = EASTag(known: 8, 0x08)
        public static let request = EASTag(known: 8, 0x09)
        public static let result = EASTag(known: 8, 0x0A)
        public static let status = EASTag(known: 8, 0x0B)
        public static let userResponse = EASTag(known: 8, 0x0C)
        public static let instanceId = EASTag(known: 8, 0x0E)
        public static let proposedStartTime = EASTag(known: 8, 0x10)
        public static let proposedEndTime = EASTag(known: 8, 0x11)
        public static let sendResponse = EASTag(known: 8, 0x12)
    }
}
