/// Turns a run's observations into the report: every check, in ``VerifyReport/checkIDs`` order.
enum VerifyJudgement {
    static func report(url: String, _ observations: VerifyProbe.Observations, unknownID: String) -> VerifyReport {
        let stream = observations.stream
        let status = StreamChecks.status(stream)
        guard status.status == .pass, let head = stream.head else {
            let skipped = VerifyReport.checkIDs.dropFirst().map {
                VerifyCheck($0, .skip, "not checked: the first request got no event stream")
            }
            return VerifyReport(url: url, checks: [status] + skipped, reachedStream: false)
        }
        let blocks = stream.blocks
        let ids = StreamChecks.ids(blocks)
        let hasIDs = ids.status != .skip && blocks.contains { $0.isEvent && ($0.id ?? "") != "" }
        var checks = [
            status,
            StreamChecks.cacheControl(head),
            StreamChecks.contentLength(stream, head: head),
            StreamChecks.compression(stream, head: head),
            StreamChecks.accelBuffering(head),
            ids,
            StreamChecks.heartbeat(stream, blocks: blocks),
            StreamChecks.buffering(blocks),
            ResumeChecks.judge(observations.fin, witness: observations.events, hasIDs: hasIDs),
            ResumeChecks.judge(observations.rst, witness: observations.events, hasIDs: hasIDs),
            ResumeChecks.unknownID(observations.unknownID, sent: unknownID),
            StreamChecks.retryField(blocks),
        ]
        if stream.truncated {
            checks = checks.map { check in
                guard check.id.hasPrefix("stream.") || check.id == "retry.field" else { return check }
                var check = check
                check.detail += " (the first \(VerifyProbe.recordingLimit >> 20) MiB of the body)"
                return check
            }
        }
        return VerifyReport(url: url, checks: checks, reachedStream: true)
    }
}
