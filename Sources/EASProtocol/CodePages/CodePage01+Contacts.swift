extension EASCodePage {
    /// [MS-ASWBXML] 2.1.2.1.2: code page 1, namespace `Contacts`.
    public static let contacts = EASCodePage(
        number: 1,
        namespace: "Contacts",
        tokens: [
            (0x05, "Anniversary"),
            (0x06, "AssistantName"),
            (0x07, "AssistantPhoneNumber"),
            (0x08, "Birthday"),
            (0x0C, "Business2PhoneNumber"),
            (0x0D, "BusinessAddressCity"),
            (0x0E, "BusinessAddressCountry"),
            (0x0F, "BusinessAddressPostalCode"),
            (0x10, "BusinessAddressState"),
            (0x11, "BusinessAddressStreet"),
            (0x12, "BusinessFaxNumber"),
            (0x13, "BusinessPhoneNumber"),
            (0x14, "CarPhoneNumber"),
            (0x15, "Categories"),
            (0x16, "Category"),
            (0x17, "Children"),
            (0x18, "Child"),
            (0x19, "CompanyName"),
            (0x1A, "Department"),
            (0x1B, "Email1Address"),
            (0x1C, "Email2Address"),
            (0x1D, "Email3Address"),
            (0x1E, "FileAs"),
            (0x1F, "FirstName"),
            (0x20, "Home2PhoneNumber"),
            (0x21, "HomeAddressCity"),
            (0x22, "HomeAddressCountry"),
            (0x23, "HomeAddressPostalCode"),
            (0x24, "HomeAddressState"),
            (0x25, "HomeAddressStreet"),
            (0x26, "HomeFaxNumber"),
            (0x27, "HomePhoneNumber"),
            (0x28, "JobTitle"),
            (0x29, "LastName"),
            (0x2A, "MiddleName"),
            (0x2B, "MobilePhoneNumber"),
            (0x2C, "OfficeLocation"),
            (0x2D, "OtherAddressCity"),
            (0x2E, "OtherAddressCountry"),
            (0x2F, "OtherAddressPostalCode"),
            (0x30, "OtherAddressState"),
            (0x31, "OtherAddressStreet"),
            (0x32, "PagerNumber"),
            (0x33, "RadioPhoneNumber"),
            (0x34, "Spouse"),
            (0x35, "Suffix"),
            (0x36, "Title"),
            (0x37, "WebPage"),
            (0x38, "YomiCompanyName"),
            (0x39, "YomiFirstName"),
            (0x3A, "YomiLastName"),
            (0x3C, "Picture"),
            (0x3D, "Alias"),
            (0x3E, "WeightedRank"),
        ]
    )
}

extension EASTag {
    /// The tags of code page 1, `Contacts` ([MS-ASWBXML] 2.1.2.1.2).
    public enum Contacts {
        public static let anniversary = EASTag(known: 1, 0x05)
        public static let assistantName = EASTag(known: 1, 0x06)
        public static let assistantPhoneNumber = EASTag(known: 1, 0x07)
        public static let birthday = EASTag(known: 1, 0x08)
        public static let business2PhoneNumber = EASTag(known: 1, 0x0C)
        public static let businessAddressCity = EASTag(known: 1, 0x0D)
        public static let businessAddressCountry = EASTag(known: 1, 0x0E)
        public static let businessAddressPostalCode = EASTag(known: 1, 0x0F)
        public static let businessAddressState = EASTag(known: 1, 0x10)
        public static let businessAddressStreet = EASTag(known: 1, 0x11)
        public static let businessFaxNumber = EASTag(known: 1, 0x12)
        public static let businessPhoneNumber = EASTag(known: 1, 0x13)
        public static let carPhoneNumber = EASTag(known: 1, 0x14)
        public static let categories = EASTag(known: 1, 0x15)
        public static let category = EASTag(known: 1, 0x16)
        public static let children = EASTag(known: 1, 0x17)
        public static let child = EASTag(known: 1, 0x18)
        public static let companyName = EASTag(known: 1, 0x19)
        public static let department = EASTag(known: 1, 0x1A)
        public static let email1Address = EASTag(known: 1, 0x1B)
        public static let email2Address = EASTag(known: 1, 0x1C)
        public static let email3Address = EASTag(known: 1, 0x1D)
        public static let fileAs = EASTag(known: 1, 0x1E)
        public static let firstName = EASTag(known: 1, 0x1F)
        public static let home2PhoneNumber = EASTag(known: 1, 0x20)
        public static let homeAddressCity = EASTag(known: 1, 0x21)
        public static let homeAddressCountry = EASTag(known: 1, 0x22)
        public static let homeAddressPostalCode = EASTag(known: 1, 0x23)
        public static let homeAddressState = EASTag(known: 1, 0x24)
        public static let homeAddressStreet = EASTag(known: 1, 0x25)
        public static let homeFaxNumber = EASTag(known: 1, 0x26)
        public static let homePhoneNumber = EASTag(known: 1, 0x27)
        public static let jobTitle = EASTag(known: 1, 0x28)
        public static let lastName = EASTag(known: 1, 0x29)
        public static let middleName = EASTag(known: 1, 0x2A)
        public static let mobilePhoneNumber = EASTag(known: 1, 0x2B)
        public static let officeLocation = EASTag(known: 1, 0x2C)
        public static let otherAddressCity = EASTag(known: 1, 0x2D)
        public static let otherAddressCountry = EASTag(known: 1, 0x2E)
        public static let otherAddressPostalCode = EASTag(known: 1, 0x2F)
        public static let otherAddressState = EASTag(known: 1, 0x30)
        public static let otherAddressStreet = EASTag(known: 1, 0x31)
        public static let pagerNumber = EASTag(known: 1, 0x32)
        public static let radioPhoneNumber = EASTag(known: 1, 0x33)
        public static let spouse = EASTag(known: 1, 0x34)
        public static let suffix = EASTag(known: 1, 0x35)
        public static let title = EASTag(known: 1, 0x36)
        public static let webPage = EASTag(known: 1, 0x37)
        public static let yomiCompanyName = EASTag(known: 1, 0x38)
        public static let yomiFirstName = EASTag(known: 1, 0x39)
        public static let yomiLastName = EASTag(known: 1, 0x3A)
        public static let picture = EASTag(known: 1, 0x3C)
        public static let alias = EASTag(known: 1, 0x3D)
        public static let weightedRank = EASTag(known: 1, 0x3E)
    }
}
