import NIOCore

/// Runs tasks on one NIO event loop: the server's connections run on its own thread, as its
/// channel handlers did, rather than on the cooperative pool (two threads on our machines), which
/// the tests' own tasks keep busy. A slow test must not make the server slow to answer.
final class EventLoopTaskExecutor: TaskExecutor {
    private let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
