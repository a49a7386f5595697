//! On the summary screen: "Rotate secret". With Orchidea's admin API one
//! click does all six stages; on the manual path the admin pastes a new
//! secret made in Orchidea's web UI, and afterwards pastes the old one to
//! prove Orchidea refuses it once revoked. The work runs in the engine,
//! off the UI thread; this panel shows each stage's line and the old
//! secret's fate.

use iced::widget::{button, column, container, row, text};
use iced::{Alignment, Element, Fill};

use crate::engine::rotate::{NewSecret, OldSecret, RotateOptions, RotateOutcome};
use crate::engine::{Engine, EngineError, SecretSource};
use crate::platform::secret::Secret;
use crate::services::orchidea;
use crate::setup::Choices;
use crate::ui::app;
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::widget::{self, focusable};
use crate::ui::work::{Op, Outcome, Snapshot, Target, TargetError, snapshot};

pub struct Rotate {
    /// The new secret, on the manual path.
    new: Secret,
    /// The old secret, to check it is refused.
    old: Secret,
    reveal: bool,
    error: Option<String>,
    done: Option<Result<RotateOutcome, EngineError>>,
    /// Whether Orchidea refused the old secret when last checked.
    checked: Option<Result<bool, EngineError>>,
}

impl Default for Rotate {
    fn default() -> Self {
        Self {
            new: Secret::new(""),
            old: Secret::new(""),
            reveal: false,
            error: None,
            done: None,
            checked: None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    NewChanged(Secret),
    OldChanged(Secret),
    ToggleReveal,
    /// Rotate now (with the pasted secret on the manual path).
    Start,
    CheckOld,
    /// What rotation did, and what the engine knows after it (none when
    /// no engine could be made).
    Rotated(Result<RotateOutcome, EngineError>, Option<Box<Snapshot>>),
    OldChecked(Result<bool, EngineError>),
}

/// Whether the wizard makes the new secret itself: the session's engine
/// uses Orchidea's admin API or, before the steps ran (from the drift
/// check), the target has it.
fn admin_api(session: &Session) -> bool {
    match &session.engine {
        Some(e) => matches!(e.config().secret_source, SecretSource::AdminApi { .. }),
        None => session.target.as_ref().is_some_and(|t| match t {
            Target::Sandbox(_) => true,
            Target::Tenant(t) => t.orchidea.is_some(),
        }),
    }
}

/// The engine a rotation runs on: the session's, or (from the drift check,
/// before the steps ran) one for the target, with Orchidea's admin API
/// when the target has it, else with Graph only (a pasted secret).
fn engine_for(engine: Option<Engine>, target: Option<&Target>) -> Result<Engine, EngineError> {
    if let Some(engine) = engine {
        return Ok(engine);
    }
    let target = target.ok_or_else(|| EngineError::Input(TargetError::NoTarget.to_string()))?;
    let built = match target.engine(None, Choices::default()) {
        Err(TargetError::NoAdminApi) => {
            crate::ui::screen::drift::engine_for_check(target, Choices::default())
        }
        other => other,
    };
    built.map_err(|e| EngineError::Input(e.to_string()))
}

/// `Op::Rotate`: the six stages, then what the engine knows after them.
pub async fn rotate(
    engine: Option<Engine>,
    target: Option<&Target>,
    pasted: Option<Secret>,
) -> Outcome {
    let opts = RotateOptions {
        new_secret: pasted.map_or(NewSecret::Configured, NewSecret::Pasted),
        old_id: None,
    };
    let (done, now) = match engine_for(engine, target) {
        Ok(engine) => {
            let done = engine.rotate(&opts, &|_, _| {}).await;
            (done, Some(Box::new(snapshot(&engine).await)))
        }
        Err(e) => (Err(e), None),
    };
    Outcome::Reply(Box::new(app::Message::Rotate(Message::Rotated(done, now))))
}

/// `Op::CheckOldSecret`: whether Orchidea refuses the old secret now.
pub async fn check_old(engine: Option<Engine>, target: Option<&Target>, old: &Secret) -> Outcome {
    let refused = match engine_for(engine, target) {
        Ok(engine) => engine.old_secret_refused(old).await,
        Err(e) => Err(e),
    };
    Outcome::Reply(Box::new(app::Message::Rotate(Message::OldChecked(refused))))
}

impl Rotate {
    pub fn update(&mut self, message: Message) -> Action {
        match message {
            Message::NewChanged(s) => {
                self.new = s;
                self.error = None;
                Action::None
            }
            Message::OldChanged(s) => {
                self.old = s;
                self.checked = None;
                Action::None
            }
            Message::ToggleReveal => {
                self.reveal = !self.reveal;
                Action::None
            }
            // The field shows only on the manual path; empty there, the
            // button is off.
            Message::Start if self.new.expose().is_empty() => {
                self.done = None;
                Action::Run(Op::Rotate(None))
            }
            Message::Start => match orchidea::parse_secret(self.new.expose()) {
                Ok(secret) => {
                    self.done = None;
                    Action::Run(Op::Rotate(Some(secret)))
                }
                Err(e) => {
                    self.error = Some(e.to_string());
                    Action::None
                }
            },
            Message::CheckOld => match orchidea::parse_secret(self.old.expose()) {
                Ok(old) => Action::Run(Op::CheckOldSecret(old)),
                Err(e) => {
                    self.checked = Some(Err(EngineError::Input(e.to_string())));
                    Action::None
                }
            },
            Message::Rotated(result, _) => {
                if result.is_ok() {
                    // Typed values are not kept once used.
                    self.new = Secret::new("");
                }
                self.done = Some(result);
                self.checked = None;
                // Rotation took a backup of the settings first.
                Action::Run(Op::ListBackups)
            }
            Message::OldChecked(result) => {
                if matches!(result, Ok(true)) {
                    self.old = Secret::new("");
                }
                self.checked = Some(result);
                Action::None
            }
        }
    }

    /// A rotation ran (its lines are shown until the next one).
    pub fn has_result(&self) -> bool {
        self.done.is_some()
    }

    pub fn view<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let idle = !session.is_busy();
        let api = admin_api(session);
        let mut col = column![
            row![
                text("Rotate the SCIM secret").size(17).width(Fill),
                focusable(
                    button(text("Rotate secret").size(13))
                        .padding([4, 10])
                        .style(button::secondary)
                        .on_press_maybe(
                            (idle && (api || !self.new.expose().is_empty()))
                                .then_some(Message::Start)
                        )
                ),
            ]
            .align_y(Alignment::Center),
            text(if api {
                "Makes a new secret in Orchidea, checks it there and with Entra's Test \
                 Connection, saves it with the scope and notifications kept, tests it as \
                 saved, and only then revokes the old one. Provisioning keeps running; \
                 a failure at any point leaves the old secret working."
            } else {
                "Create a new secret in Orchidea's web UI and paste it here. The wizard \
                 checks it there and with Entra's Test Connection, saves it with the scope \
                 and notifications kept and tests it as saved; then you revoke the old one \
                 in Orchidea and the wizard checks that it is refused."
            })
            .size(13)
            .style(theme::muted),
        ]
        .spacing(8);
        if !api {
            col = col.push(widget::secret_field(
                "New SCIM secret",
                "Paste the new secret from Orchidea's web UI",
                self.new.expose(),
                |s| Message::NewChanged(Secret::typed(s)),
                self.reveal,
                Message::ToggleReveal,
                self.error.as_deref(),
            ));
        }
        match &self.done {
            Some(Ok(outcome)) => col = col.push(self.outcome(outcome, idle)),
            Some(Err(e)) => col = col.push(widget::danger_line(e.to_string())),
            None => {}
        }
        container(col)
            .padding(14)
            .width(Fill)
            .style(theme::card)
            .into()
    }

    fn outcome<'a>(&'a self, outcome: &'a RotateOutcome, idle: bool) -> Element<'a, Message> {
        let lines = outcome.lines.iter().map(|(stage, line)| {
            text(format!("{}. {}: {line}", stage.number(), stage.title()))
                .size(13)
                .into()
        });
        let mut col = column(lines).spacing(3);
        for w in &outcome.warnings {
            col = col.push(text(format!("Note: {w}")).size(13).style(theme::muted));
        }
        col = col.push(text(format!("Entra now holds {}.", outcome.new_secret)).size(13));
        if let OldSecret::RevokeByHand { .. } = &outcome.old {
            col = col.push(widget::secret_field(
                "Old SCIM secret",
                "Once revoked in Orchidea, paste the old secret to check it is refused",
                self.old.expose(),
                |s| Message::OldChanged(Secret::typed(s)),
                self.reveal,
                Message::ToggleReveal,
                None,
            ));
            col = col.push(focusable(
                button(text("Check the old secret").size(13))
                    .padding([4, 10])
                    .style(button::secondary)
                    .on_press_maybe(
                        (idle && !self.old.expose().is_empty()).then_some(Message::CheckOld),
                    ),
            ));
            match &self.checked {
                Some(Ok(true)) => {
                    col = col.push(
                        text("Orchidea refuses the old secret now: rotation complete.")
                            .size(13)
                            .style(theme::success_text),
                    );
                }
                Some(Ok(false)) => {
                    col = col.push(widget::danger_line(
                        "Orchidea still accepts the old secret: revoke it in Orchidea's web UI \
                         (workspace admin → User management → SCIM), then check again."
                            .into(),
                    ));
                }
                Some(Err(e)) => col = col.push(widget::danger_line(e.to_string())),
                None => {}
            }
        }
        container(col)
            .padding(10)
            .width(Fill)
            .style(theme::tinted)
            .into()
    }
}
