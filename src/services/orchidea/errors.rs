//! [`OrchideaError`]: the sentence the admin reads when Orchidea or a
//! pasted value is not right.

/// Everything that can go wrong talking to Orchidea or reading pasted values.
/// `Display` is the sentence the admin reads: what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrchideaError {
    #[error(
        "Orchidea rejected the admin API token (401). Create an admin API token in Orchidea's workspace admin and paste it again, or take the manual path: create the SCIM secret in Orchidea's web UI and paste the SCIM URL and secret."
    )]
    TokenRejected,
    #[error(
        "The admin API token is valid but may not do this (403: {message}). Use a token of a workspace admin, or take the manual path and create the SCIM secret in Orchidea's web UI."
    )]
    Forbidden { message: String },
    #[error(
        "Orchidea has no admin API at {url} (404). Check the workspace URL (the address you open Orchidea at, e.g. https://yourcompany.orchidea.com), or take the manual path."
    )]
    NotFound { url: String },
    #[error(
        "Orchidea has no SCIM secret with id \"{id}\" (404). Refresh the list of secrets; it may have been deleted."
    )]
    SecretNotFound { id: String },
    #[error(
        "Orchidea redirected the request to {location}. Use that address as the workspace URL (the wizard does not follow redirects, so the token is never sent elsewhere)."
    )]
    Redirected { location: String },
    #[error(
        "Could not reach Orchidea at {url}: {detail}. Check the workspace URL, your network and proxy settings, then retry."
    )]
    Transport { url: String, detail: String },
    #[error(
        "Orchidea answered HTTP {status} with a body the wizard does not understand ({detail}). The workspace may not offer the admin API: take the manual path and create the SCIM secret in Orchidea's web UI."
    )]
    UnexpectedResponse { status: u16, detail: String },
    #[error(
        "Orchidea refused the request (HTTP {status}, {code}): {message} Retry later; if it keeps failing, take the manual path."
    )]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    #[error(
        "The workspace has no identity providers. Add one in Orchidea (workspace admin → Authentication), then retry."
    )]
    NoIdps,
    #[error("The workspace has no IDP \"{wanted}\". Choose one of: {available}.")]
    IdpNotFound { wanted: String, available: String },
    #[error(
        "The workspace has several IDPs and none is marked default or is Microsoft Entra ID. Choose the one new users get: {available}."
    )]
    IdpChoiceNeeded { available: String },

    #[error(
        "The SCIM URL is empty. Paste the SCIM URL Orchidea shows under workspace admin → User management → SCIM."
    )]
    EmptyScimUrl,
    #[error(
        "\"{input}\" is not a URL. Paste the whole SCIM URL from Orchidea, starting with https://."
    )]
    NotAUrl { input: String },
    #[error(
        "The SCIM URL must use https:// (Entra only connects over HTTPS; http:// is accepted for this computer only). Paste the URL exactly as Orchidea shows it."
    )]
    NotHttps,
    #[error(
        "The SCIM URL points at this computer (localhost or 127.0.0.1). Entra runs in Microsoft's cloud and cannot reach it: paste the workspace's public https:// SCIM URL. Loopback addresses work only in the sandbox."
    )]
    LoopbackForRealTenant,
    #[error(
        "The SCIM URL contains a user name or password. Remove them: the SCIM secret goes in the secret field, not in the URL."
    )]
    CredentialsInUrl,
    #[error(
        "The SCIM URL has a query (?…) or fragment (#…). Paste it exactly as Orchidea shows it, ending in the SCIM base path (e.g. …/scim/v2)."
    )]
    QueryOrFragment,
    #[error(
        "Orchidea's admin API gave a SCIM URL the wizard does not use ({url}): {problem}. Nothing was changed in Entra.{revoked} Ask Orchidea's support about it, or take the manual path: paste the SCIM URL Orchidea's web UI shows."
    )]
    ApiScimUrl {
        /// Without user name or password, shortened.
        url: String,
        problem: String,
        /// " The SCIM secret it had just created was revoked." or empty.
        revoked: String,
    },
    #[error(
        "The SCIM secret is empty. Paste the secret Orchidea showed when you clicked \"Create new SCIM secret\"."
    )]
    EmptySecret,
    #[error(
        "The SCIM secret contains only spaces. Paste the secret Orchidea showed when you created it."
    )]
    BlankSecret,
    #[error(
        "The SCIM secret contains a line break, so part of another line was copied with it. Copy the secret again as a single line."
    )]
    SecretLineBreak,
    #[error(
        "The SCIM secret contains spaces inside it; Orchidea's secrets have none. Copy the secret again, without surrounding text."
    )]
    SecretInnerSpace,
    #[error("Paste only the secret itself, without the word \"Bearer\".")]
    SecretHasBearerPrefix,
    #[error(
        "That looks like a URL, not a secret. The SCIM URL and the SCIM secret go in separate fields."
    )]
    SecretLooksLikeUrl,

    // SSO (#17): the SAML IDP in Orchidea and its reply URL.
    #[error(
        "Orchidea has no SAML IDP with id \"{id}\" (404). It may have been deleted: add it again under workspace settings → Authentication → \"+ Add new IDP\"."
    )]
    IdpUnknown { id: String },
    #[error(
        "Orchidea already has an IDP named \"{name}\" (409). Choose another name, or use that IDP if it is the one for this Entra app."
    )]
    IdpNameTaken { name: String },
    #[error(
        "Orchidea keeps the IDP \"{id}\" because SCIM secrets that are not revoked use it (409). Revoke them first (workspace admin → User management → SCIM), then remove the IDP."
    )]
    IdpInUse { id: String },
    #[error(
        "Orchidea refused the federation metadata (400): {message} Download the app's Federation Metadata XML from Entra again (Single sign-on → SAML certificates) and upload it unchanged."
    )]
    MetadataRefused { message: String },
    #[error(
        "The federation metadata has no signing certificate, so Orchidea could not check Entra's SAML responses (400). Add a SAML signing certificate to the app in Entra (Single sign-on → SAML certificates), then download the metadata again."
    )]
    MetadataWithoutSigningCertificate,
    #[error(
        "Orchidea's admin API gave a reply URL the wizard does not use ({url}): {problem} Nothing was changed in Entra. Ask Orchidea's support about it, or take the manual path: paste the reply URL that \"Copy reply URL\" gives."
    )]
    ApiReplyUrl { url: String, problem: String },
    #[error(
        "The reply URL is empty. In Orchidea open workspace settings → Authentication, click \"Copy reply URL\" on the IDP you added and paste it here."
    )]
    EmptyReplyUrl,
    #[error(
        "\"{input}\" is not a URL. Paste the whole reply URL that \"Copy reply URL\" gives, starting with https://."
    )]
    ReplyUrlNotAUrl { input: String },
    #[error(
        "The reply URL contains a line break, so part of another line was copied with it. Copy it again with \"Copy reply URL\" and paste it as a single line."
    )]
    ReplyUrlLineBreak,
    #[error(
        "The reply URL contains spaces inside it; Orchidea's reply URLs have none. Copy it again with \"Copy reply URL\", without surrounding text."
    )]
    ReplyUrlInnerSpace,
    #[error(
        "The reply URL must use https:// (Entra sends SAML responses only to https:// reply URLs; http:// is accepted for this computer only). Paste it exactly as Orchidea shows it."
    )]
    ReplyUrlNotHttps,
    #[error(
        "The reply URL points at this computer (localhost or 127.0.0.1): that is a sandbox's. For a real tenant paste the reply URL of the IDP in your Orchidea workspace (https://app.orchidea.dev/api/saml/login/…)."
    )]
    ReplyUrlLoopbackForRealTenant,
    #[error(
        "The reply URL contains a user name or password. Copy it again with \"Copy reply URL\": Orchidea's reply URLs have none."
    )]
    ReplyUrlCredentials,
    #[error(
        "The reply URL has a query (?…) or fragment (#…). Paste it exactly as \"Copy reply URL\" gives it, ending in the IDP's id (…/api/saml/login/…)."
    )]
    ReplyUrlQueryOrFragment,
    #[error(
        "The reply URL's host {host} is not Orchidea's ({expected}). Copy it in Orchidea with \"Copy reply URL\" on the IDP you added."
    )]
    ReplyUrlHost { host: String, expected: String },
    #[error(
        "The reply URL's path {path} is not an Orchidea SAML reply path (/api/saml/login/…). Copy it with \"Copy reply URL\" on the IDP, not the workspace's address or sign-on URL."
    )]
    ReplyUrlPath { path: String },
    #[error(
        "That is the placeholder reply URL (…/api/saml/login/ without an IDP). Add the IDP in Orchidea first (workspace settings → Authentication → \"+ Add new IDP\"), then paste what its \"Copy reply URL\" gives."
    )]
    ReplyUrlPlaceholder,
}
