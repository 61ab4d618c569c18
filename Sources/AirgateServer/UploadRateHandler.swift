import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request body arrives slower than a minimum average rate once a
/// grace period has passed (slow-loris uploads). It sits in the channel, so it holds for every
/// request: ones the gateway never reads the body of (401, 404) as much as accepted uploads.
/// Hummingbird's idle timeout alone is reset by every byte, so a client trickling a byte a
/// minute would hold the connection for as long as its declared length lasts.
final class UploadRateHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let minimumRate: Int
    private let grace: TimeAmount
    private var started: NIODeadline?
    private var received = 0
    private var watch: RepeatedTask?

    init(minimumRate: Int, grace: TimeAmount) {
        self.minimumRate = minimumRate
        self.grace = grace
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            started = .now()
            received = 0
            watch?.cancel()
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            watch = context.eventLoop.scheduleRepeatedTask(initialDelay: grace, delay: .seconds(1)) { _ in
                let (handler, context) = loopBound.value
                handler.check(context)
            }
        case .body(let buffer):
            received += buffer.readableBytes
        case .end:
            started = nil
            watch?.cancel()
            watch = nil
        }
        context.fireChannelRead(data)
    }

    private func check(_ context: ChannelHandlerContext) {
        guard let started else { return }
        let elapsed = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        if Double(received) < elapsed * Double(minimumRate) {
            watch?.cancel()
            watch = nil
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        watch?.cancel()
        watch = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watch?.cancel()
        watch = nil
    }
}

extension TimeAmount {
    /// The same length of time, to the millisecond.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .milliseconds(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
