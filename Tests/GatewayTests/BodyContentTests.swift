import Testing

@testable import Gateway

/// Bodies cut, converted and previewed: the byte-level shortcuts give what the character-level
/// rules ask for.
@Suite struct BodyContentTests {
    @Test func aCutEndsOnACharacterWithinTheByteLimit() {
        #expect(BodyContent.prefix("hello", utf8Bytes: 10) == "hello")
        #expect(BodyContent.prefix("hello", utf8Bytes: 3) == "hel")
        #expect(BodyContent.prefix("hello", utf8Bytes: 0) == "")
        // "é" is two bytes: a cut inside it drops it.
        #expect(BodyContent.prefix("aé", utf8Bytes: 2) == "a")
        #expect(BodyContent.prefix("aé", utf8Bytes: 3) == "aé")
        // A combining accent belongs to its letter: "e" + U+0301 is one character of 3 bytes.
        #expect(BodyContent.prefix("xe\u{301}y", utf8Bytes: 2) == "x")
        #expect(BodyContent.prefix("xe\u{301}y", utf8Bytes: 4) == "xe\u{301}")
        // A family emoji (several scalars joined) is never split.
        let family = "👨‍👩‍👧"
        #expect(BodyContent.prefix("a" + family + "b", utf8Bytes: 1 + family.utf8.count - 1) == "a")
        #expect(BodyContent.prefix("a" + family + "b", utf8Bytes: 1 + family.utf8.count) == "a" + family)
        for limit in 0...40 {
            let cut = BodyContent.prefix("Grüße, ☃ \u{301}" + family + " 日本語", utf8Bytes: limit)
            #expect(cut.utf8.count <= limit)
            #expect(("Grüße, ☃ \u{301}" + family + " 日本語").hasPrefix(cut))
        }
    }

    @Test func htmlBecomesTextAndTextBecomesEscapedHTML() {
        let html = "<html><head><style>p { color: red }</style></head><body><p>Grüße &amp; <b>hallo</b></p>"
            + "<script>alert(1)</script>日本<br/>end</body></html>"
        #expect(HTMLText.plain(fromHTML: html) == "\nGrüße & hallo\n日本\nend")
        #expect(MarkupEscaping.escaped("a < b & \"c\" > d — ☃") == "a &lt; b &amp; &quot;c&quot; &gt; d — ☃")
        #expect(HTMLText.html(fromPlain: "x<y") == "<html><body><pre>x&lt;y</pre></body></html>")
    }

    @Test func entitiesAreDecodedOnceEach() {
        // An escaped entity stays the text of the entity, whatever order the names are tried in.
        #expect(HTMLText.decodeEntities("&amp;lt;b&amp;gt;") == "&lt;b&gt;")
        #expect(HTMLText.decodeEntities("a&nbsp;b &quot;c&quot; it&#39;s &apos;d&apos;") == "a b \"c\" it's 'd'")
        #expect(HTMLText.decodeEntities("caf&#233; &#x263A; &#X41;") == "café ☺ A")
        // Unknown names, stray ampersands, NUL and surrogates stay as written.
        #expect(HTMLText.decodeEntities("AT&T &bogus; &#0; &#xD800; & ;") == "AT&T &bogus; &#0; &#xD800; & ;")
        #expect(HTMLText.decodeEntities("tail &amp") == "tail &amp")
    }

    @Test func previewIsOneLineOfTextAtMost255Characters() {
        #expect(BodyContent.previewLine("  Hello\n\n  world\t!") == "Hello world !")
        #expect(BodyContent.previewLine(String(repeating: "ab ", count: 200)).count == 255)
    }
}
