/// Where libwbxml (Debian's `libwbxml2`, behind `wbxml2xml` and `eas-validate`) names an EAS
/// token differently from [MS-ASWBXML]. The token values agree; only the names differ. A test
/// checks this table against `wbxml2xml` itself.
///
/// `EASXMLParser` accepts these names, so that XML printed by libwbxml encodes back to the
/// same bytes; names libwbxml shows as `unknown` cannot be mapped back.
public enum LibwbxmlNames {
    /// Microsoft's `Namespace:Name` (or a bare namespace) → libwbxml's name for the same token.
    public static let byStandardName: [String: String] = [
        "Calendar:AttendeeStatus": "Attendee_Status",
        "Calendar:AttendeeType": "Attendee_Type",
        "Calendar:DayOfMonth": "Recurrence_DayOfMonth",
        "Calendar:DayOfWeek": "Recurrence_DayOfWeek",
        "Calendar:Deleted": "Exception_Deleted",
        "Calendar:DtStamp": "DTStamp",
        "Calendar:Email": "Attendee_Email",
        "Calendar:ExceptionStartTime": "Exception_StartTime",
        "Calendar:Interval": "Recurrence_Interval",
        "Calendar:MonthOfYear": "Recurrence_MonthOfYear",
        "Calendar:Name": "Attendee_Name",
        "Calendar:Occurrences": "Recurrence_Occurrences",
        "Calendar:OrganizerEmail": "Organizer_Email",
        "Calendar:OrganizerName": "Organizer_Name",
        "Calendar:Timezone": "TimeZone",
        "Calendar:Type": "Recurrence_Type",
        "Calendar:Until": "Recurrence_Until",
        "Calendar:WeekOfMonth": "Recurrence_WeekOfMonth",
        "ComposeMail:Mime": "MIME",
        "Contacts:AssistantPhoneNumber": "AssistantTelephoneNumber",
        "Contacts:BusinessAddressCity": "BusinessCity",
        "Contacts:BusinessAddressCountry": "BusinessCountry",
        "Contacts:BusinessAddressPostalCode": "BusinessPostalCode",
        "Contacts:BusinessAddressState": "BusinessState",
        "Contacts:BusinessAddressStreet": "BusinessStreet",
        "Contacts:HomeAddressCity": "HomeCity",
        "Contacts:HomeAddressCountry": "HomeCountry",
        "Contacts:HomeAddressPostalCode": "HomePostalCode",
        "Contacts:HomeAddressState": "HomeState",
        "Contacts:HomeAddressStreet": "HomeStreet",
        "Contacts:OtherAddressCity": "OtherCity",
        "Contacts:OtherAddressCountry": "OtherCountry",
        "Contacts:OtherAddressPostalCode": "OtherPostalCode",
        "Contacts:OtherAddressState": "OtherState",
        "Contacts:OtherAddressStreet": "OtherStreet",
        "Email:DayOfMonth": "Recurrence_DayOfMonth",
        "Email:DayOfWeek": "Recurrence_DayOfWeek",
        "Email:DtStamp": "DTStamp",
        "Email:Interval": "Recurrence_Interval",
        "Email:MonthOfYear": "Recurrence_MonthOfYear",
        "Email:Occurrences": "Recurrence_Occurrences",
        "Email:ReplyTo": "Reply-To",
        "Email:Status": "FlagStatus",
        "Email:Type": "Recurrence_Type",
        "Email:Until": "Recurrence_Until",
        "Email:WeekOfMonth": "Recurrence_WeekOfMonth",
        "GAL": "Gal:",
        "MeetingResponse:ProposedEndTime": "unknown",
        "MeetingResponse:ProposedStartTime": "unknown",
        "Provision:AccountOnlyRemoteWipe": "unknown",
        "Provision:RequireStorageCardEncryption": "DeviceEncryptionEnabled",
        "RightsManagement:Owner": "RMOwner",
        "RightsManagement:RemoveRightsManagementProtection": "RemoveRightsManagementDistribution",
        "Settings:RightsManagementInformation": "ihsManagementInformation",
        "Settings:SMTPAddress": "SmtpAddress",
        "Tasks:DayOfMonth": "Recurrence_DayOfMonth",
        "Tasks:DayOfWeek": "Recurrence_DayOfWeek",
        "Tasks:DeadOccur": "Recurrence_DeadOccur",
        "Tasks:Interval": "Recurrence_Interval",
        "Tasks:MonthOfYear": "Recurrence_MonthOfYear",
        "Tasks:Occurrences": "Recurrence_Occurrences",
        "Tasks:Regenerate": "Recurrence_Regenerate",
        "Tasks:Start": "Recurrence_Start",
        "Tasks:Type": "Recurrence_Type",
        "Tasks:Until": "Recurrence_Until",
        "Tasks:UtcDueDate": "UTCDueDate",
        "Tasks:UtcStartDate": "UTCStartDate",
        "Tasks:WeekOfMonth": "Recurrence_WeekOfMonth",
        "ValidateCert:CheckCrl": "CheckCRL",
    ]

    /// Elements whose text libwbxml prints as base64 (it treats them as binary).
    public static let base64Text: Set<String> = [
        "AirSyncBase:Content",
        "ComposeMail:Mime",
        "Email2:ConversationId",
        "Email2:ConversationIndex",
        "GAL:Data",
        "ItemOperations:ConversationId",
        "ResolveRecipients:Data",
        "Search:ConversationId",
    ]

    /// libwbxml's `Namespace:Name` → the standard tag, for the names that map back unambiguously.
    static let tagsByLibwbxmlName: [String: EASTag] = {
        var tags: [String: EASTag] = [:]
        for (standard, theirs) in byStandardName where standard.contains(":") && theirs != "unknown" {
            let parts = standard.split(separator: ":")
            guard let tag = EASTag(namespace: String(parts[0]), name: String(parts[1])) else { continue }
            tags["\(parts[0]):\(theirs)"] = tag
        }
        return tags
    }()

    /// libwbxml's namespace → the standard one (`Gal` → `GAL`).
    static let namespaces: [String: String] = {
        var namespaces: [String: String] = [:]
        for (standard, theirs) in byStandardName where !standard.contains(":") {
            namespaces[theirs.hasSuffix(":") ? String(theirs.dropLast()) : theirs] = standard
        }
        return namespaces
    }()

    /// The tag libwbxml calls `name` in `namespace`, if it is one of its own names.
    public static func tag(namespace: String, name: String) -> EASTag? {
        let bare = namespace.hasSuffix(":") ? String(namespace.dropLast()) : namespace
        let standardNamespace = namespaces[bare] ?? bare
        return EASTag(namespace: standardNamespace, name: name)
            ?? tagsByLibwbxmlName["\(standardNamespace):\(name)"]
    }
}
