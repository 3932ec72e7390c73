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

/// Ends the process after a clean shutdown. Not `exit()`: that runs static destructors while other threads (a
/// channel call or an SMS still in libcurl, a NIO event loop) may still be winding down, which can abort the
/// process as it leaves. Everything durable is committed by now and logs are written unbuffered.
public func finishProcess(_ status: Int32) -> Never {
    fflush(nil)
    _exit(status)
}
