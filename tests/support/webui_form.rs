//! The sandbox's stand-in for Orchidea's Authentication page, used as an
//! admin would: "+ Add new IDP" as a browser posts the form, and the reply
//! URL "Copy reply URL" gives.

use std::fmt::Write as _;

use orchidea_wizard::sandbox::webui::authentication;
use orchidea_wizard::services::orchidea::SamlAttributeNames;

/// A `multipart/form-data` body as a browser sends the form.
pub fn form(fields: &[(&str, &str)], metadata: &str) -> (String, Vec<u8>) {
    let boundary = "----sandboxFormBoundaryQ7xv";
    let mut body = String::new();
    for (name, value) in fields {
        let _ = write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
    }
    let _ = write!(
        body,
        "--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"; filename=\"Orchidea.xml\"\r\nContent-Type: text/xml\r\n\r\n{metadata}\r\n--{boundary}--\r\n"
    );
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

/// The `value` of the read-only input with `id` in `html`.
pub fn input_value(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[at..];
    let start = rest.find("value=\"")? + "value=\"".len();
    Some(rest[start..start + rest[start..].find('"')?].replace("&amp;", "&"))
}

/// "+ Add new IDP" on the page at `orchidea` with Entra's default claim
/// names and `email_domains`; returns the new IDP's reply URL as the page
/// shows it.
pub async fn add_idp_by_hand(
    orchidea: &url::Url,
    name: &str,
    email_domains: &str,
    metadata: &str,
) -> String {
    let page = orchidea.join(authentication::PATH).unwrap();
    let a = SamlAttributeNames::entra_default_claims();
    let fields = [
        ("name", name),
        ("firstName", a.first_name.as_str()),
        ("lastName", a.last_name.as_str()),
        ("email", a.email.as_str()),
        ("userId", a.user_id.as_str()),
        ("emailDomains", email_domains),
    ];
    let (content_type, body) = form(&fields, metadata);
    let answer = orchidea_wizard::platform::http::loopback_client()
        .post(page)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let html = answer.text().await.unwrap();
    input_value(&html, "new-reply-url").expect("the new IDP's reply URL")
}
