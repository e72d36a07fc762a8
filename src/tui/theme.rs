//! The TUI's colours, by semantic role (`[tui.theme]`).
//!
//! Views ask for a [`Role`] ("unread", "window closing"), never for a colour, so one table
//! decides how everything looks and the user can change any of it. The defaults use the named
//! ANSI colours, so the terminal's own palette (dark or light) applies, and put what must stay
//! visible without colour (the selected row, unread rows, titles, notes) in modifiers. With
//! `NO_COLOR` every style keeps its modifiers and loses its colours. Pure: no IO, except
//! reading `NO_COLOR` in [`Theme::no_color_from_env`].
//!
//! A style is written as words separated by spaces: at most one colour for the text, `on` and a
//! colour for the background, and any modifiers, e.g. `"yellow bold"`, `"black on yellow"`,
//! `"reversed"`. A colour is a name (`red`, `dark_gray`, `light_blue`, `reset`, …), `#rrggbb`,
//! or an index `0`–`255`. A configured role replaces that role's default style as a whole.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

/// What a piece of the screen is, for choosing its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Ordinary text.
    Text,
    /// Secondary text: timestamps, counts, hints.
    Dim,
    /// What should catch the eye: the current filter, the key in a hint.
    Accent,
    /// Pane and popup titles.
    Title,
    Border,
    /// The border of the focused pane.
    BorderFocus,
    /// The selected row.
    Selected,
    /// A conversation with unread messages.
    Unread,
    /// A message from the customer.
    Inbound,
    /// A message to the customer.
    Outbound,
    /// An internal note (never sent).
    Note,
    Tag,
    Ok,
    Warn,
    Error,
    /// The ticks of a message the customer has read.
    TickRead,
    /// The customer service window is open.
    WindowOpen,
    /// The window closes soon.
    WindowClosing,
    /// The window is closed: only templates can be sent.
    WindowClosed,
}

impl Role {
    const ALL: [Role; 19] = [
        Role::Text,
        Role::Dim,
        Role::Accent,
        Role::Title,
        Role::Border,
        Role::BorderFocus,
        Role::Selected,
        Role::Unread,
        Role::Inbound,
        Role::Outbound,
        Role::Note,
        Role::Tag,
        Role::Ok,
        Role::Warn,
        Role::Error,
        Role::TickRead,
        Role::WindowOpen,
        Role::WindowClosing,
        Role::WindowClosed,
    ];

    /// Every role, in declaration order.
    pub fn all() -> &'static [Role] {
        &Self::ALL
    }

    /// The key in `[tui.theme]`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Text => "text",
            Role::Dim => "dim",
            Role::Accent => "accent",
            Role::Title => "title",
            Role::Border => "border",
            Role::BorderFocus => "border_focus",
            Role::Selected => "selected",
            Role::Unread => "unread",
            Role::Inbound => "inbound",
            Role::Outbound => "outbound",
            Role::Note => "note",
            Role::Tag => "tag",
            Role::Ok => "ok",
            Role::Warn => "warn",
            Role::Error => "error",
            Role::TickRead => "tick_read",
            Role::WindowOpen => "window_open",
            Role::WindowClosing => "window_closing",
            Role::WindowClosed => "window_closed",
        }
    }

    /// The built-in style: named ANSI colours, and modifiers for what must survive `NO_COLOR`.
    fn default_style(self) -> Style {
        let fg = |color| Style::new().fg(color);
        match self {
            Role::Text | Role::Inbound => Style::new(),
            Role::Dim => Style::new().add_modifier(Modifier::DIM),
            Role::Accent => fg(Color::Cyan),
            Role::Title => Style::new().add_modifier(Modifier::BOLD),
            Role::Border => fg(Color::DarkGray),
            Role::BorderFocus => fg(Color::Cyan),
            Role::Selected => Style::new().add_modifier(Modifier::REVERSED),
            Role::Unread => Style::new().add_modifier(Modifier::BOLD),
            Role::Outbound => fg(Color::Green),
            Role::Note => fg(Color::Yellow).add_modifier(Modifier::ITALIC),
            Role::Tag => fg(Color::Magenta),
            Role::Ok | Role::WindowOpen => fg(Color::Green),
            Role::Warn | Role::WindowClosing => fg(Color::Yellow),
            Role::Error => fg(Color::Red).add_modifier(Modifier::BOLD),
            Role::WindowClosed => fg(Color::Red),
            Role::TickRead => fg(Color::Cyan),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::all()
            .iter()
            .copied()
            .find(|role| role.name() == s)
            .ok_or_else(|| format!("unknown role `{s}`; roles are {}", role_names()))
    }
}

fn role_names() -> String {
    Role::all()
        .iter()
        .map(|role| role.name())
        .collect::<Vec<_>>()
        .join(", ")
}

const STYLE_FORMS: &str = "a style is a colour (a name such as `yellow` or `dark_gray`, `#rrggbb`, \
     or an index 0-255), `on` and a colour for the background, and modifiers (bold, dim, italic, \
     underlined, reversed, crossed_out), e.g. `yellow bold` or `black on yellow`";

/// A `[tui.theme]` entry that cannot be used; each names its configuration key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    #[error("`tui.theme.{role}`: unknown role; roles are {}", role_names())]
    UnknownRole { role: String },
    #[error("`tui.theme.{role}`: `{value}` is not a style: {reason}; {STYLE_FORMS}")]
    BadStyle {
        role: String,
        value: String,
        reason: String,
    },
}

impl ThemeError {
    /// The configuration key at fault, e.g. `tui.theme.unread`.
    pub fn key(&self) -> String {
        match self {
            ThemeError::UnknownRole { role } | ThemeError::BadStyle { role, .. } => {
                format!("tui.theme.{role}")
            }
        }
    }

    /// The message without the key, for a caller that names the key itself.
    pub fn message(&self) -> String {
        let full = self.to_string();
        let prefix = format!("`{}`: ", self.key());
        full.strip_prefix(&prefix)
            .map(str::to_string)
            .unwrap_or(full)
    }
}

/// The style of every role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    styles: [Style; Role::ALL.len()],
    no_color: bool,
}

impl Theme {
    /// The built-in theme; `no_color` drops every colour and keeps the modifiers.
    pub fn defaults(no_color: bool) -> Theme {
        let mut theme = Theme {
            styles: Role::ALL.map(Role::default_style),
            no_color,
        };
        theme.strip_colours();
        theme
    }

    /// The defaults with `[tui.theme]` (role → style) applied. Colours are checked even when
    /// `no_color` will drop them, so a mistake shows on every terminal.
    pub fn from_config(
        roles: &BTreeMap<String, String>,
        no_color: bool,
    ) -> Result<Theme, ThemeError> {
        let mut theme = Theme::defaults(false);
        theme.no_color = no_color;
        for (name, value) in roles {
            let role: Role = name
                .parse()
                .map_err(|_| ThemeError::UnknownRole { role: name.clone() })?;
            let style = parse_style(value).map_err(|reason| ThemeError::BadStyle {
                role: name.clone(),
                value: value.clone(),
                reason,
            })?;
            theme.styles[role as usize] = style;
        }
        theme.strip_colours();
        Ok(theme)
    }

    /// The style of `role`.
    pub fn style(&self, role: Role) -> Style {
        self.styles[role as usize]
    }

    /// Whether colours are off.
    pub fn no_color(&self) -> bool {
        self.no_color
    }

    /// Whether `NO_COLOR` asks for no colours: set and not empty (<https://no-color.org>).
    pub fn no_color_from_env() -> bool {
        no_color_from(std::env::var_os("NO_COLOR").as_deref())
    }

    /// Drops the colours when they are off (no style sets an underline colour, so text and
    /// background are all there is).
    fn strip_colours(&mut self) {
        if self.no_color {
            for style in &mut self.styles {
                style.fg = None;
                style.bg = None;
            }
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::defaults(false)
    }
}

/// The `NO_COLOR` rule on a value of the variable.
fn no_color_from(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// Parses one `[tui.theme]` value; the error is the reason, without the key.
fn parse_style(value: &str) -> Result<Style, String> {
    let mut style = Style::new();
    let mut words = value.split_whitespace();
    let mut any = false;
    while let Some(word) = words.next() {
        any = true;
        let lower = word.to_ascii_lowercase();
        if lower == "on" {
            let Some(colour) = words.next() else {
                return Err("`on` needs a colour after it".into());
            };
            if style.bg.is_some() {
                return Err(format!("two background colours (`on {colour}`)"));
            }
            style = style.bg(parse_colour(colour)?);
        } else if let Some(modifier) = modifier(&lower) {
            style = style.add_modifier(modifier);
        } else {
            let colour = parse_colour(word)?;
            if style.fg.is_some() {
                return Err(format!("two text colours (the second is `{word}`)"));
            }
            style = style.fg(colour);
        }
    }
    if !any {
        return Err("it is empty".into());
    }
    Ok(style)
}

fn modifier(word: &str) -> Option<Modifier> {
    Some(match word {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" | "underline" => Modifier::UNDERLINED,
        "reversed" | "reverse" => Modifier::REVERSED,
        "crossed_out" | "crossed-out" | "strikethrough" => Modifier::CROSSED_OUT,
        _ => return None,
    })
}

/// A colour name, `#rrggbb` or an index 0–255 (ratatui's parser, which also takes `light-red`,
/// `grey` and `bright_red`).
fn parse_colour(word: &str) -> Result<Color, String> {
    word.parse::<Color>()
        .map_err(|_| format!("unknown colour or modifier `{word}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theme(entries: &[(&str, &str)]) -> Result<Theme, ThemeError> {
        let roles = entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Theme::from_config(&roles, false)
    }

    fn style(value: &str) -> Style {
        theme(&[("accent", value)])
            .unwrap_or_else(|e| panic!("{value}: {e}"))
            .style(Role::Accent)
    }

    #[test]
    fn every_role_has_a_unique_name_that_round_trips() {
        let mut names = std::collections::HashSet::new();
        for (i, role) in Role::all().iter().enumerate() {
            assert_eq!(*role as usize, i, "ALL is in declaration order");
            assert!(names.insert(role.name()));
            assert_eq!(role.name().parse::<Role>().unwrap(), *role);
        }
        assert_eq!(names.len(), 19);
    }

    #[test]
    fn the_defaults_use_named_colours_and_keep_the_selection_visible() {
        let theme = Theme::defaults(false);
        assert_eq!(
            theme.style(Role::Selected),
            Style::new().add_modifier(Modifier::REVERSED)
        );
        assert_eq!(theme.style(Role::Text), Style::new());
        assert_eq!(theme.style(Role::Accent).fg, Some(Color::Cyan));
        for role in Role::all() {
            let s = theme.style(*role);
            for colour in [s.fg, s.bg].into_iter().flatten() {
                assert!(
                    !matches!(colour, Color::Rgb(..) | Color::Indexed(_)),
                    "{role} uses {colour:?}"
                );
            }
        }
        assert_eq!(Theme::from_config(&BTreeMap::new(), false).unwrap(), theme);
        assert!(!theme.no_color());
    }

    #[test]
    fn colour_names_parse() {
        assert_eq!(style("red"), Style::new().fg(Color::Red));
        assert_eq!(style("dark_gray").fg, Some(Color::DarkGray));
        assert_eq!(style("darkgray").fg, Some(Color::DarkGray));
        assert_eq!(style("light_red").fg, Some(Color::LightRed));
        assert_eq!(style("White").fg, Some(Color::White));
        assert_eq!(style("reset").fg, Some(Color::Reset));
    }

    #[test]
    fn hex_and_index_colours_parse() {
        assert_eq!(style("#ff8800").fg, Some(Color::Rgb(0xff, 0x88, 0x00)));
        assert_eq!(style("#FF8800").fg, Some(Color::Rgb(0xff, 0x88, 0x00)));
        assert_eq!(style("208").fg, Some(Color::Indexed(208)));
        assert_eq!(style("0").fg, Some(Color::Indexed(0)));
        assert_eq!(style("255").fg, Some(Color::Indexed(255)));
    }

    #[test]
    fn modifiers_parse_alone_and_after_a_colour() {
        assert_eq!(
            style("yellow bold"),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
        );
        assert_eq!(style("bold"), Style::new().add_modifier(Modifier::BOLD));
        assert_eq!(
            style("reversed underlined italic dim"),
            Style::new().add_modifier(
                Modifier::REVERSED | Modifier::UNDERLINED | Modifier::ITALIC | Modifier::DIM
            )
        );
        assert_eq!(
            style("BOLD Green"),
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD)
        );
    }

    #[test]
    fn on_sets_the_background() {
        assert_eq!(
            style("black on yellow"),
            Style::new().fg(Color::Black).bg(Color::Yellow)
        );
        assert_eq!(
            style("on #102030"),
            Style::new().bg(Color::Rgb(0x10, 0x20, 0x30))
        );
        assert_eq!(
            style("bold white on 22"),
            Style::new()
                .fg(Color::White)
                .bg(Color::Indexed(22))
                .add_modifier(Modifier::BOLD)
        );
    }

    #[test]
    fn a_configured_role_replaces_only_its_own_style() {
        let theme = theme(&[("unread", "yellow")]).unwrap();
        assert_eq!(theme.style(Role::Unread), Style::new().fg(Color::Yellow));
        assert_eq!(
            theme.style(Role::Selected),
            Style::new().add_modifier(Modifier::REVERSED)
        );
    }

    #[test]
    fn an_unknown_role_names_its_key_and_the_roles() {
        let error = theme(&[("unred", "bold")]).unwrap_err();
        assert_eq!(error.key(), "tui.theme.unred");
        let message = error.to_string();
        assert!(
            message.starts_with("`tui.theme.unred`: unknown role; roles are text, dim, accent,"),
            "{message}"
        );
        assert!(message.ends_with("window_closed"), "{message}");
    }

    #[test]
    fn a_bad_colour_names_its_key_the_value_and_the_forms() {
        let error = theme(&[("accent", "blu bold")]).unwrap_err();
        assert_eq!(error.key(), "tui.theme.accent");
        let message = error.to_string();
        assert!(
            message.starts_with(
                "`tui.theme.accent`: `blu bold` is not a style: unknown colour or modifier `blu`; a style is"
            ),
            "{message}"
        );
        assert!(message.contains("#rrggbb"), "{message}");
        assert!(error.message().starts_with("`blu bold` is not a style"));
        for (bad, reason) in [
            ("", "it is empty"),
            ("256", "unknown colour or modifier `256`"),
            ("#12345", "unknown colour or modifier `#12345`"),
            ("red on", "`on` needs a colour after it"),
            ("red blue", "two text colours (the second is `blue`)"),
            ("on red on blue", "two background colours (`on blue`)"),
            ("on bold", "unknown colour or modifier `bold`"),
        ] {
            match theme(&[("warn", bad)]).unwrap_err() {
                ThemeError::BadStyle { reason: got, .. } => assert_eq!(got, reason, "`{bad}`"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn no_color_drops_colours_and_keeps_modifiers() {
        let defaults = Theme::defaults(true);
        assert!(defaults.no_color());
        assert_eq!(
            defaults.style(Role::Selected),
            Style::new().add_modifier(Modifier::REVERSED)
        );
        assert_eq!(
            defaults.style(Role::Error),
            Style::new().add_modifier(Modifier::BOLD)
        );
        for role in Role::all() {
            let s = defaults.style(*role);
            assert_eq!((s.fg, s.bg), (None, None), "{role}");
        }
        let roles = [(
            "selected".to_string(),
            "black on yellow reversed".to_string(),
        )]
        .into();
        let configured = Theme::from_config(&roles, true).unwrap();
        assert_eq!(
            configured.style(Role::Selected),
            Style::new().add_modifier(Modifier::REVERSED)
        );
        // A bad colour is still an error.
        let roles = [("selected".to_string(), "blu".to_string())].into();
        assert!(Theme::from_config(&roles, true).is_err());
    }

    #[test]
    fn no_color_follows_the_convention() {
        assert!(!no_color_from(None));
        assert!(!no_color_from(Some(OsStr::new(""))));
        assert!(no_color_from(Some(OsStr::new("1"))));
        assert!(no_color_from(Some(OsStr::new("0"))));
    }
}
