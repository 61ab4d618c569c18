import EASProtocol
import SyncState

/// [MS-ASCMD] 2.2.1.18 Settings: DeviceInformation Set and UserInformation Get, which iOS
/// sends before anything else; Oof Get/Set (automatic replies, kept in Sieve); DevicePassword
/// and RightsManagementInformation acknowledged.
extension Gateway {
    typealias ST = EASTag.Settings

    func settings(_ context: RequestContext) async throws -> EASResponse {
        guard let body = context.request.body, body.tag == ST.settings else {
            return .ok(EASElement(ST.settings, children: [EASElement(ST.status, text: "2")]))
        }
        var answers: [EASElement] = [EASElement(ST.status, text: "1")]
        for child in body.children {
            switch child.tag {
            case ST.deviceInformation:
                if let set = child.child(ST.set) {
                    var device = context.device
                    device.information = DeviceInformation(
                        model: set.child(ST.model)?.text, imei: set.child(ST.imei)?.text,
                        friendlyName: set.child(ST.friendlyName)?.text, os: set.child(ST.os)?.text,
                        osLanguage: set.child(ST.osLanguage)?.text, phoneNumber: set.child(ST.phoneNumber)?.text,
                        mobileOperator: set.child(ST.mobileOperator)?.text, userAgent: set.child(ST.userAgent)?.text)
                    try await store.saveDevice(device)
                }
                answers.append(EASElement(ST.deviceInformation, children: [EASElement(ST.status, text: "1")]))
            case ST.userInformation:
                var get: [EASElement]
                if context.version >= .v14_1 {
                    get = [EASElement(ST.accounts, children: [EASElement(ST.account, children: [
                        EASElement(ST.userDisplayName, text: context.account.emailAddress),
                        EASElement(ST.emailAddresses, children: [
                            EASElement(ST.primarySmtpAddress, text: context.account.emailAddress),
                        ]),
                    ])])]
                } else {
                    get = [EASElement(ST.emailAddresses, children: [EASElement(ST.smtpAddress, text: context.account.emailAddress)])]
                }
                answers.append(EASElement(ST.userInformation, children: [
                    EASElement(ST.status, text: "1"), EASElement(ST.get, children: get),
                ]))
            case ST.oof:
                answers.append(await outOfOffice(child, context))
            case ST.devicePassword:
                // The recovery password is not kept: the policy never asks for recovery
                // (PasswordRecoveryEnabled is not sent), so there is nobody to give it to.
                answers.append(EASElement(ST.devicePassword, children: [EASElement(ST.status, text: "1")]))
            case ST.rightsManagementInformation:
                // No rights-management templates exist here: an empty list.
                answers.append(EASElement(ST.rightsManagementInformation, children: [
                    EASElement(ST.status, text: "1"),
                    EASElement(ST.get, children: [EASElement(EASTag.RightsManagement.rightsManagementTemplates, children: [])]),
                ]))
            default:
                // Not a Settings part: nothing to answer for it.
                continue
            }
        }
        return .ok(EASElement(ST.settings, children: answers))
    }
}
