//! Reading an identity provider's SAML 2.0 metadata document (OASIS "Metadata for the
//! OASIS Security Assertion Markup Language (SAML) V2.0", saml-metadata-2.0-os)
//! the way Orchidea's "+ Add new IDP" needs it: the `entityID`, where to send
//! sign-in requests, and the certificates that sign the responses.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const SAML2_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The bindings a browser sign-in can use, the first preferred.
const SSO_BINDINGS: [&str; 2] = [
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
];
/// saml-metadata-2.0-os §2.3.2: `entityID` is at most 1024 characters.
const ENTITY_ID_MAX: usize = 1024;

/// What Orchidea keeps from an identity provider's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlMetadata {
    pub entity_id: String,
    /// The `SingleSignOnService` location (HTTP-Redirect, else HTTP-POST).
    pub sso_url: String,
    /// Base64 DER of each signing certificate, whitespace removed, in document order.
    pub signing_certificates: Vec<String>,
}

/// Why a document is refused; `Display` is the admin API's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("The metadata is not well-formed XML ({0}).")]
    NotXml(String),
    #[error("The document is not SAML 2.0 IdP metadata: {0}.")]
    NotSaml(String),
    #[error(
        "The metadata's IDPSSODescriptor has no signing certificate (a KeyDescriptor for signing with an X509Certificate)."
    )]
    NoSigningCertificate,
}

/// Reads `xml`. A DTD is refused (roxmltree's default), so entity
/// expansion cannot be abused.
pub fn parse_metadata(xml: &str) -> Result<SamlMetadata, MetadataError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| MetadataError::NotXml(e.to_string()))?;
    let root = doc.root_element();
    if !root.has_tag_name((MD, "EntityDescriptor")) {
        return Err(MetadataError::NotSaml(format!(
            "the root element is {}, not an EntityDescriptor in the SAML 2.0 metadata namespace",
            describe(root.tag_name())
        )));
    }
    let entity_id = root
        .attribute("entityID")
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| MetadataError::NotSaml("the EntityDescriptor has no entityID".into()))?;
    if entity_id.chars().count() > ENTITY_ID_MAX {
        return Err(MetadataError::NotSaml(format!(
            "the entityID is longer than {ENTITY_ID_MAX} characters"
        )));
    }
    let idp = root
        .children()
        .find(|n| {
            n.has_tag_name((MD, "IDPSSODescriptor"))
                && n.attribute("protocolSupportEnumeration")
                    .is_some_and(|p| p.split_whitespace().any(|p| p == SAML2_PROTOCOL))
        })
        .ok_or_else(|| {
            MetadataError::NotSaml(
                "it has no IDPSSODescriptor for the SAML 2.0 protocol (is it a service provider's metadata?)"
                    .into(),
            )
        })?;
    let sso_url = SSO_BINDINGS
        .iter()
        .find_map(|binding| {
            idp.children().find(|n| {
                n.has_tag_name((MD, "SingleSignOnService")) && n.attribute("Binding") == Some(binding)
            })
        })
        .and_then(|n| n.attribute("Location"))
        .map(str::trim)
        .ok_or_else(|| {
            MetadataError::NotSaml(
                "the IDPSSODescriptor has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding"
                    .into(),
            )
        })?;
    match url::Url::parse(sso_url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => {}
        _ => {
            return Err(MetadataError::NotSaml(format!(
                "the SingleSignOnService location \"{}\" is not an http(s) URL",
                sso_url.chars().take(80).collect::<String>()
            )));
        }
    }
    let mut signing_certificates = Vec::new();
    // §2.4.1.1: a KeyDescriptor without `use` serves signing and encryption.
    for key in idp.children().filter(|n| {
        n.has_tag_name((MD, "KeyDescriptor")) && n.attribute("use").is_none_or(|u| u == "signing")
    }) {
        for cert in key
            .descendants()
            .filter(|n| n.has_tag_name((DS, "X509Certificate")))
        {
            let text: String = cert
                .text()
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let der = STANDARD.decode(&text).unwrap_or_default();
            // An X.509 certificate is a DER SEQUENCE (RFC 5280 §4.1).
            if der.len() < 64 || der.first() != Some(&0x30) {
                return Err(MetadataError::NotSaml(
                    "a signing X509Certificate is not a base64 DER certificate".into(),
                ));
            }
            signing_certificates.push(text);
        }
    }
    if signing_certificates.is_empty() {
        return Err(MetadataError::NoSigningCertificate);
    }
    Ok(SamlMetadata {
        entity_id: entity_id.to_string(),
        sso_url: sso_url.to_string(),
        signing_certificates,
    })
}

fn describe(name: roxmltree::ExpandedName<'_, '_>) -> String {
    match name.namespace() {
        Some(ns) => format!("{} ({ns})", name.name()),
        None => format!("{} (no namespace)", name.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../../tests/fixtures/saml/idp-metadata.xml");

    #[test]
    fn reads_entity_id_sso_url_and_the_idp_signing_certificate() {
        let m = parse_metadata(FIXTURE).unwrap();
        assert_eq!(
            m.entity_id,
            "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"
        );
        assert_eq!(
            m.sso_url,
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/saml2"
        );
        assert_eq!(m.signing_certificates.len(), 1, "not the RoleDescriptor's");
        assert!(m.signing_certificates[0].starts_with("MII"));
        assert!(FIXTURE.contains(&m.signing_certificates[0]));
    }

    #[test]
    fn certificate_line_breaks_and_a_keydescriptor_without_use_are_read() {
        let m = parse_metadata(FIXTURE).unwrap();
        let cert = &m.signing_certificates[0];
        let wrapped: String = cert
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\n            ");
        let xml = FIXTURE
            .replace(cert.as_str(), &wrapped)
            .replace("<KeyDescriptor use=\"signing\">\n      <KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\">\n        <X509Data>\n          <X509Certificate>MII", "<KeyDescriptor>\n      <KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\">\n        <X509Data>\n          <X509Certificate>MII");
        assert_eq!(&parse_metadata(&xml).unwrap().signing_certificates[0], cert);
    }

    #[test]
    fn a_post_only_idp_uses_the_post_location() {
        let xml = FIXTURE.replace(
            "<SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/saml2\" />",
            "",
        );
        assert!(xml.len() < FIXTURE.len());
        assert!(parse_metadata(&xml).is_ok());
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let not_saml = |xml: &str| match parse_metadata(xml) {
            Err(MetadataError::NotSaml(why)) => why,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            parse_metadata("<EntityDescriptor"),
            Err(MetadataError::NotXml(_))
        ));
        assert!(matches!(
            parse_metadata("{\"not\":\"xml\"}"),
            Err(MetadataError::NotXml(_))
        ));
        let dtd = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>";
        assert!(matches!(parse_metadata(dtd), Err(MetadataError::NotXml(_))));
        assert!(not_saml("<html><body>Sign in</body></html>").contains("html (no namespace)"));
        let no_ns = FIXTURE.replace(" xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\"", "");
        assert!(not_saml(&no_ns).contains("EntityDescriptor"));
        let no_id = FIXTURE.replace(
            "entityID=\"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/\"",
            "",
        );
        assert!(not_saml(&no_id).contains("entityID"));
        let sp = FIXTURE
            .replace("<IDPSSODescriptor", "<SPSSODescriptor")
            .replace("</IDPSSODescriptor>", "</SPSSODescriptor>");
        assert!(not_saml(&sp).contains("service provider"));
        let saml1 = FIXTURE.replace(
            "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"",
            "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:1.1:protocol\"",
        );
        assert!(not_saml(&saml1).contains("SAML 2.0 protocol"));
        let no_sso = FIXTURE.replace("<SingleSignOnService", "<ArtifactResolutionService");
        assert!(not_saml(&no_sso).contains("SingleSignOnService"));
        let bad_location = FIXTURE.replace(
            "Location=\"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/saml2\" />\n    <SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"",
            "Location=\"saml2\" />\n    <SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"",
        );
        assert!(not_saml(&bad_location).contains("\"saml2\""));
        let cert = parse_metadata(FIXTURE).unwrap().signing_certificates[0].clone();
        let bad_cert = FIXTURE.replace(&cert, "bm90IGEgY2VydGlmaWNhdGU=");
        assert!(not_saml(&bad_cert).contains("X509Certificate"));
    }

    #[test]
    fn metadata_without_a_signing_certificate_is_its_own_refusal() {
        let encryption = FIXTURE.replace(
            "<IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n    <KeyDescriptor use=\"signing\">",
            "<IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n    <KeyDescriptor use=\"encryption\">",
        );
        assert_ne!(encryption, FIXTURE);
        assert_eq!(
            parse_metadata(&encryption),
            Err(MetadataError::NoSigningCertificate)
        );
        let start = FIXTURE.find("<IDPSSODescriptor").unwrap();
        let key_start = start + FIXTURE[start..].find("<KeyDescriptor").unwrap();
        let key_end = key_start
            + FIXTURE[key_start..].find("</KeyDescriptor>").unwrap()
            + "</KeyDescriptor>".len();
        let none = format!("{}{}", &FIXTURE[..key_start], &FIXTURE[key_end..]);
        assert_eq!(
            parse_metadata(&none),
            Err(MetadataError::NoSigningCertificate)
        );
    }
}
