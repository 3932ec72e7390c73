import RefundModel
import Testing

@Suite("Personal data masking")
struct PersonalDataTests {
    @Test("phones, e-mails and account numbers are masked", arguments: [
        ("call 13812345678 now", "call 138****5678 now"),
        ("mail li.lei+x@example.com.cn", "mail ***@example.com.cn"),
        ("card 6222 0212 3456 7890 123", "card ***************0123"),
        ("acct=6222021234567890", "acct=************7890"),
        ("电话13812345678", "电话138****5678"),
    ])
    func masked(input: String, expected: String) {
        #expect(PersonalData.mask(input) == expected)
    }

    @Test("identifiers and amounts stay readable", arguments: [
        "refund 0a1b2c3d-1234-5678-9012-abcdef123456", "amount 49900 fen", "order ORD-202611220001",
        "2026-11-22T02:36:41Z",
    ])
    func untouched(input: String) {
        #expect(PersonalData.mask(input) == input)
    }
}
