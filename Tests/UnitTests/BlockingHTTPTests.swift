import Testing
@testable import StageRuntime

@Suite("BlockingHTTP: the answer's headers as libcurl hands them over")
struct BlockingHTTPTests {
    @Test("names in one spelling, values trimmed, repeats joined, the status line and junk skipped")
    func headers() {
        let raw = "HTTP/1.1 429 Too Many Requests\r\nretry-after: 3\r\ncontent-TYPE:application/json \r\n"
            + "Set-Cookie: a=1\r\nset-cookie: b=2\r\nno colon here\r\nX-Empty:\r\n\r\n"
        let h = BlockingHTTP.parseHeaders(raw)
        #expect(h == ["Retry-After": "3", "Content-Type": "application/json", "Set-Cookie": "a=1, b=2", "X-Empty": ""])
        #expect(BlockingHTTP.parseHeaders("") == [:])
        #expect(BlockingHTTP.canonical("www-authenticate") == "Www-Authenticate")
    }
}
