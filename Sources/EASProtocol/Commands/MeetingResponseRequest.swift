/// [MS-ASCMD] 2.2.1.11 MeetingResponse: answers to meeting invitations, each naming the
/// invitation by CollectionId + RequestId (its ServerId) or by a Search LongId.
public struct MeetingResponseRequest: Hashable, Sendable {
    public struct Answer: Hashable, Sendable {
        /// 1 accepted, 2 tentatively accepted, 3 declined ([MS-ASCMD] 2.2.3.194).
        public var userResponse: Int
        public var collectionId: String?
        public var requestId: String?
        public var longId: String?
        public var instanceId: String?
        /// 16.0+: the server sends the answer to the organizer only when this is present.
        public var sendResponse: Bool
        /// 16.0+: the text the attendee added (SendResponse/airsyncbase:Body/Data).
        public var responseText: String?
    }

    public var answers: [Answer]

    /// Most answers read from one request.
    public static let maxAnswers = 100

    public init(_ element: EASElement) throws(EASRequestError) {
        typealias MR = EASTag.MeetingResponse
        try element.expect(MR.meetingResponse)
        let requests = element.children(MR.request)
        guard !requests.isEmpty, requests.count <= Self.maxAnswers else { throw EASRequestError("no or too many Request elements") }
        answers = try requests.map { request throws(EASRequestError) in
            guard let response = request.text(of: MR.userResponse).flatMap({ Int($0) }), (1...3).contains(response) else {
                throw EASRequestError("UserResponse must be 1, 2 or 3")
            }
            let send = request.child(MR.sendResponse)
            let text = send?.child(EASTag.AirSyncBase.body)?.child(EASTag.AirSyncBase.data)?.text
            let answer = Answer(userResponse: response, collectionId: request.text(of: MR.collectionId),
                                requestId: request.text(of: MR.requestId), longId: request.text(of: EASTag.Search.longId),
                                instanceId: request.text(of: MR.instanceId), sendResponse: send != nil, responseText: text)
            guard answer.longId != nil || (answer.collectionId != nil && answer.requestId != nil) else {
                throw EASRequestError("Request without CollectionId and RequestId, or LongId")
            }
            return answer
        }
    }
}
