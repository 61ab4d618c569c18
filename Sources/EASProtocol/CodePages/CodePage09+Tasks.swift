extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.10: code page 9, namespace `Tasks`.
    public static let tasks = EASCodePage(
        number: 9,
        namespace: "Tasks",
        tokens: [
            (0x08, "Categories"),
            (0x09, "Category"),
            (0x0A, "Complete"),
            (0x0B, "DateCompleted"),
            (0x0C, "DueDate"),
            (0x0D, "UtcDueDate"),
            (0x0E, "Importance"),
            (0x0F, "Recurrence"),
            (0x10, "Type"),
            (0x11, "Start"),
            (0x12, "Until"),
            (0x13, "Occurrences"),
            (0x14, "Interval"),
            (0x15, "DayOfMonth"),
            (0x16, "DayOfWeek"),
            (0x17, "WeekOfMonth"),
            (0x18, "MonthOfYear"),
            (0x19, "Regenerate"),
            (0x1A, "DeadOccur"),
            (0x1B, "ReminderSet"),
            (0x1C, "ReminderTime"),
            (0x1D, "Sensitivity"),
            (0x1E, "StartDate"),
            (0x1F, "UtcStartDate"),
            (0x20, "Subject"),
            (0x22, "OrdinalDate"),
            (0x23, "SubOrdinalDate"),
            (0x24, "CalendarType"),
            (0x25, "IsLeapMonth"),
            (0x26, "FirstDayOfWeek"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 9, `Tasks` ([MS-ASWBXML] 2.1.2.1.10).
    public enum Tasks {
        public static let categories = EASTag(known: 9, 0x08)
        public static let category = EASTag(known: 9, 0x09)
        public static let complete = EASTag(known: 9, 0x0A)
        public static let dateCompleted = EASTag(known: 9, 0x0B)
        public static let dueDate = EASTag(known: 9, 0x0C)
        public static let utcDueDate = EASTag(known: 9, 0x0D)
        public static let importance = EASTag(known: 9, 0x0E)
        public static let recurrence = EASTag(known: 9, 0x0F)
        public static let type = EASTag(known: 9, 0x10)
        public static let start = EASTag(known: 9, 0x11)
        public static let until = EASTag(known: 9, 0x12)
        public static let occurrences = EASTag(known: 9, 0x13)
        public static let interval = EASTag(known: 9, 0x14)
        public static let dayOfMonth = EASTag(known: 9, 0x15)
        public static let dayOfWeek = EASTag(known: 9, 0x16)
        public static let weekOfMonth = EASTag(known: 9, 0x17)
        public static let monthOfYear = EASTag(known: 9, 0x18)
        public static let regenerate = EASTag(known: 9, 0x19)
        public static let deadOccur = EASTag(known: 9, 0x1A)
        public static let reminderSet = EASTag(known: 9, 0x1B)
        public static let reminderTime = EASTag(known: 9, 0x1C)
        public static let sensitivity = EASTag(known: 9, 0x1D)
        public static let startDate = EASTag(known: 9, 0x1E)
        public static let utcStartDate = EASTag(known: 9, 0x1F)
        public static let subject = EASTag(known: 9, 0x20)
        public static let ordinalDate = EASTag(known: 9, 0x22)
        public static let subOrdinalDate = EASTag(known: 9, 0x23)
        public static let calendarType = EASTag(known: 9, 0x24)
        public static let isLeapMonth = EASTag(known: 9, 0x25)
        public static let firstDayOfWeek = EASTag(known: 9, 0x26)
    }
}
