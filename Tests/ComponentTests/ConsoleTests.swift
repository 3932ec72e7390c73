import Foundation
import RefundModel
import Testing

extension Component.PayoutTests {
    /// The reviewer console (`/console`) in a real headless browser (Tests/console/console_test.py): a reviewer signs
    /// in, sees a case with its evidence, approves part of it and the refund is credited; a second reviewer decides
    /// an appeal the first may not; a buyer's credential cannot open it; evidence holding `<script>` is text.
    @Test("the reviewer console in a headless browser: partial approval credited, appeal to a second reviewer, buyers kept out, evidence escaped")
    func console() throws {
        let s = try Stack()
        defer { s.stop() }
        let up = s.upstream
        func manualCase(_ text: String) throws -> String {
            let o = TestStack.unique("console")
            try Component.IntakeAPITests.place(up, Component.IntakeAPITests.order(o, paid: 10_000))
            let body: [String: Any] = ["orderId": o, "lineId": "L1", "reason": RefundReason.notAsDescribed.rawValue,
                                       "evidence": [["kind": "product_page", "text": text],
                                                    ["kind": "difference_proof", "reference": "upload-1"]]]
            let r = try up.http("POST", "/v1/refunds", token: Component.IntakeAPITests.b1, body: up.json(body),
                                headers: ["Idempotency-Key": o])
            let id = try #require(r.json["id"] as? String, "\(r.status) \(r.json)")
            let waiting = try up.waitForRefund(id, token: Component.IntakeAPITests.b1) {
                $0["state"] as? String == "manual_review"
            }
            try #require(waiting["state"] as? String == "manual_review", "\(waiting)")
            return id
        }
        let caseId = try manualCase("<script>window.__pwned=1</script> \"描述不符\" ' OR 1=1 --")
        let appealId = try manualCase("the product page promised a year; I got a month")
        // The first reviewer rejected it; the buyer appealed.
        #expect(try up.http("POST", "/v1/review/\(appealId)/decision", token: Component.IntakeAPITests.r1,
                            body: up.json(["decision": "reject", "reason": "as described"])).status == 202)
        _ = try up.waitForRefund(appealId, token: Component.IntakeAPITests.b1) { $0["state"] as? String == "rejected" }
        let appealed = try up.http("POST", "/v1/refunds/\(appealId)/appeal", token: Component.IntakeAPITests.b1,
                                   body: up.json(["note": "please look again"]))
        #expect([200, 202].contains(appealed.status), "\(appealed.status) \(appealed.json)")
        _ = try up.waitForRefund(appealId, token: Component.IntakeAPITests.b1) { $0["state"] as? String == "appealed" }

        let shots = TestStack.repoRoot.appendingPathComponent(".stack/test/screenshots").path
        let run = try TestStack.run("/usr/bin/python3", [TestStack.repoRoot.appendingPathComponent("Tests/console/console_test.py").path],
                                    env: ["CONSOLE_URL": "http://127.0.0.1:\(up.httpPort)/console",
                                          "BUYER_TOKEN": Component.IntakeAPITests.b1, "REVIEWER_TOKEN": Component.IntakeAPITests.r1,
                                          "REVIEWER2_TOKEN": Component.IntakeAPITests.r2, "CASE_ID": caseId,
                                          "APPEAL_ID": appealId, "APPROVE_YUAN": "60.00", "SCREENSHOTS": shots])
        #expect(run.status == 0, "\(run.output)")
        // What the console did took effect: the partial approval is paid, the appeal decided.
        let credited = try up.waitForRefund(caseId, token: Component.IntakeAPITests.b1, seconds: 30) {
            $0["state"] as? String == "credited"
        }
        #expect((credited["amount"] as? [String: Any])?["minorUnits"] as? Int == 6_000, "\(credited)")
        let appeal = try up.waitForRefund(appealId, token: Component.IntakeAPITests.b1, seconds: 30) {
            ["approved", "processing", "credited"].contains($0["state"] as? String ?? "")
        }
        #expect(["approved", "processing", "credited"].contains(appeal["state"] as? String ?? ""), "\(appeal["state"] ?? "-")")
        for shot in ["console-queue.png", "console-case.png"] {
            #expect(FileManager.default.fileExists(atPath: shots + "/" + shot), "screenshot \(shot)")
        }
        // The page itself: served by intake, no script from elsewhere, not frameable.
        let page = try up.http("GET", "/console", token: nil)
        let csp = page.headers.first { $0.key.lowercased() == "content-security-policy" }?.value
        #expect(page.status == 200 && csp?.contains("frame-ancestors 'none'") == true, "\(page.headers)")
    }
}
