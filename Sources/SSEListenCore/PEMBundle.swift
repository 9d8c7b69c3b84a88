#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Checks that a `--cacert` file is what libcurl needs: a CA bundle in PEM format, with at least
/// one certificate block whose base64 decodes to DER. Pure: the caller reads the file.
///
/// Without the check, a wrong file (a DER certificate, a private key, a typo'd path to some
/// other text file) surfaces only at the TLS handshake, as a claim that the *server's*
/// certificate could not be verified.
enum PEMBundle {
    /// The labels OpenSSL reads as certificates.
    static let certificateLabels = ["CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"]

    /// Why `bytes` is not a PEM CA bundle, or `nil` when it holds a certificate.
    static func problem(with bytes: [UInt8], path: String) -> String? {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            return "it is empty"
        }
        if bytes.first == 0x30 {
            // A DER SEQUENCE: a binary certificate.
            return "it looks like a DER (binary) certificate; convert it with "
                + "'openssl x509 -inform der -in \(path) -out ca.pem'"
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var foundLabels: [String] = []
        var rest = text[...]
        while let begin = rest.firstRange(of: "-----BEGIN ") {
            guard let labelEnd = rest[begin.upperBound...].firstRange(of: "-----") else { break }
            let label = String(rest[begin.upperBound..<labelEnd.lowerBound])
            rest = rest[labelEnd.upperBound...]
            foundLabels.append(label)
            guard certificateLabels.contains(label) else { continue }
            guard let end = rest.firstRange(of: "-----END \(label)-----") else {
                return "its \(label) block has no END line"
            }
            let body = rest[..<end.lowerBound].filter { !$0.isWhitespace }
            rest = rest[end.upperBound...]
            guard let der = Data(base64Encoded: String(body)), der.first == 0x30 else {
                return "its \(label) block is not a base64 certificate"
            }
            return nil
        }
        if let label = foundLabels.first {
            return "it holds no certificate, only a \(label) block"
        }
        return "it holds no '-----BEGIN CERTIFICATE-----' block"
    }
}
