import Testing

@testable import Gateway

/// The line Sync requests of one collection wait in.
@Suite struct CollectionQueueTests {
    /// A counter whose read and write are apart by a suspension, so that two holders at once
    /// would lose updates.
    actor SlowCounter {
        private(set) var values: [String: Int] = [:]
        private(set) var inside: [String: Int] = [:]
        private(set) var mostInside = 0

        func read(_ key: String) -> Int {
            inside[key, default: 0] += 1
            mostInside = max(mostInside, inside[key]!)
            return values[key, default: 0]
        }

        func write(_ key: String, _ value: Int) {
            values[key] = value
            inside[key, default: 0] -= 1
        }
    }

    @Test func oneHolderPerKeyAndNothingKeptAfterwards() async throws {
        let queue = CollectionQueue<String>()
        let counter = SlowCounter()
        let keys = ["a", "b", "c"]
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<300 {
                group.addTask {
                    let key = keys[index % keys.count]
                    await queue.inLine(key) {
                        let value = await counter.read(key)
                        await Task.yield()
                        await counter.write(key, value + 1)
                    }
                }
            }
        }
        #expect(await counter.values == ["a": 100, "b": 100, "c": 100])
        #expect(await counter.mostInside == 1)
        #expect(queue.count == 0)
    }

    @Test func aThrowingHolderStillHandsTheKeyOn() async throws {
        struct Failure: Error {}
        let queue = CollectionQueue<Int>()
        await #expect(throws: Failure.self) {
            try await queue.inLine(1) { throw Failure() }
        }
        let value = await queue.inLine(1) { 7 }
        #expect(value == 7)
        #expect(queue.count == 0)
    }
}
