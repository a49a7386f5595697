//! The stand-in for Orchidea's workspace settings → Authentication (#17):
//! the IDP list with each SAML IDP's "Copy reply URL" (a read-only field),
//! and "+ Add new IDP" as a plain HTML form (name, the metadata file, the
//! four attribute names, email domains), as Orchidea's SSO article walks it.

use std::fmt::Write as _;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use url::Url;

use super::multipart::{self, Part};
use crate::sandbox::markup::escape;
use crate::sandbox::orchidea::{IdpRefusal, OnChange, SharedWorkspace};
use crate::services::orchidea::{Idp, NewSamlIdp, SamlAttributeNames};

/// Where the page lives, relative to the workspace URL.
pub const PATH: &str = "/admin/settings/authentication";

#[derive(Clone)]
struct PageState {
    ws: SharedWorkspace,
    /// Where the workspace is served: reply URLs are on its origin.
    served_at: Url,
    on_change: OnChange,
}

pub(super) fn router(ws: SharedWorkspace, served_at: Url, on_change: OnChange) -> Router {
    Router::new()
        .route(PATH, get(page).post(add))
        .with_state(PageState {
            ws,
            served_at,
            on_change,
        })
}

/// What the last form post did.
enum Outcome {
    Added(Idp),
    Refused(String),
}

async fn page(State(st): State<PageState>) -> Html<String> {
    Html(render(&st, None).await)
}

async fn add(State(st): State<PageState>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let form = multipart::boundary(content_type).and_then(|b| multipart::parse(&b, &body));
    let result = match form {
        Ok(parts) => {
            let new = from_form(&parts);
            st.ws.lock().await.add_saml_idp(&new)
        }
        Err(e) => Err(IdpRefusal::Invalid(format!(
            "The form could not be read: {e}."
        ))),
    };
    match result {
        Ok(idp) => {
            (st.on_change)();
            let body = render(&st, Some(Outcome::Added(idp))).await;
            (StatusCode::OK, Html(body)).into_response()
        }
        Err(refusal) => {
            let (status, _) = refusal.status_and_code();
            let body = render(&st, Some(Outcome::Refused(refusal.to_string()))).await;
            (status, Html(body)).into_response()
        }
    }
}

/// The form's fields as "+ Add new IDP" takes them; email domains are
/// separated by commas, semicolons or spaces.
fn from_form(parts: &[Part]) -> NewSamlIdp {
    let field = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
            .unwrap_or_default()
    };
    NewSamlIdp {
        name: field("name"),
        metadata_xml: field("metadata"),
        attributes: SamlAttributeNames {
            first_name: field("firstName"),
            last_name: field("lastName"),
            email: field("email"),
            user_id: field("userId"),
        },
        email_domains: field("emailDomains")
            .split([',', ';', ' ', '\n', '\r', '\t'])
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

async fn render(st: &PageState, outcome: Option<Outcome>) -> String {
    let ws = st.ws.lock().await;
    let mut rows = String::new();
    for idp in ws.idps_with_reply_urls(&st.served_at) {
        let id = escape(&idp.id);
        let _ = write!(
            rows,
            "<li id=\"idp-{id}\"><strong>{}</strong> ({}){}",
            escape(&idp.name),
            escape(&idp.kind),
            if idp.default { " — default" } else { "" }
        );
        if let Some(url) = &idp.reply_url {
            let _ = write!(
                rows,
                " <label>Copy reply URL <input readonly size=\"70\" id=\"reply-url-{id}\" value=\"{}\"></label>",
                escape(url)
            );
        }
        rows.push_str("</li>");
    }
    let result = match outcome {
        Some(Outcome::Added(idp)) => {
            let reply = ws
                .idps_with_reply_urls(&st.served_at)
                .into_iter()
                .find(|i| i.id == idp.id)
                .and_then(|i| i.reply_url)
                .unwrap_or_default();
            format!(
                "<section id=\"added\"><h2>IDP \"{}\" added</h2>\
                 <p><label>Copy reply URL <input readonly size=\"70\" id=\"new-reply-url\" value=\"{}\"></label></p>\
                 <p>Paste it in Entra as the Reply URL (Assertion Consumer Service URL), replacing the placeholder.</p></section>",
                escape(&idp.name),
                escape(&reply)
            )
        }
        Some(Outcome::Refused(message)) => format!("<p role=\"alert\">{}</p>", escape(&message)),
        None => String::new(),
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Authentication — {name}</title></head>\
         <body><h1>{name}: Authentication</h1><p>Sandbox stand-in for Orchidea's workspace settings → \
         Authentication.</p>{result}\
         <h2>Identity providers</h2><ul id=\"idps\">{rows}</ul>\
         <h2>+ Add new IDP</h2>\
         <form method=\"post\" enctype=\"multipart/form-data\">\
         <p><label>Name <input name=\"name\" required></label></p>\
         <p><label>Federation metadata file <input type=\"file\" name=\"metadata\" accept=\".xml,text/xml,application/xml\" required></label></p>\
         <p><label>First name attribute <input name=\"firstName\" required></label></p>\
         <p><label>Last name attribute <input name=\"lastName\" required></label></p>\
         <p><label>Email attribute <input name=\"email\" required></label></p>\
         <p><label>User id attribute <input name=\"userId\" required></label></p>\
         <p><label>Email domains for automatic user creation (optional, comma-separated) <input name=\"emailDomains\"></label></p>\
         <button type=\"submit\">Add IDP</button></form></body></html>",
        name = escape(&ws.name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_map_to_the_new_idp() {
        let part = |name: &str, data: &str| Part {
            name: name.into(),
            filename: None,
            data: data.as_bytes().to_vec(),
        };
        let new = from_form(&[
            part("name", "Entra"),
            part("metadata", "<x/>"),
            part("firstName", "g"),
            part("lastName", "s"),
            part("email", "e"),
            part("userId", "u"),
            part(
                "emailDomains",
                "contoso.com, fabrikam.com;x.org\nnorthwind.com",
            ),
        ]);
        assert_eq!(new.name, "Entra");
        assert_eq!(new.metadata_xml, "<x/>");
        assert_eq!(new.attributes.user_id, "u");
        assert_eq!(
            new.email_domains,
            ["contoso.com", "fabrikam.com", "x.org", "northwind.com"]
        );
        assert!(from_form(&[]).name.is_empty());
    }
}
