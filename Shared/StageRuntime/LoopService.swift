import Foundation
import ServiceLifecycle

/// One loop of a stage (the consumer, the relay, the timers, a sweep, the health listener) as a `Service` of the
/// process's one `ServiceGroup` (`StageRunner.run`).
///
/// The loops make blocking C calls (libpq, rabbitmq-c), so each runs on an OS thread of its own, never on Swift's
/// cooperative pool; the service awaits the thread. Graceful shutdown (SIGTERM/SIGINT, or the group draining after
/// another service failed) and cancellation raise the loop's stop signal: the loop finishes its unit of work in
/// hand (a window, a transaction) and returns. A loop that returns while nobody asked it to stop (a bug, a
/// dependency it cannot live without) throws `StageLoopEnded`, so the group drains the others and the process exits
/// non-zero for the orchestrator to restart it: a process that answers health checks but no longer does its part
/// is worse than a restart, since every commit is acked or redelivered and every outbox row is still there.
struct LoopService: Service, CustomStringConvertible {
    let name: String
    let stop: StopSignal
    let body: @Sendable () -> Void

    init(_ name: String, stop: StopSignal = StopSignal(), _ body: @escaping @Sendable () -> Void) {
        self.name = name
        self.stop = stop
        self.body = body
    }

    var description: String { name }

    func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                let thread = Thread { [body] in
                    body()
                    finished.resume()
                }
                thread.name = name
                thread.stackSize = 1 << 20
                thread.start()
            }
        } onCancelOrGracefulShutdown: { [stop] in
            stop.stop()
        }
        if !stop.isStopped { throw StageLoopEnded(loop: name) }
    }

    /// How the group treats it: either way of ending (asked to, or failing) drains the whole group.
    var configuration: ServiceGroupConfiguration.ServiceConfiguration {
        .init(service: self, successTerminationBehavior: .gracefullyShutdownGroup,
              failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: name)
    }
}

/// A loop of the stage returned although nobody asked it to stop.
public struct StageLoopEnded: Error, CustomStringConvertible {
    public let loop: String
    public var description: String { "the \(loop) loop ended unexpectedly; exiting so that the service is restarted" }
}
