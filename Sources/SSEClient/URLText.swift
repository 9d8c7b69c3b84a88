/// Small edits of URL text, without parsing the whole URL (it reaches libcurl as given).
enum URLText {
    /// `url` without the `user:password@` of its authority, if it has one.
    static func withoutUserInformation(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let authorityStart = schemeEnd.upperBound
        let authorityEnd = url[authorityStart...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        guard let at = url[authorityStart..<authorityEnd].lastIndex(of: "@") else { return url }
        var text = url
        text.removeSubrange(authorityStart...at)
        return text
    }
}
