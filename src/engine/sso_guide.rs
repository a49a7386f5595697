//! Step 0's words for the admin on the manual path: Orchidea's
//! "+ Add new IDP" from the saved federation metadata, then the reply URL
//! back to the wizard. Pure, so the window and the CLI show the same text.

use std::path::Path;

use crate::services::orchidea::SamlAttributeNames;
use crate::services::orchidea::sso::add_idp_steps;

/// The federation metadata file step 0 saves for the admin to upload.
pub const METADATA_FILE: &str = "orchidea-federation-metadata.xml";

/// How step 0's warning about that file starts (saved, or not): the window
/// shows it beside the manual path's fields.
pub const METADATA_NOTE: &str = "Entra's federation metadata for Orchidea";

/// Why step 0 stopped on the manual path, and what to do, in full.
pub fn reply_url_needed(metadata: Option<&Path>) -> String {
    let claims = SamlAttributeNames::entra_default_claims();
    // Not saved here: the admin downloads it from Entra instead.
    let fallback = Path::new(
        "the app's Federation Metadata XML (Entra admin center → Enterprise applications → the Orchidea app → Single sign-on → SAML Certificates → Download)",
    );
    let mut steps = add_idp_steps(metadata.unwrap_or(fallback), &claims, &[]);
    // The guide's last line says "paste it here"; the wizard is told so below.
    steps.pop();
    let saved = match metadata {
        Some(path) => format!(
            "Entra's federation metadata is saved in {}.",
            path.display()
        ),
        None => "Entra's federation metadata could not be saved here.".into(),
    };
    let numbered: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect();
    format!(
        "Single sign-on needs Orchidea's reply URL: Entra's half is set up (its Reply URL is still the placeholder). {saved} Add the IDP in Orchidea: {} Then click \"Copy reply URL\" on the new IDP and give it to the wizard: it replaces the placeholder in Entra.",
        numbered.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guide_names_the_file_the_four_claims_and_the_reply_url() {
        let text = reply_url_needed(Some(Path::new("/data/orchidea-federation-metadata.xml")));
        assert!(
            text.contains("/data/orchidea-federation-metadata.xml"),
            "{text}"
        );
        assert!(text.contains("+ Add new IDP"), "{text}");
        for (_, c) in SamlAttributeNames::entra_default_claims().labelled() {
            assert!(text.contains(c), "{c} in {text}");
        }
        assert!(text.contains("Copy reply URL"), "{text}");
        assert!(!text.contains("--"), "no CLI flag: {text}");
        assert!(!text.contains("paste it here"), "{text}");
    }

    #[test]
    fn without_a_saved_file_the_guide_says_where_to_download_it() {
        let text = reply_url_needed(None);
        assert!(text.contains("could not be saved"), "{text}");
        assert!(text.contains("Federation Metadata XML"), "{text}");
    }
}
