import MailUpstreamEtPan

/// libFuzzer's entry point: one input, read as an untagged response from the IMAP server by
/// the gateway's own FETCH reader. Properties checked: nothing crashes, hangs or leaks;
/// whatever is read has sorted flags without \Recent and no section number twice.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIMAPFetch(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = FetchResponseParser.fuzz(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
