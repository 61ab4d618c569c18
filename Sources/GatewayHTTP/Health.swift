import CancellableSleep
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// One dependency `/readyz` checks.
public struct ReadinessCheck: Sendable {
    public var name: String
    /// Throws when the dependency cannot serve now.
    public var check: @Sendable () async throws -> Void

    public init(name: String, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }
}

/// `/healthz` (the process answers) and `/readyz` (the state store and the IMAP server answer
/// too), for load balancers and orchestrators. No credentials; they tell nothing about users.
extension GatewayResponder {
    /// How long one readiness check may take.
    static let readinessTimeout: Duration = .seconds(5)

    func readiness() async -> Response {
        var lines: [String] = []
        var ready = true
        await withTaskGroup(of: (String, String?).self) { group in
            for item in readinessChecks {
                group.addTask {
                    await Self.outcome(of: item)
                }
            }
            for await (name, failure) in group {
                lines.append("\(name): \(failure ?? "ok")")
                if failure != nil { ready = false }
            }
        }
        lines.sort()
        var response = Self.text(ready ? .ok : .serviceUnavailable, lines.joined(separator: "\n") + "\n")
        if !ready { response.headers[.retryAfter] = "10" }
        return response
    }

    /// nil when the check passed in time, else why not. A check still running at the deadline
    /// is left to finish on its own: the answer does not wait for it.
    static func outcome(of item: ReadinessCheck) async -> (String, String?) {
        let first = FirstAnswer()
        let failure: String? = await withCheckedContinuation { continuation in
            first.wait(continuation)
            Task {
                do {
                    try await item.check()
                    first.answer(nil)
                } catch {
                    first.answer("down (\(error))")
                }
            }
            Task {
                await sleepUnlessCancelled(for: readinessTimeout)
                first.answer("no answer within \(readinessTimeout)")
            }
        }
        return (item.name, failure)
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.contentLength] = String(text.utf8.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Resumes a continuation with whichever answer comes first.
final class FirstAnswer: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<String?, Never>?, answered: Bool)>((nil, false))

    func wait(_ continuation: CheckedContinuation<String?, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func answer(_ value: String?) {
        let continuation = state.withLock { state -> CheckedContinuation<String?, Never>? in
            guard !state.answered else { return nil }
            state.answered = true
            return state.continuation
        }
        continuation?.resume(returning: value)
    }
}
