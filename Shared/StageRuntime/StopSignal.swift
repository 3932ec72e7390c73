import Foundation

/// A flag every loop of a stage checks between units of work; raised once by SIGTERM/SIGINT (or a test).
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false

    public init() {}

    public var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    public func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    /// Sleeps up to `millis`, waking early (in 50 ms steps) once stopped. Returns false when stopped.
    @discardableResult
    public func sleep(millis: Int) -> Bool {
        var left = millis
        while left > 0 {
            if isStopped { return false }
            let step = min(50, left)
            usleep(UInt32(step) * 1000)
            left -= step
        }
        return !isStopped
    }
}

/// Runs `body` on a dedicated OS thread (never Swift's cooperative pool: the body makes blocking C calls) and
/// returns a handle to wait for it.
public final class WorkerThread: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)

    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [done] in
            body()
            done.signal()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    public func join() { done.wait() }

    /// Waits up to `seconds`; true if the thread finished.
    public func join(timeoutSeconds: Double) -> Bool {
        done.wait(timeout: .now() + timeoutSeconds) == .success
    }
}

/// Ends the process after a clean shutdown. Not `exit()`: that runs static destructors while Foundation's
/// URLSession threads (libcurl underneath; payout's channel calls, notification's SMS) may still be winding down,
/// which can abort the process as it leaves. Everything durable is committed by now and logs are written unbuffered.
public func finishProcess(_ status: Int32) -> Never {
    fflush(nil)
    _exit(status)
}
