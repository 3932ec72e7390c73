import Foundation
import RefundModel
import Testing

extension Component.SupplierTests {
    /// Issue 17 §2: the protocol document is a contract a supplier can implement from alone. Its examples validate
    /// against the schemas, and a client written from it in another language (Python, pika) gets every outcome,
    /// including a refused reply it then corrects, with every message the platform sent it valid by the schemas.
    @Test("PROTOCOL.md's examples validate against the schemas, which refuse what the document refuses")
    func protocolExamples() throws {
        let run = try TestStack.run("/usr/bin/python3", [
            TestStack.repoRoot.appendingPathComponent("Tests/supplier-client/protocol_examples_test.py").path,
        ])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("0 failures"), "\(run.output)")
    }

    @Test("the Python client from PROTOCOL.md: every answer has its effect; a refused reply is told and corrected")
    func pythonClient() throws {
        // Onboarded as an operator would: `scripts/stack add-supplier` creates the user and prints its password.
        let supplier = "sup-py"
        let added = try TestStack.run(TestStack.repoRoot.appendingPathComponent("scripts/stack").path,
                                      ["add-supplier", supplier], env: ["STACK_NAME": TestStack.stackName])
        try #require(added.status == 0, "\(added.output)")
        let password = try #require(added.output.firstMatch(of: /password (\S+),/)?.1, "\(added.output)")
        #expect(added.output.contains("supplier.\(supplier)"))

        let (s, sandbox) = try Self.start(extraSuppliers: [supplier], answerSeconds: 30)
        defer { Self.stop(s, sandbox) }
        let verified = Verified()
        let before = try Self.stats()
        let answers = ["confirmed", "used", "partial:4000", "unknown-order", "fix:partial:2500"]
        let orders = Dictionary(uniqueKeysWithValues: answers.map { ($0, TestStack.unique("py")) })
        let answersFile = NSTemporaryDirectory() + "answers-\(UUID().uuidString.prefix(6)).json"
        try JSONSerialization.data(withJSONObject: Dictionary(uniqueKeysWithValues: orders.map { ($1, $0) }))
            .write(to: URL(fileURLWithPath: answersFile))

        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        client.arguments = [TestStack.repoRoot.appendingPathComponent("Tools/supplier-client/supplier_client.py").path,
                            "--supplier", supplier, "--answers", answersFile]
        let port = try TestStack.setting("AMQP_PORT")
        client.environment = ProcessInfo.processInfo.environment.merging([
            "SUPPLIER_AMQP_URL": "amqp://supplier.\(supplier):\(password)@127.0.0.1:\(port)/refunds",
        ]) { $1 }
        let log = NSTemporaryDirectory() + "py-client-\(UUID().uuidString.prefix(6)).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        client.standardOutput = FileHandle(forWritingAtPath: log)
        client.standardError = FileHandle(forWritingAtPath: log)
        try client.run()
        defer {
            client.terminate()
            client.waitUntilExit()
        }
        func events(_ kind: String) -> [[String: Any]] {
            ServiceProcesses.read(log).split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }.filter { $0["event"] as? String == kind }
        }
        try #require(TestStack.eventually(20) { !events("consuming").isEmpty }, "\(ServiceProcesses.read(log))")

        var refunds: [String: String] = [:]
        for answer in answers {
            refunds[answer] = try Self.refund(s, supplier: supplier, orderId: orders[answer]!)
        }
        #expect(try verified.wait(refunds["confirmed"]!)?.outcome == .confirmed)
        let partial = try verified.wait(refunds["partial:4000"]!)
        #expect(partial?.outcome == .partial && partial?.amount.minorUnits == 6_000, "40 % used: ¥60 back")
        #expect(try verified.wait(refunds["unknown-order"]!)?.outcome == .unknownOrder)
        // Refused (partial without usedBp), told so on its queue with the deadline, corrected in time: it counts.
        let fixed = try verified.wait(refunds["fix:partial:2500"]!)
        #expect(fixed?.outcome == .partial && fixed?.amount.minorUnits == 7_500, "\(String(describing: fixed))")
        let used = try s.waitForRefund(refunds["used"]!, token: Component.IntakeAPITests.b1) { ($0["state"] as? String) == "disputed" }
        #expect(used["state"] as? String == "disputed", "the buyer's activation-failure log contradicts 'used'")

        // What the client saw: five requests and one refusal, all valid by the schemas, on its own queue.
        let requests = events("request"), refused = events("refused"), replied = events("replied")
        #expect(requests.count == 5, "\(requests)")
        for r in requests + refused {
            #expect((r["problems"] as? [Any])?.isEmpty == true, "schema violations: \(r)")
        }
        #expect(requests.allSatisfy { $0["routingKey"] as? String == Topology.Key.supplierRequest(supplier: supplier) })
        // One case everywhere: the envelope id, its AMQP message_id and the ids inside, all lower case and equal.
        for r in requests {
            let ids = ["id", "messageId", "requestId", "refundId"].compactMap { r[$0] as? String }
            #expect(ids.count == 4 && ids.allSatisfy { $0 == $0.lowercased() }, "\(r)")
            #expect(r["id"] as? String == r["messageId"] as? String, "\(r)")
        }
        #expect(refused.count == 1, "\(refused)")
        #expect((refused.first?["reason"] as? String)?.contains("usedBp") == true, "\(refused)")
        #expect(refused.first?["answerBy"] as? String != nil, "the request was still open")
        #expect(refused.first?["routingKey"] as? String == Topology.Key.supplierReplyRefused(supplier: supplier))
        #expect(replied.count == 6, "five answers and one correction: \(replied)")
        // The client's own replies are valid too, except the deliberately faulty one.
        #expect(replied.filter { ($0["problems"] as? [Any])?.isEmpty == false }.count == 1, "\(replied)")

        let after = try Self.stats()
        #expect(Self.delta(before, after, supplier, "refusedReplies") == 1)
        #expect(Self.delta(before, after, supplier, "answeredInTime") == 5, "\(after[supplier] ?? [:])")
        // The operators' tool shows the same record.
        let tool = try TestStack.run(TestStack.binPath + "/refundctl", ["supplier", "stats", "--json"],
                                     env: ["REFUNDCTL_DATABASE_URL": try TestStack.databaseURL()])
        #expect(tool.status == 0, "\(tool.output)")
        let rows = ((try? JSONSerialization.jsonObject(with: Data(tool.output.utf8))) as? [String: Any])?["suppliers"]
            as? [[String: Any]] ?? []
        let mine = rows.first { $0["supplierId"] as? String == supplier }
        #expect(mine?["refusedReplies"] as? Int == after[supplier]?["refusedReplies"] as? Int, "\(tool.output)")
        #expect(mine?["answeredInTime"] as? Int == after[supplier]?["answeredInTime"] as? Int)
    }
}
