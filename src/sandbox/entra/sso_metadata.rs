//! The federation metadata the sign-in side serves for one app, no token
//! needed: `GET {login}/{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid={appId}`
//! (`concepts/application-saml-sso-configure-api.md`, step 6). The
//! document is the concept page's example's shape: Entra's entity id
//! `https://sts.windows.net/{tenant-id}/`, the app's signing certificate
//! as a `KeyDescriptor use="signing"`, and the SAML endpoints
//! `{login}/{tenant-id}/saml2`. Entra signs the document; the sandbox does
//! not (no `Signature` element).

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::graph::AppState;
use crate::sandbox::markup::escape;

#[derive(serde::Deserialize)]
pub(crate) struct MetadataQuery {
    #[serde(default)]
    appid: Option<String>,
}

fn refuse(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_string(),
    )
        .into_response()
}

/// The metadata of `appid` in the tenant named by id or verified domain.
/// Assumed refusals (Entra's own answers are not published): another
/// tenant → 400; no `appid` → 400 (Entra then serves the tenant's default
/// keys, which the sandbox does not model); an app the tenant does not
/// have or has not replicated yet → 404. An app without a certificate
/// gets a document without a signing key.
pub(crate) async fn federation_metadata(
    State(shared): State<AppState>,
    Path(tenant): Path<String>,
    Query(query): Query<MetadataQuery>,
) -> Response {
    let entra = shared.entra.lock().await;
    let tenant_id = entra.tenant.id.clone();
    if !tenant.eq_ignore_ascii_case(&tenant_id)
        && !tenant.eq_ignore_ascii_case(&entra.tenant.domain)
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            &format!("AADSTS90002: Tenant '{tenant}' not found."),
        );
    }
    let Some(app_id) = query.appid.filter(|a| !a.trim().is_empty()) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "The sandbox serves app metadata only: add ?appid={application id}.",
        );
    };
    let Some(sp) = entra
        .service_principals
        .iter()
        .find(|sp| sp.app_id.eq_ignore_ascii_case(app_id.trim()))
        .filter(|sp| entra.replicated(&sp.id))
    else {
        return refuse(
            StatusCode::NOT_FOUND,
            &format!(
                "AADSTS700016: Application with identifier '{app_id}' was not found in the directory."
            ),
        );
    };
    let certificate = sp.sso.active_certificate().map(|c| c.key.clone());
    let saml2 = format!(
        "{}/{tenant_id}/saml2",
        shared.login_url.as_str().trim_end_matches('/')
    );
    let xml = document(&tenant_id, certificate.as_deref(), &saml2);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// The `EntityDescriptor`; `certificate` is base64 DER.
pub fn document(tenant_id: &str, certificate: Option<&str>, saml2: &str) -> String {
    let key = certificate.map_or_else(String::new, |c| {
        format!(
            "<KeyDescriptor use=\"signing\"><KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><X509Data><X509Certificate>{c}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>"
        )
    });
    let saml2 = escape(saml2);
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<EntityDescriptor xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\" ID=\"_{id}\" entityID=\"https://sts.windows.net/{tenant}/\">\
<IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">{key}\
<SingleLogoutService Binding=\"{REDIRECT}\" Location=\"{saml2}\"/>\
<SingleSignOnService Binding=\"{REDIRECT}\" Location=\"{saml2}\"/>\
<SingleSignOnService Binding=\"{POST}\" Location=\"{saml2}\"/>\
</IDPSSODescriptor></EntityDescriptor>",
        id = uuid::Uuid::new_v4(),
        tenant = escape(tenant_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_names_the_tenant_the_certificate_and_the_endpoints() {
        let xml = document("t-1", Some("MIIB"), "http://127.0.0.1:9/t-1/saml2");
        assert!(xml.contains("entityID=\"https://sts.windows.net/t-1/\""));
        assert!(xml.contains("<KeyDescriptor use=\"signing\">"));
        assert!(xml.contains("<X509Certificate>MIIB</X509Certificate>"));
        assert_eq!(
            xml.matches("Location=\"http://127.0.0.1:9/t-1/saml2\"")
                .count(),
            3
        );
        let bare = document("t-1", None, "x&y");
        assert!(!bare.contains("KeyDescriptor"));
        assert!(bare.contains("Location=\"x&amp;y\""));
    }
}
