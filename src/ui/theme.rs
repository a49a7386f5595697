//! Colours and widget styles: an orchid accent on light and dark bases,
//! chosen to keep text at WCAG AA contrast on both.

use iced::theme::{Mode, Palette};
use iced::widget::{button, container, text};
use iced::{Background, Border, Color, Theme, color};

use crate::procedure::checklist::Status;

/// The theme for the OS colour scheme. `None` (not known yet) lets iced
/// decide; an OS without a preference gets the light theme.
pub fn for_mode(mode: Option<Mode>) -> Option<Theme> {
    match mode? {
        Mode::Dark => Some(dark()),
        Mode::Light | Mode::None => Some(light()),
    }
}

pub fn light() -> Theme {
    Theme::custom(
        "Orchidea Light",
        Palette {
            background: color!(0xff_ff_ff),
            text: color!(0x1d_1b_22),
            primary: color!(0x7a_2e_9e),
            success: color!(0x1b_7a_43),
            warning: color!(0x8a_5a_00),
            danger: color!(0xb3_26_1e),
        },
    )
}

pub fn dark() -> Theme {
    Theme::custom(
        "Orchidea Dark",
        Palette {
            background: color!(0x1c_1b_21),
            text: color!(0xe9_e6_ef),
            primary: color!(0xc0_8a_e6),
            success: color!(0x63_c9_8d),
            warning: color!(0xf0_b8_4e),
            danger: color!(0xf2_85_7b),
        },
    )
}

/// The colour that stands for a step state.
pub fn status_color(theme: &Theme, status: &Status) -> Color {
    let palette = theme.palette();
    match status {
        Status::Pending => muted_color(theme),
        Status::Running(_) => palette.primary,
        Status::Done(_) | Status::AlreadyDone(_) | Status::Manual(_) => palette.success,
        Status::Failed(_) => palette.danger,
    }
}

/// Secondary text that still reads at 4.5:1 on the background.
pub fn muted_color(theme: &Theme) -> Color {
    let p = theme.palette();
    mix(p.text, p.background, 0.32)
}

pub fn muted(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(muted_color(theme)),
    }
}

pub fn danger_text(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(theme.palette().danger),
    }
}

pub fn warning_text(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(theme.palette().warning),
    }
}

pub fn success_text(theme: &Theme) -> text::Style {
    text::Style {
        color: Some(theme.palette().success),
    }
}

/// The keyboard focus ring: the accent, which keeps 3:1 (WCAG's figure for
/// focus indicators) against the window and the sidebar in both themes.
pub fn focus_ring(theme: &Theme) -> Color {
    theme.palette().primary
}

/// The checklist column.
pub fn sidebar(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style {
        background: Some(p.background.weakest.color.into()),
        border: Border {
            color: p.background.weak.color,
            width: 1.0,
            radius: 0.0.into(),
        },
        ..container::Style::default()
    }
}

/// A framed block of content.
pub fn card(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style {
        background: Some(p.background.base.color.into()),
        text_color: Some(p.background.base.text),
        border: Border {
            color: p.background.strong.color,
            width: 1.0,
            radius: 8.0.into(),
        },
        ..container::Style::default()
    }
}

/// A tinted block: the "what the wizard does" side, code and diffs.
pub fn tinted(theme: &Theme) -> container::Style {
    let p = theme.extended_palette();
    container::Style {
        background: Some(p.background.weak.color.into()),
        text_color: Some(p.background.weak.text),
        border: Border {
            radius: 8.0.into(),
            ..Border::default()
        },
        ..container::Style::default()
    }
}

fn banner(theme: &Theme, accent: Color) -> container::Style {
    let p = theme.palette();
    container::Style {
        background: Some(Background::Color(mix(accent, p.background, 0.88))),
        text_color: Some(p.text),
        border: Border {
            color: accent,
            width: 1.0,
            radius: 8.0.into(),
        },
        ..container::Style::default()
    }
}

pub fn error_banner(theme: &Theme) -> container::Style {
    banner(theme, theme.palette().danger)
}

pub fn success_banner(theme: &Theme) -> container::Style {
    banner(theme, theme.palette().success)
}

pub fn notice_banner(theme: &Theme) -> container::Style {
    banner(theme, theme.palette().primary)
}

/// A checklist row or list entry: flat until hovered, framed when selected.
pub fn list_item(selected: bool) -> impl Fn(&Theme, button::Status) -> button::Style {
    move |theme, status| {
        let p = theme.extended_palette();
        let background = match (selected, status) {
            (true, _) => Some(p.primary.weak.color.scale_alpha(0.35).into()),
            (false, button::Status::Hovered) => Some(p.background.weak.color.into()),
            _ => None,
        };
        button::Style {
            background,
            text_color: p.background.base.text,
            border: Border {
                color: if selected {
                    p.primary.base.color
                } else {
                    Color::TRANSPARENT
                },
                width: 1.0,
                radius: 6.0.into(),
            },
            ..button::Style::default()
        }
    }
}

/// A list entry that cannot be chosen: greyed, but still readable.
pub fn list_item_disabled(theme: &Theme, _status: button::Status) -> button::Style {
    let p = theme.extended_palette();
    button::Style {
        background: Some(p.background.weakest.color.into()),
        text_color: muted_color(theme),
        border: Border {
            color: p.background.weak.color,
            width: 1.0,
            radius: 6.0.into(),
        },
        ..button::Style::default()
    }
}

/// `a` blended towards `b` by `t` (0 = a, 1 = b).
fn mix(a: Color, b: Color, t: f32) -> Color {
    Color {
        r: a.r + (b.r - a.r) * t,
        g: a.g + (b.g - a.g) * t,
        b: a.b + (b.b - a.b) * t,
        a: 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luminance(c: Color) -> f32 {
        let ch = |v: f32| {
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b)
    }

    fn contrast(a: Color, b: Color) -> f32 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn text_colours_meet_aa_contrast_in_both_themes() {
        for theme in [light(), dark()] {
            let p = theme.palette();
            let bg = p.background;
            assert!(contrast(p.text, bg) >= 7.0, "{theme}: text");
            assert!(contrast(muted_color(&theme), bg) >= 4.5, "{theme}: muted");
            for (name, c) in [
                ("primary", p.primary),
                ("success", p.success),
                ("danger", p.danger),
                ("warning", p.warning),
            ] {
                assert!(contrast(c, bg) >= 4.5, "{theme}: {name}");
            }
            let ring = focus_ring(&theme);
            let sidebar = theme.extended_palette().background.weakest.color;
            assert!(contrast(ring, bg) >= 3.0, "{theme}: focus ring");
            assert!(
                contrast(ring, sidebar) >= 3.0,
                "{theme}: focus ring on the sidebar"
            );
            let button = theme.extended_palette().primary.base;
            assert!(
                contrast(button.text, button.color) >= 4.5,
                "{theme}: button"
            );
        }
    }

    #[test]
    fn follows_the_os_mode() {
        let dark = |m| for_mode(m).is_some_and(|t| t.extended_palette().is_dark);
        assert!(dark(Some(Mode::Dark)));
        assert!(!dark(Some(Mode::Light)));
        assert!(!dark(Some(Mode::None)));
        assert!(for_mode(None).is_none());
    }
}
