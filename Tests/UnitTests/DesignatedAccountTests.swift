import RefundModel
import Testing

/// The numbers a buyer may designate after a failed payout: the API checks them with these patterns and publishes
/// the same patterns in its OpenAPI document (schemathesis found the two disagreeing once).
@Suite("Designated accounts")
struct DesignatedAccountTests {
    @Test("cards of 12-19 digits and Alipay mobiles or e-mails, with spaces and dashes between digits")
    func numbers() {
        let cases: [(PaymentChannel, String, String?)] = [
            (.bankCard, "6222 0202 0011 2233 445", "6222020200112233445"),
            (.bankCard, "6222-0202-0011", "622202020011"),
            (.bankCard, "62220202001", nil),  // 11 digits
            (.bankCard, "62220202001122334455", nil),  // 20
            (.bankCard, "12ab", nil),
            (.alipay, "138-0000-1111", "13800001111"),
            (.alipay, "23800001111", nil),  // a mobile starts with 1
            (.alipay, "first-last@example.com", "first-last@example.com"),  // an address is kept as typed
            (.alipay, "a@@b.c", nil),
            (.alipay, "0", nil),
            (.wechat, "13800001111", nil),  // not a channel an account can be designated on
        ]
        for (channel, raw, expected) in cases {
            #expect(DesignatedAccount.normalized(raw, channel: channel) == expected, "\(channel) \(raw)")
        }
    }
}

/// One rule for mobiles and e-mails: the same function reads a buyer's contact and checks an Alipay account.
@Suite("Contact addresses")
struct ContactAddressTests {
    @Test("mobiles", arguments: [
        ("13800138000", "13800138000"), ("138 0013 8000", "13800138000"), ("138-0013-8000", "13800138000"),
        ("23800138000", nil), ("1380013800", nil), ("138001380001", nil), ("1380013800x", nil), ("", nil),
        ("+8613800138000", nil),
    ] as [(String, String?)])
    func mobiles(raw: String, expected: String?) {
        #expect(ContactAddress.mobile(raw) == expected)
        #expect(DesignatedAccount.normalized(raw, channel: .alipay) == expected)
    }

    @Test("e-mails", arguments: [
        ("buyer@example.com", "buyer@example.com"), (" buyer@example.com ", "buyer@example.com"),
        ("first.last+tag@mail.example.cn", "first.last+tag@mail.example.cn"), ("a@b", nil), ("a@@b.c", nil),
        ("x@example.com\r\nRCPT TO:<y@evil.test>", nil), ("<x@example.com>", nil), ("a b@example.com", nil),
        ("a;b@example.com", nil), ("名字@example.com", nil),
        (String(repeating: "a", count: 65) + "@example.com", nil),  // a local part of at most 64
    ] as [(String, String?)])
    func emails(raw: String, expected: String?) {
        #expect(ContactAddress.email(raw) == expected)
    }
}
