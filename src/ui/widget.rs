//! Small building blocks shared by the screens: nav bar, copy and secret
//! fields, banners, the manual-versus-wizard card.

mod checklist;
mod focus;

pub use checklist::{checklist, spinner, step_detail};
pub use focus::{Focusable, focusable};

use iced::widget::{Space, button, column, container, row, rule, space, text, text_input};
use iced::{Alignment, Element, Fill, Font, Length};

use super::theme;
use crate::procedure::step::StepId;

/// The font iced ships its check mark in.
pub const ICON_FONT: Font = Font::with_name("Iced-Icons");
pub const CHECK: char = '\u{f00c}';
pub const MONO: Font = Font::MONOSPACE;

/// A screen heading with the article's step numbers.
pub fn heading<'a, M: 'a>(title: &'a str, steps: String) -> Element<'a, M> {
    let mut head = column![text(title).size(26)].spacing(2);
    if !steps.is_empty() {
        head = head.push(text(steps).size(13).style(theme::muted));
    }
    head.into()
}

/// Back on the left, the primary action on the right. `None` for the
/// primary's message shows it disabled.
pub fn nav_bar<'a, M: Clone + 'a>(
    back: Option<M>,
    extra: Option<Element<'a, M>>,
    primary: &'a str,
    on_primary: Option<M>,
) -> Element<'a, M> {
    let back = back.map(|m| {
        focusable(
            button(text("Back").size(15))
                .padding([8, 18])
                .style(button::secondary)
                .on_press(m),
        )
    });
    row![
        back,
        space::horizontal(),
        extra,
        focusable(
            button(text(primary).size(15))
                .padding([8, 22])
                .style(button::primary)
                .on_press_maybe(on_primary)
        ),
    ]
    .spacing(12)
    .align_y(Alignment::Center)
    .into()
}

/// A labelled value with a copy button, e.g. the SCIM URL.
pub fn copy_row<'a, M: Clone + 'a>(
    label: &'a str,
    value: String,
    copy_label: &'a str,
    on_copy: M,
) -> Element<'a, M> {
    row![
        text(label).size(14).width(Length::Fixed(110.0)),
        container(text(value).font(MONO).size(14))
            .padding([6, 10])
            .width(Fill)
            .style(theme::tinted),
        focusable(
            button(text(copy_label).size(14))
                .padding([6, 12])
                .style(button::secondary)
                .on_press(on_copy)
        ),
    ]
    .spacing(10)
    .align_y(Alignment::Center)
    .into()
}

/// The SCIM secret: masked to its last four characters unless revealed,
/// with reveal and copy buttons and the clipboard countdown.
pub fn secret_row<'a, M: Clone + 'a>(
    shown: String,
    revealed: bool,
    on_reveal: M,
    on_copy: M,
    countdown: Option<u64>,
    on_clear: M,
) -> Element<'a, M> {
    let main = row![
        text("SCIM secret").size(14).width(Length::Fixed(110.0)),
        container(text(shown).font(MONO).size(14))
            .padding([6, 10])
            .width(Fill)
            .style(theme::tinted),
        focusable(
            button(text(if revealed { "Hide" } else { "Reveal" }).size(14))
                .padding([6, 12])
                .style(button::secondary)
                .on_press(on_reveal)
        ),
        focusable(
            button(text("Copy secret").size(14))
                .padding([6, 12])
                .style(button::secondary)
                .on_press(on_copy)
        ),
    ]
    .spacing(10)
    .align_y(Alignment::Center);
    let note = match countdown {
        Some(secs) => row![
            Space::new().width(Length::Fixed(120.0)),
            text(format!(
                "Copied, kept out of clipboard history. Clipboard clears in {secs} s."
            ))
            .size(13)
            .style(theme::muted),
            focusable(
                button(text("Clear now").size(13))
                    .padding([2, 8])
                    .style(button::text)
                    .on_press(on_clear)
            ),
        ]
        .spacing(8)
        .align_y(Alignment::Center),
        None => row![],
    };
    column![main, note].spacing(4).into()
}

/// A labelled text field with its validation message underneath.
pub fn field<'a, M: Clone + 'a>(
    label: &'a str,
    placeholder: &'a str,
    // Copied by the text input, so any borrow will do.
    value: &str,
    on_input: impl Fn(String) -> M + 'a,
    secure: bool,
    error: Option<&'a str>,
) -> Element<'a, M> {
    let input = text_input(placeholder, value)
        .on_input(on_input)
        .secure(secure)
        .padding(8)
        .size(15);
    let mut col = column![text(label).size(14), input].spacing(4);
    if let Some(error) = error {
        col = col.push(text(error).size(13).style(theme::danger_text));
    }
    col.into()
}

/// A secret input with a reveal toggle next to it.
pub fn secret_field<'a, M: Clone + 'a>(
    label: &'a str,
    placeholder: &'a str,
    value: &'a str,
    on_input: impl Fn(String) -> M + 'a,
    revealed: bool,
    on_reveal: M,
    error: Option<&'a str>,
) -> Element<'a, M> {
    let input = text_input(placeholder, value)
        .on_input(on_input)
        .secure(!revealed)
        .padding(8)
        .size(15);
    let toggle = focusable(
        button(text(if revealed { "Hide" } else { "Show" }).size(14))
            .padding([8, 12])
            .style(button::secondary)
            .on_press(on_reveal),
    );
    let mut col = column![
        text(label).size(14),
        row![input, toggle].spacing(8).align_y(Alignment::Center)
    ]
    .spacing(4);
    if let Some(error) = error {
        col = col.push(text(error).size(13).style(theme::danger_text));
    }
    col.into()
}

/// What went wrong, in the engine's words, with a retry that reuses every
/// value already entered.
pub fn error_banner<'a, M: Clone + 'a>(
    message: impl text::IntoFragment<'a>,
    retry: Option<M>,
) -> Element<'a, M> {
    let retry = retry.map(|m| {
        focusable(
            button(text("Retry").size(14))
                .padding([6, 14])
                .style(button::danger)
                .on_press(m),
        )
    });
    container(
        row![text(message).size(14).width(Fill), retry]
            .spacing(12)
            .align_y(Alignment::Center),
    )
    .padding(12)
    .width(Fill)
    .style(theme::error_banner)
    .into()
}

/// One line in the danger colour: a refusal or failure inside a card.
pub fn danger_line<'a, M: 'a>(line: String) -> Element<'a, M> {
    text(line).size(13).style(theme::danger_text).into()
}

pub fn success_banner<'a, M: 'a>(message: impl text::IntoFragment<'a>) -> Element<'a, M> {
    container(text(message).size(14))
        .padding(12)
        .width(Fill)
        .style(theme::success_banner)
        .into()
}

pub fn notice_banner<'a, M: 'a>(content: impl Into<Element<'a, M>>) -> Element<'a, M> {
    container(content)
        .padding(12)
        .width(Fill)
        .style(theme::notice_banner)
        .into()
}

/// Each step of a screen: the article's instruction next to what the
/// wizard does instead.
pub fn step_cards<'a, M: 'a>(steps: &[StepId]) -> Element<'a, M> {
    let header = row![
        text("In the portal you would")
            .size(13)
            .style(theme::muted)
            .width(Fill),
        text("The wizard").size(13).style(theme::muted).width(Fill),
    ]
    .spacing(16);
    let rows = steps.iter().map(|step| {
        row![
            column![
                text(format!("{}. {}", step.number(), step.title())).size(14),
                text(step.instruction()).size(13),
            ]
            .spacing(2)
            .width(Fill),
            container(text(step.automation()).size(13))
                .padding(8)
                .width(Fill)
                .style(theme::tinted),
        ]
        .spacing(16)
        .into()
    });
    container(
        column![header, rule::horizontal(1)]
            .extend(rows)
            .spacing(10),
    )
    .padding(14)
    .width(Fill)
    .style(theme::card)
    .into()
}

/// A block of monospaced lines (diffs, notices).
pub fn code_block<'a, M: 'a>(lines: impl IntoIterator<Item = String>) -> Element<'a, M> {
    let col = column(
        lines
            .into_iter()
            .map(|l| text(l).font(MONO).size(13).into()),
    )
    .spacing(3);
    container(col)
        .padding(12)
        .width(Fill)
        .style(theme::tinted)
        .into()
}

/// `text` cut to `max` characters with an ellipsis.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        text.to_string()
    }
}

/// The first sentence of an engine message, for one-line places.
pub fn one_line(detail: &str) -> String {
    let first = match detail.find(". ") {
        Some(i) => &detail[..=i],
        None => detail,
    };
    clip(first, 90)
}

/// A radio-style choice the Simulator and the mouse can click by its title.
/// `available: false` greys it out but keeps the reason readable.
pub fn choice<'a, M: Clone + 'a>(
    title: impl text::IntoFragment<'a>,
    description: impl text::IntoFragment<'a>,
    selected: bool,
    available: bool,
    on_press: M,
) -> Element<'a, M> {
    let dot = container(if selected {
        Element::from(
            container(Space::new())
                .width(8)
                .height(8)
                .style(|t: &iced::Theme| container::Style {
                    background: Some(t.palette().primary.into()),
                    border: iced::Border {
                        radius: 4.0.into(),
                        ..iced::Border::default()
                    },
                    ..container::Style::default()
                }),
        )
    } else {
        Space::new().into()
    })
    .width(18)
    .height(18)
    .center(18)
    .style(move |t: &iced::Theme| container::Style {
        border: iced::Border {
            color: if available {
                t.palette().primary
            } else {
                theme::muted_color(t)
            },
            width: 2.0,
            radius: 9.0.into(),
        },
        ..container::Style::default()
    });
    let body = column![
        text(title).size(15),
        text(description).size(13).style(theme::muted)
    ]
    .spacing(2)
    .width(Fill);
    let content = row![dot, body].spacing(12).align_y(Alignment::Center);
    let b = button(content).padding(10).width(Fill).on_press(on_press);
    let b = if available {
        b.style(theme::list_item(selected))
    } else {
        b.style(theme::list_item_disabled)
    };
    focusable(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_keeps_the_first_sentence_within_90_characters() {
        assert_eq!(one_line("Saved. Then more."), "Saved.");
        let long = format!("{}. Fix it.", "x".repeat(120));
        let line = one_line(&long);
        assert_eq!(line.chars().count(), 90);
        assert!(line.ends_with('…'));
        assert_eq!(clip("short", 10), "short");
    }
}
