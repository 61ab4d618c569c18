import Foundation
import Testing

@testable import EASProtocol

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An XML tree with names as plain strings, for reading what other tools print.
enum GenericXML {
    final class Element {
        var namespace: String
        var name: String
        var text = ""
        var children: [Element] = []
        init(namespace: String, name: String) {
            self.namespace = namespace
            self.name = name
        }
    }

    final class Builder: NSObject, XMLParserDelegate {
        var stack: [Element] = []
        var root: Element?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            stack.append(Element(namespace: namespaceURI ?? "", name: elementName))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            let element = stack.removeLast()
            if !element.children.isEmpty { element.text = "" }  // indentation
            if let parent = stack.last { parent.children.append(element) } else { root = element }
        }
    }

    struct Failure: Error {}

    static func parse(_ data: Data) throws -> Element {
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        let builder = Builder()
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else { throw Failure() }
        return root
    }
}

/// Where libwbxml (Debian's libwbxml2, used by `eas-validate`) renders an EAS token differently
/// from Microsoft's table. Same token values, other names: when a checker built on libwbxml
/// complains about one of these elements, the token is right and the name is libwbxml's.
enum LibwbxmlDifferences {
    /// Microsoft's `Namespace:Name` (or a bare namespace) → libwbxml's name for the same token.
    static let names: [String: String] = [
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
    /// Elements whose text libwbxml prints as base64.
    static let base64Text: Set<String> = [
        "AirSyncBase:Content",
        "ComposeMail:Mime",
        "Email2:ConversationId",
        "Email2:ConversationIndex",
        "GAL:Data",
        "ItemOperations:ConversationId",
        "ResolveRecipients:Data",
        "Search:ConversationId",
    ]

    /// Walks our tree and libwbxml's together, noting where libwbxml's names or text rendering
    /// differ; anything else that differs is a test failure.
    static func compare(
        _ ours: EASElement, _ theirs: GenericXML.Element, renamed: inout [String: String], shownAsBase64: inout Set<String>
    ) throws {
        if theirs.namespace != ours.tag.namespace + ":" {
            renamed[ours.tag.namespace] = theirs.namespace
        }
        if theirs.name != ours.tag.name {
            renamed[ours.tag.description] = theirs.name
        }
        switch ours.content {
        case .text(let text) where theirs.text != text:
            let decoded = Base64.decode(theirs.text).map { String(decoding: $0, as: UTF8.self) }
            #expect(decoded == text, "text of \(ours.tag)")
            shownAsBase64.insert(ours.tag.description)
        case .text, .opaque:
            #expect(theirs.children.isEmpty, "\(ours.tag) holds no elements")
        case .empty:
            #expect(theirs.children.isEmpty && theirs.text.isEmpty, "\(ours.tag) is empty")
        case .children(let children):
            try #require(children.count == theirs.children.count, "children of \(ours.tag)")
            for (child, theirChild) in zip(children, theirs.children) {
                try compare(child, theirChild, renamed: &renamed, shownAsBase64: &shownAsBase64)
            }
        }
    }
}
