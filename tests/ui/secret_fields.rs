//! The window's secret fields and the log redactor: what the admin types is
//! registered once, when it is taken for use, not at every keystroke (which
//! crowded out the live secrets: issue #14, item 10).

use crate::support::Harness;
use orchidea_wizard::platform::logging::redact::{MASK, redact};

const TYPED: &str = "typed-secret-value-Qv7-not-yet-used";

#[test]
fn a_typed_secret_is_registered_when_used_not_per_keystroke() {
    let mut h = Harness::new(true);
    let url = match &h.app.session().target {
        Some(orchidea_wizard::ui::work::Target::Sandbox(s)) => s.scim_url.to_string(),
        other => panic!("not in the sandbox: {other:?}"),
    };
    h.click("I created it in Orchidea");
    h.type_into("https://yourcompany.orchidea.example/scim/v2", &url);
    h.type_into("Paste the SCIM secret", TYPED);
    // Every keystroke went through the field; none of its states is registered.
    for end in [6, 12, 20, TYPED.len()] {
        assert_eq!(redact(&TYPED[..end]), &TYPED[..end], "state {end}");
    }

    h.click("Verify secret");
    // Taken for use: registered (and held while the engine holds it).
    assert_eq!(redact(&format!("x {TYPED} y")), format!("x {MASK} y"));
}
