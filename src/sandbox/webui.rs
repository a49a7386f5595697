//! The sandbox's stand-in for Orchidea's web UI (workspace admin → User
//! management → SCIM), so the guided manual path can be walked for real:
//! create a secret in the page, copy URL and secret, paste them into the
//! wizard. Served on loopback only, without sign-in (the sandbox's admin
//! is whoever runs it). [`authentication`] is workspace settings →
//! Authentication (#17): "+ Add new IDP" and "Copy reply URL".

pub mod authentication;
mod multipart;

use std::fmt::Write as _;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use url::Url;

use super::markup::escape;
use super::orchidea::{OnChange, SharedWorkspace};

/// Where the page lives, relative to the workspace URL.
pub const PATH: &str = "/admin/user-management/scim";

#[derive(Clone)]
struct PageState {
    ws: SharedWorkspace,
    scim_url: Url,
    on_change: OnChange,
}

pub fn router(ws: SharedWorkspace, scim_url: Url, on_change: OnChange) -> Router {
    Router::new()
        .route(PATH, get(page).post(create))
        .with_state(PageState {
            ws: ws.clone(),
            scim_url: scim_url.clone(),
            on_change: on_change.clone(),
        })
        .merge(authentication::router(ws, scim_url, on_change))
}

#[derive(Deserialize)]
struct CreateForm {
    idp: String,
}

async fn page(State(st): State<PageState>) -> Html<String> {
    Html(render(&st, None).await)
}

async fn create(State(st): State<PageState>, Form(form): Form<CreateForm>) -> Response {
    let created = st.ws.lock().await.create_secret(&form.idp);
    let Some((_, secret)) = created else {
        let body = render(&st, Some(Err(format!("Unknown IDP \"{}\".", form.idp)))).await;
        return (axum::http::StatusCode::BAD_REQUEST, Html(body)).into_response();
    };
    (st.on_change)();
    let body = render(&st, Some(Ok(secret.expose().to_string()))).await;
    // Shown once, like the real page: never cached.
    ([(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}

/// The page; `created` is the secret just made (shown once) or an error.
async fn render(st: &PageState, created: Option<Result<String, String>>) -> String {
    let ws = st.ws.lock().await;
    let mut options = String::new();
    for i in &ws.idps {
        let selected = if i.default { " selected" } else { "" };
        let _ = write!(
            options,
            "<option value=\"{}\"{selected}>{}</option>",
            escape(&i.id),
            escape(&i.name)
        );
    }
    let mut secrets = String::new();
    for s in &ws.secrets {
        let _ = write!(
            secrets,
            "<li>••••{} — IDP {} — created {}{}{}</li>",
            escape(&s.last4),
            escape(&s.idp_id),
            escape(&s.created_at),
            s.expires_at
                .as_deref()
                .map(|e| format!(" — expires {}", escape(e)))
                .unwrap_or_default(),
            if s.revoked { " (revoked)" } else { "" }
        );
    }
    let result = match created {
        Some(Ok(secret)) => format!(
            "<section id=\"created\"><h2>Copy both now</h2>\
             <p>SCIM URL: <code id=\"scim-url\">{}</code></p>\
             <p>SCIM secret: <code id=\"scim-secret\">{}</code></p>\
             <p>The secret is shown only once.</p></section>",
            escape(st.scim_url.as_str()),
            escape(&secret)
        ),
        Some(Err(message)) => format!("<p role=\"alert\">{}</p>", escape(&message)),
        None => String::new(),
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>SCIM — {name}</title></head>\
         <body><h1>{name}: SCIM</h1><p>Sandbox stand-in for Orchidea's workspace admin → \
         User management → SCIM tab.</p>{result}\
         <form method=\"post\"><label>Chosen IDP <select name=\"idp\">{options}</select></label> \
         <button type=\"submit\">Create new SCIM secret</button></form>\
         <h2>Secrets</h2><ul>{secrets}</ul></body></html>",
        name = escape(&ws.name)
    )
}
