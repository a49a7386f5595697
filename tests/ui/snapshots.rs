//! Pixel baselines (tiny-skia, SHA-256) for screens whose content does not
//! depend on the sandbox's random ports and ids. On CI a missing baseline
//! fails instead of being written.

use crate::support::{Harness, assert_snapshot};
use iced::widget::row;
use orchidea_wizard::StepId;
use orchidea_wizard::procedure::checklist::{Checklist, Progress, Status};
use orchidea_wizard::ui::{Message, theme, widget};

#[test]
fn welcome_light() {
    let h = Harness::new(false);
    assert_snapshot(h.app.view(), &theme::light(), "welcome-light");
}

#[test]
fn welcome_dark() {
    let h = Harness::new(false);
    assert_snapshot(h.app.view(), &theme::dark(), "welcome-dark");
}

#[test]
fn tenant_form_with_a_validation_message() {
    let mut h = Harness::new(false);
    h.click("My Microsoft Entra tenant");
    h.type_into(
        "https://yourcompany.orchidea.example",
        "https://acme.orchidea.example",
    );
    h.click("Next");
    h.assert_sees("Sign in to Microsoft Entra first (browser or device code).");
    assert!(matches!(
        h.app.screen(),
        orchidea_wizard::ui::ScreenId::Welcome
    ));
    // A tenant that is not one is refused under its field, before any request.
    h.type_into("contoso.onmicrosoft.com or the tenant ID", "contoso");
    h.click("Sign in with browser");
    h.assert_sees("\"contoso\" is not a tenant. Enter the tenant ID (a GUID, shown in Entra → Overview) or a verified domain such as contoso.onmicrosoft.com.");
    assert_snapshot(h.app.view(), &theme::light(), "welcome-tenant-form");
}

#[test]
fn checklist_shows_every_state() {
    let mut list = Checklist::default();
    let states = [
        (StepId::CreateSecret, Status::Done("Created SCIM secret ••••abcd.".into())),
        (StepId::ChooseIdp, Status::Manual("Chosen by you.".into())),
        (StepId::CopyUrlAndSecret, Status::AlreadyDone("Entra holds it.".into())),
        (
            StepId::OpenEnterpriseApp,
            Status::Failed("\"Orchidea OIDC\" cannot provision users: it is an app registration. Pick another.".into()),
        ),
        (StepId::OpenProvisioning, Status::Running("Reading templates".into())),
    ];
    for (step, status) in states {
        list.apply(&Progress { step, status });
    }
    let view = row![widget::checklist(
        &list,
        &[StepId::OpenProvisioning],
        Some(StepId::CreateSecret),
        1,
        Message::StepSelected,
    )]
    .into();
    assert_snapshot(view, &theme::dark(), "checklist-states");
}
