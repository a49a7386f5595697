//! On the summary screen: the backups taken before each write, what
//! restoring one would change, and the restore itself.

use iced::widget::{button, column, container, row, text};
use iced::{Alignment, Element, Fill};

use crate::engine::EngineError;
use crate::engine::backup::Backup;
use crate::ui::screen::Action;
use crate::ui::session::Session;
use crate::ui::theme;
use crate::ui::work::Op;

#[derive(Default)]
pub struct Backups {
    list: Option<Vec<Backup>>,
    /// The backup whose changes are shown, and those changes.
    preview: Option<(String, Result<Vec<String>, EngineError>)>,
    /// "Undo this setup", shown under the list.
    undo: super::undo::Undo,
}

#[derive(Debug, Clone)]
pub enum Message {
    Refresh,
    Preview(usize),
    Restore(usize),
    /// The engine's backups, newest first.
    Listed(Vec<Backup>),
    /// What restoring backup `id` would change.
    Previewed(String, Result<Vec<String>, EngineError>),
    Undo(super::undo::Message),
}

impl Backups {
    pub fn update(&mut self, message: Message) -> Action {
        let pick = |i: usize| self.list.as_ref().and_then(|list| list.get(i).cloned());
        let previewed = |b: &Backup| {
            self.preview
                .as_ref()
                .is_some_and(|(id, diff)| *id == b.id && diff.is_ok())
        };
        match message {
            Message::Listed(list) => {
                self.list = Some(list);
                Action::None
            }
            Message::Previewed(id, diff) => {
                self.preview = Some((id, diff));
                Action::None
            }
            Message::Refresh => Action::Run(Op::ListBackups),
            Message::Undo(m) => self.undo.update(m),
            Message::Preview(i) => {
                pick(i).map_or(Action::None, |b| Action::Run(Op::PreviewRestore(b)))
            }
            Message::Restore(i) => match pick(i) {
                Some(b) if previewed(&b) => Action::Run(Op::Restore(b)),
                Some(_) => Action::Fail("Show the backup's changes first, then restore it.".into()),
                None => Action::None,
            },
        }
    }

    pub fn view<'a>(&'a self, session: &'a Session) -> Element<'a, Message> {
        let idle = !session.is_busy();
        let mut col = column![
            row![
                text("Backups").size(17).width(Fill),
                crate::ui::widget::focusable(
                    button(text("Refresh").size(13))
                        .padding([4, 10])
                        .style(button::secondary)
                        .on_press_maybe(idle.then_some(Message::Refresh))
                ),
            ]
            .align_y(Alignment::Center),
            text(
                "Taken before every write that replaces something in Entra: the mappings as \
                 Graph returned them, and the settings without the secret. Restoring one puts \
                 it back exactly; what is there now is backed up first."
            )
            .size(13)
            .style(theme::muted),
        ]
        .spacing(8);
        match &self.list {
            None => col = col.push(text("Reading the backups…").size(13).style(theme::muted)),
            Some(list) if list.is_empty() => {
                col = col.push(
                    text("No backups yet for this tenant.")
                        .size(13)
                        .style(theme::muted),
                );
            }
            Some(list) => {
                for (i, b) in list.iter().enumerate().take(10) {
                    // Restoring replaces what Entra has: only after its
                    // changes were shown.
                    let previewed = self
                        .preview
                        .as_ref()
                        .is_some_and(|(id, diff)| *id == b.id && diff.is_ok());
                    col = col.push(
                        row![
                            text(b.line()).size(13).width(Fill),
                            crate::ui::widget::focusable(
                                button(text("Show changes").size(13))
                                    .padding([4, 10])
                                    .style(button::secondary)
                                    .on_press_maybe(idle.then_some(Message::Preview(i)))
                            ),
                            crate::ui::widget::focusable(
                                button(text("Restore").size(13))
                                    .padding([4, 10])
                                    .style(button::danger)
                                    .on_press_maybe(
                                        (idle && previewed).then_some(Message::Restore(i))
                                    )
                            ),
                        ]
                        .spacing(8)
                        .align_y(Alignment::Center),
                    );
                }
            }
        }
        if let Some((id, diff)) = &self.preview {
            let body: Element<'a, Message> = match diff {
                Ok(lines) if lines.is_empty() => text(format!(
                    "Restoring {id} changes nothing: Entra already holds it."
                ))
                .size(13)
                .into(),
                Ok(lines) => column(
                    std::iter::once(
                        text(format!("Restoring {id} would change:"))
                            .size(13)
                            .into(),
                    )
                    .chain(lines.iter().map(|l| text(l.as_str()).size(13).into())),
                )
                .spacing(2)
                .into(),
                Err(e) => text(e.to_string())
                    .size(13)
                    .style(theme::danger_text)
                    .into(),
            };
            col = col.push(container(body).padding(10).width(Fill).style(theme::tinted));
        }
        column![
            container(col).padding(14).width(Fill).style(theme::card),
            self.undo.view(session).map(Message::Undo),
        ]
        .spacing(16)
        .into()
    }
}
