import CancellableSleep
import Synchronization
import Testing

@Suite struct CancellableSleepTests {
    @Test func sleepsTheWholeDurationWhenLeftAlone() async {
        let started = ContinuousClock.now
        await sleepUnlessCancelled(for: .milliseconds(200))
        let slept = ContinuousClock.now - started
        #expect(slept >= .milliseconds(200))
        // Upper bounds only tell "not the hour": a busy machine may start a task late.
        #expect(slept < .seconds(60))
    }

    @Test func aCancelledSleepReturnsAtOnce() async {
        let started = ContinuousClock.now
        let sleeper = Task { await sleepUnlessCancelled(for: .seconds(3600)) }
        try? await Task.sleep(for: .milliseconds(50))
        sleeper.cancel()
        await sleeper.value
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func aTaskCancelledBeforeItSleepsDoesNotWait() async {
        let sleeper = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            let started = ContinuousClock.now
            await sleepUnlessCancelled(for: .seconds(3600))
            return ContinuousClock.now - started
        }
        #expect(await sleeper.value < .seconds(60))
    }

    @Test func manySleepersCutShortAndOneLeftAloneAllReturnAsTheyShould() async {
        // Timers racing with cancellation: every sleeper ends, none twice (a double resume
        // would trap), and the one left alone still sleeps its time.
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for number in 0..<2_000 {
                group.addTask { await sleepUnlessCancelled(for: .milliseconds(number % 7)) }
            }
            let sleepers = (0..<2_000).map { _ in Task { await sleepUnlessCancelled(for: .seconds(600)) } }
            for sleeper in sleepers { sleeper.cancel() }
            for sleeper in sleepers { await sleeper.value }
            group.addTask { await sleepUnlessCancelled(for: .milliseconds(100)) }
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(100))
        #expect(elapsed < .seconds(120))
    }

    @Test func absurdDurationsDoNotTrap() async {
        let sleeper = Task { await sleepUnlessCancelled(for: .seconds(Int64.max)) }
        await sleepUnlessCancelled(for: .zero)
        await sleepUnlessCancelled(for: .seconds(-5))
        sleeper.cancel()
        await sleeper.value
    }

    @Test func aTimerFiresOnceAndACancelledOneNever() async {
        let fired = Atomic<Int>(0)
        let cancelledFired = Atomic<Int>(0)
        let timer = CancellableTimer(after: .milliseconds(50)) { fired.add(1, ordering: .relaxed) }
        let cancelled = CancellableTimer(after: .milliseconds(50)) { cancelledFired.add(1, ordering: .relaxed) }
        cancelled.cancel()
        // Waited for, not timed: a busy machine may run the timer late.
        for _ in 0..<3000 where fired.load(ordering: .relaxed) == 0 { await sleepUnlessCancelled(for: .milliseconds(10)) }
        await sleepUnlessCancelled(for: .milliseconds(200))
        #expect(fired.load(ordering: .relaxed) == 1)
        #expect(cancelledFired.load(ordering: .relaxed) == 0)
        timer.cancel()
    }
}
