//! The self-signed X.509 certificate `addTokenSigningCertificate` makes
//! (`serviceprincipal-addtokensigningcertificate.md`): a fresh key pair,
//! subject and issuer the `CN=` display name, valid from now until the
//! requested end. Entra's are RSA 2048 (the C# sample on
//! `concepts/application-saml-sso-configure-api.md`); `ring` cannot make
//! RSA keys, so the sandbox's are ECDSA P-256 with SHA-256: still a real
//! certificate whose DER, thumbprint and metadata entry behave the same.
//! The private key is dropped: the sandbox signs no SAML responses.

use std::time::SystemTime;

use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

/// A certificate's public part, as Graph's `selfSignedCertificate` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCert {
    /// The DER certificate.
    pub der: Vec<u8>,
    /// SHA-1 of the DER, upper-case hex (Graph's `thumbprint`).
    pub thumbprint: String,
}

/// Why no certificate was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not make a signing certificate: {0}")]
pub struct CertError(&'static str);

/// A self-signed certificate for `common_name`, valid `not_before` to `not_after`.
pub fn self_signed(
    common_name: &str,
    not_before: SystemTime,
    not_after: SystemTime,
) -> Result<SigningCert, CertError> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| CertError("no key pair"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| CertError("unreadable key pair"))?;
    let mut serial = uuid::Uuid::new_v4().as_bytes().to_vec();
    serial[0] &= 0x7f; // a positive INTEGER
    serial[0] |= 0x01; // and no leading zero byte to strip
    let name = seq(&[set(&[seq(&[oid(OID_CN), utf8(common_name)])])]);
    let ecdsa_sha256 = seq(&[oid(OID_ECDSA_SHA256)]);
    let spki = seq(&[
        seq(&[oid(OID_EC_PUBLIC_KEY), oid(OID_P256)]),
        bit_string(pair.public_key().as_ref()),
    ]);
    // keyUsage digitalSignature, critical.
    let key_usage = seq(&[
        oid(OID_KEY_USAGE),
        tlv(0x01, &[0xff]),
        tlv(0x04, &tlv(0x03, &[0x07, 0x80])),
    ]);
    let tbs = seq(&[
        tlv(0xa0, &tlv(0x02, &[2])),
        tlv(0x02, &serial),
        ecdsa_sha256.clone(),
        name.clone(),
        seq(&[time(not_before), time(not_after)]),
        name,
        spki,
        tlv(0xa3, &seq(&[key_usage])),
    ]);
    let signature = pair
        .sign(&rng, &tbs)
        .map_err(|_| CertError("signing failed"))?;
    let der = seq(&[tbs, ecdsa_sha256, bit_string(signature.as_ref())]);
    let thumbprint = thumbprint(&der);
    Ok(SigningCert { der, thumbprint })
}

/// SHA-1 of `der` in upper-case hex, as Entra names certificates.
pub fn thumbprint(der: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    digest
        .as_ref()
        .iter()
        .fold(String::with_capacity(40), |mut s, b| {
            let _ = write!(s, "{b:02X}");
            s
        })
}

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];

/// One DER element: tag, definite length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | u8::try_from(bytes.len()).unwrap_or(0));
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &items.concat())
}

fn set(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x31, &items.concat())
}

fn oid(encoded: &[u8]) -> Vec<u8> {
    tlv(0x06, encoded)
}

fn utf8(text: &str) -> Vec<u8> {
    tlv(0x0c, text.as_bytes())
}

fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = vec![0];
    content.extend_from_slice(bytes);
    tlv(0x03, &content)
}

/// `UTCTime` through 2049, `GeneralizedTime` after (RFC 5280 4.1.2.5).
fn time(at: SystemTime) -> Vec<u8> {
    // `2026-12-04T21:40:00Z` → `20261204214000Z`
    let digits: String = humantime::format_rfc3339_seconds(at)
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'Z')
        .collect();
    if digits.as_str() < "2050" {
        tlv(0x17, digits.get(2..).unwrap_or_default().as_bytes())
    } else {
        tlv(0x18, digits.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_certificate_is_der_with_its_name_dates_and_a_fresh_key() {
        let start = humantime::parse_rfc3339("2026-12-04T21:40:00Z").unwrap();
        let end = start + Duration::from_secs((3 * 365 + 1) * 86_400);
        let a = self_signed("Orchidea SSO", start, end).unwrap();
        let b = self_signed("Orchidea SSO", start, end).unwrap();
        assert_ne!(a.der, b.der, "each call makes a new key pair");
        assert_eq!(a.der[0], 0x30);
        // The outer length covers exactly the rest.
        let len = usize::from(a.der[2]) << 8 | usize::from(a.der[3]);
        assert_eq!((a.der[1], len + 4), (0x82, a.der.len()));
        let find = |needle: &[u8]| a.der.windows(needle.len()).any(|w| w == needle);
        assert!(find(b"Orchidea SSO"));
        assert!(find(b"261204214000Z"), "UTCTime start");
        assert!(find(b"291204214000Z"), "three years on");
        assert_eq!(a.thumbprint.len(), 40);
        assert_eq!(a.thumbprint, thumbprint(&a.der));
        assert!(
            a.thumbprint
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
    }

    #[test]
    fn dates_from_2050_are_generalized_time_and_long_lengths_use_more_bytes() {
        let at = humantime::parse_rfc3339("2051-01-02T03:04:05Z").unwrap();
        assert_eq!(time(at), tlv(0x18, b"20510102030405Z"));
        let long = tlv(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        // The SHA-1 of "abc" (FIPS 180-2, appendix A).
        assert_eq!(
            thumbprint(b"abc"),
            "A9993E364706816ABA3E25717850C26C9CD0D89D"
        );
    }
}
