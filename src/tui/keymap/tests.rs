use super::*;
use std::collections::HashSet;

fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

fn chord(s: &str) -> KeyChord {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn config(entries: &[(&str, &str, &str)]) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut keys: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (view, action, value) in entries {
        keys.entry(view.to_string())
            .or_default()
            .insert(action.to_string(), value.to_string());
    }
    keys
}

fn error_of(entries: &[(&str, &str, &str)]) -> KeymapError {
    Keymap::from_config(&config(entries)).expect_err("the configuration should be refused")
}

#[test]
fn every_default_parses_and_no_view_binds_a_key_twice() {
    let keymap = Keymap::defaults();
    for (view, bindings) in DEFAULTS {
        assert!(!bindings.is_empty(), "{view} has no bindings");
        let mut seen: HashSet<KeyChord> = HashSet::new();
        let mut commands: HashSet<Command> = HashSet::new();
        for (command, keys) in *bindings {
            assert!(commands.insert(*command), "{view}: {command} listed twice");
            let chords = parse_keys(keys).unwrap();
            assert!(!chords.is_empty(), "{view}.{command} has no key");
            assert_eq!(keymap.keys(*view, *command), chords.as_slice());
            for chord in chords {
                assert!(seen.insert(chord), "{view}: `{chord}` bound twice");
            }
        }
    }
    for view in View::all() {
        assert!(
            DEFAULTS.iter().any(|(v, _)| v == view),
            "{view} has no defaults"
        );
    }
}

#[test]
fn an_empty_configuration_is_the_defaults() {
    assert_eq!(
        Keymap::from_config(&BTreeMap::new()).unwrap(),
        Keymap::defaults()
    );
}

#[test]
fn every_command_has_a_unique_name_that_round_trips() {
    let mut names = HashSet::new();
    for command in Command::all() {
        let name = command.name();
        assert!(names.insert(name), "{name} used twice");
        assert!(
            name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{name}"
        );
        assert_eq!(name.parse::<Command>().unwrap(), *command);
        assert_eq!(name.replace('_', "-").parse::<Command>().unwrap(), *command);
        assert_eq!(name.to_uppercase().parse::<Command>().unwrap(), *command);
        assert!(!command.describe().is_empty());
        assert!(!command.label().is_empty());
    }
    assert_eq!(names.len(), 46);
    assert_eq!("close_next".parse::<Command>(), Ok(Command::CloseNext));
    assert_eq!("command-line".parse::<Command>(), Ok(Command::CommandLine));
    assert_eq!(
        "frobnicate".parse::<Command>().unwrap_err().to_string(),
        "unknown action `frobnicate`"
    );
}

#[test]
fn every_view_name_round_trips() {
    for view in View::all() {
        assert_eq!(view.name().parse::<View>().unwrap(), *view);
    }
    assert!(
        "inbx"
            .parse::<View>()
            .unwrap_err()
            .contains("picker, inbox, thread")
    );
}

#[test]
fn every_default_key_displays_and_parses_back() {
    let keymap = Keymap::defaults();
    for view in View::all() {
        for (command, chords) in keymap.bindings(*view) {
            for key in chords {
                let shown = key.to_string();
                assert_eq!(chord(&shown), key, "{view}.{command}: `{shown}`");
            }
        }
    }
}

#[test]
fn keys_display_the_way_help_shows_them() {
    for (written, shown) in [
        ("j", "j"),
        ("J", "J"),
        ("shift-j", "J"),
        ("?", "?"),
        (":", ":"),
        ("/", "/"),
        ("enter", "Enter"),
        ("ESC", "Esc"),
        ("alt-enter", "Alt-Enter"),
        ("ctrl-e", "Ctrl-E"),
        ("Ctrl-E", "Ctrl-E"),
        ("ctrl-shift-e", "Ctrl-Shift-E"),
        ("ctrl-alt-x", "Ctrl-Alt-X"),
        ("alt-X", "Alt-X"),
        ("down", "↓"),
        ("up", "↑"),
        ("left", "←"),
        ("right", "→"),
        ("pagedown", "PgDn"),
        ("PageUp", "PgUp"),
        ("space", "Space"),
        ("tab", "Tab"),
        ("shift-tab", "Shift-Tab"),
        ("backtab", "Shift-Tab"),
        ("backspace", "Backspace"),
        ("delete", "Del"),
        ("home", "Home"),
        ("end", "End"),
        ("f1", "F1"),
        ("F12", "F12"),
        ("-", "-"),
        ("ctrl--", "Ctrl--"),
        ("shift-up", "Shift-↑"),
    ] {
        let parsed = chord(written);
        assert_eq!(parsed.to_string(), shown, "`{written}`");
        assert_eq!(chord(shown), parsed, "`{shown}` reads back");
    }
}

#[test]
fn keys_parse_to_normalised_chords() {
    assert_eq!(
        chord("G"),
        KeyChord {
            code: KeyCode::Char('G'),
            modifiers: KeyModifiers::NONE
        }
    );
    assert_eq!(chord("shift-g"), chord("G"));
    assert_eq!(
        chord("ctrl-d"),
        KeyChord {
            code: KeyCode::Char('d'),
            modifiers: KeyModifiers::CONTROL
        }
    );
    assert_eq!(chord("ctrl-D"), chord("ctrl-d"));
    assert_eq!(
        chord("alt-enter"),
        KeyChord {
            code: KeyCode::Enter,
            modifiers: KeyModifiers::ALT
        }
    );
    assert_eq!(
        chord("shift-tab"),
        KeyChord {
            code: KeyCode::BackTab,
            modifiers: KeyModifiers::NONE
        }
    );
    assert_eq!(
        chord("ctrl-alt-x").modifiers,
        KeyModifiers::CONTROL | KeyModifiers::ALT
    );
    assert_eq!(chord("Alt-Ctrl-x"), chord("ctrl-alt-x"));
    assert_eq!(chord("space").code, KeyCode::Char(' '));
    assert_eq!(chord("f5").code, KeyCode::F(5));
}

#[test]
fn unknown_keys_are_refused_with_the_key_named() {
    for bad in [
        "", "ctrl-foo", "ctrl-", "foo", "f0", "f13", "f01", "jk", "ctrl+d", "hyper-x", "\t",
    ] {
        let error = bad.parse::<KeyChord>().expect_err(bad);
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("unknown key `{bad}`")),
            "{message}"
        );
        assert!(message.contains("ctrl-d"), "{message}");
    }
}

#[test]
fn an_uppercase_letter_matches_with_or_without_shift() {
    let g = chord("G");
    assert!(g.matches(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)));
    assert!(g.matches(&press(KeyCode::Char('G'), KeyModifiers::NONE)));
    // The kitty keyboard protocol without alternate keys.
    assert!(g.matches(&press(KeyCode::Char('g'), KeyModifiers::SHIFT)));
    assert!(!g.matches(&press(KeyCode::Char('g'), KeyModifiers::NONE)));
    assert!(!chord("g").matches(&press(KeyCode::Char('G'), KeyModifiers::SHIFT)));
    assert!(!g.matches(&press(
        KeyCode::Char('G'),
        KeyModifiers::CONTROL | KeyModifiers::SHIFT
    )));
}

#[test]
fn symbols_match_with_shift() {
    assert!(chord("?").matches(&press(KeyCode::Char('?'), KeyModifiers::SHIFT)));
    assert!(chord("?").matches(&press(KeyCode::Char('?'), KeyModifiers::NONE)));
    assert!(chord(":").matches(&press(KeyCode::Char(':'), KeyModifiers::SHIFT)));
    assert!(chord("space").matches(&press(KeyCode::Char(' '), KeyModifiers::NONE)));
}

#[test]
fn shift_tab_matches_backtab_however_it_arrives() {
    let back = chord("shift-tab");
    assert!(back.matches(&press(KeyCode::BackTab, KeyModifiers::SHIFT)));
    assert!(back.matches(&press(KeyCode::BackTab, KeyModifiers::NONE)));
    assert!(back.matches(&press(KeyCode::Tab, KeyModifiers::SHIFT)));
    assert!(!back.matches(&press(KeyCode::Tab, KeyModifiers::NONE)));
    assert!(!chord("tab").matches(&press(KeyCode::BackTab, KeyModifiers::SHIFT)));
}

#[test]
fn alt_enter_and_ctrl_letters_match() {
    let alt_enter = chord("alt-enter");
    assert!(alt_enter.matches(&press(KeyCode::Enter, KeyModifiers::ALT)));
    assert!(!alt_enter.matches(&press(KeyCode::Enter, KeyModifiers::NONE)));
    assert!(!chord("enter").matches(&press(KeyCode::Enter, KeyModifiers::ALT)));
    let ctrl_d = chord("ctrl-d");
    assert!(ctrl_d.matches(&press(KeyCode::Char('d'), KeyModifiers::CONTROL)));
    assert!(!ctrl_d.matches(&press(KeyCode::Char('d'), KeyModifiers::NONE)));
    assert!(!ctrl_d.matches(&press(
        KeyCode::Char('d'),
        KeyModifiers::CONTROL | KeyModifiers::SHIFT
    )));
    assert!(chord("ctrl-shift-d").matches(&press(
        KeyCode::Char('D'),
        KeyModifiers::CONTROL | KeyModifiers::SHIFT
    )));
}

#[test]
fn a_hand_built_chord_matches_too() {
    let g = KeyChord {
        code: KeyCode::Char('G'),
        modifiers: KeyModifiers::SHIFT,
    };
    assert!(g.matches(&press(KeyCode::Char('G'), KeyModifiers::NONE)));
    assert_eq!(g.to_string(), "G");
}

#[test]
fn releases_are_ignored_and_repeats_count() {
    let j = chord("j");
    let mut event = press(KeyCode::Char('j'), KeyModifiers::NONE);
    event.kind = KeyEventKind::Release;
    assert!(!j.matches(&event));
    assert_eq!(Keymap::defaults().command(View::Inbox, &event), None);
    event.kind = KeyEventKind::Repeat;
    assert!(j.matches(&event));
    assert_eq!(
        Keymap::defaults().command(View::Inbox, &event),
        Some(Command::MoveDown)
    );
}

#[test]
fn default_keys_ask_for_their_commands() {
    let keymap = Keymap::defaults();
    let cases = [
        (
            View::Inbox,
            KeyCode::Char('j'),
            KeyModifiers::NONE,
            Some(Command::MoveDown),
        ),
        (
            View::Inbox,
            KeyCode::Down,
            KeyModifiers::NONE,
            Some(Command::MoveDown),
        ),
        (
            View::Inbox,
            KeyCode::Char('G'),
            KeyModifiers::SHIFT,
            Some(Command::Bottom),
        ),
        (
            View::Inbox,
            KeyCode::Char('?'),
            KeyModifiers::SHIFT,
            Some(Command::Help),
        ),
        (
            View::Inbox,
            KeyCode::Char(':'),
            KeyModifiers::SHIFT,
            Some(Command::CommandLine),
        ),
        (
            View::Inbox,
            KeyCode::Char('d'),
            KeyModifiers::CONTROL,
            Some(Command::PageDown),
        ),
        (
            View::Inbox,
            KeyCode::Enter,
            KeyModifiers::NONE,
            Some(Command::Open),
        ),
        (
            View::Inbox,
            KeyCode::Char('C'),
            KeyModifiers::SHIFT,
            Some(Command::CloseNext),
        ),
        (View::Inbox, KeyCode::Char('z'), KeyModifiers::NONE, None),
        (
            View::Thread,
            KeyCode::Enter,
            KeyModifiers::NONE,
            Some(Command::Reply),
        ),
        (
            View::Thread,
            KeyCode::Esc,
            KeyModifiers::NONE,
            Some(Command::Back),
        ),
        (
            View::Composer,
            KeyCode::Enter,
            KeyModifiers::NONE,
            Some(Command::Send),
        ),
        (
            View::Composer,
            KeyCode::Enter,
            KeyModifiers::ALT,
            Some(Command::Newline),
        ),
        (View::Composer, KeyCode::Char('j'), KeyModifiers::NONE, None),
        (
            View::Templates,
            KeyCode::BackTab,
            KeyModifiers::SHIFT,
            Some(Command::PrevField),
        ),
        (
            View::Templates,
            KeyCode::Char('n'),
            KeyModifiers::CONTROL,
            Some(Command::MoveDown),
        ),
        (
            View::Contact,
            KeyCode::Char(' '),
            KeyModifiers::NONE,
            Some(Command::ToggleOptIn),
        ),
        (
            View::Picker,
            KeyCode::Esc,
            KeyModifiers::NONE,
            Some(Command::Quit),
        ),
    ];
    for (view, code, modifiers, expected) in cases {
        assert_eq!(
            keymap.command(view, &press(code, modifiers)),
            expected,
            "{view} {code:?} {modifiers:?}"
        );
    }
}

#[test]
fn a_configured_action_replaces_its_default_keys() {
    let keymap = Keymap::from_config(&config(&[("inbox", "move_down", "n")])).unwrap();
    assert_eq!(keymap.keys(View::Inbox, Command::MoveDown), &[chord("n")]);
    assert_eq!(
        keymap.command(View::Inbox, &press(KeyCode::Char('j'), KeyModifiers::NONE)),
        None
    );
    // Other views keep their defaults.
    assert_eq!(
        keymap.keys(View::Thread, Command::MoveDown),
        &[chord("j"), chord("down")]
    );
    // The action keeps its place in help.
    assert_eq!(keymap.bindings(View::Inbox)[0].0, Command::MoveDown);
}

#[test]
fn a_value_may_hold_several_keys() {
    let keymap =
        Keymap::from_config(&config(&[("composer", "send", "ctrl-s  alt-enter ctrl-s")])).unwrap();
    assert_eq!(
        keymap.keys(View::Composer, Command::Send),
        &[chord("ctrl-s"), chord("alt-enter")]
    );
    // Alt-Enter was new line's; the user's binding wins, and plain Enter is no longer bound.
    assert_eq!(
        keymap.keys(View::Composer, Command::Newline),
        &[] as &[KeyChord]
    );
    assert!(
        !keymap
            .bindings(View::Composer)
            .iter()
            .any(|(c, _)| *c == Command::Newline)
    );
    assert_eq!(
        keymap.command(View::Composer, &press(KeyCode::Enter, KeyModifiers::NONE)),
        None
    );
}

#[test]
fn swapping_enter_and_alt_enter_is_allowed() {
    let keymap = Keymap::from_config(&config(&[
        ("composer", "send", "alt-enter"),
        ("composer", "newline", "enter"),
    ]))
    .unwrap();
    assert_eq!(
        keymap.command(View::Composer, &press(KeyCode::Enter, KeyModifiers::ALT)),
        Some(Command::Send)
    );
    assert_eq!(
        keymap.command(View::Composer, &press(KeyCode::Enter, KeyModifiers::NONE)),
        Some(Command::Newline)
    );
}

#[test]
fn a_configured_key_is_taken_from_the_action_that_had_it_by_default() {
    let keymap = Keymap::from_config(&config(&[("inbox", "close", "x")])).unwrap();
    assert_eq!(
        keymap.command(View::Inbox, &press(KeyCode::Char('x'), KeyModifiers::NONE)),
        Some(Command::Close)
    );
    assert_eq!(
        keymap.keys(View::Inbox, Command::MarkUnread),
        &[] as &[KeyChord]
    );
    // `c` was close's default and is now free.
    assert_eq!(
        keymap.command(View::Inbox, &press(KeyCode::Char('c'), KeyModifiers::NONE)),
        None
    );
    // The thread view is untouched.
    assert_eq!(
        keymap.command(View::Thread, &press(KeyCode::Char('x'), KeyModifiers::NONE)),
        Some(Command::MarkUnread)
    );
    // Taking one of two keys leaves the other.
    let keymap = Keymap::from_config(&config(&[("inbox", "tag", "down")])).unwrap();
    assert_eq!(keymap.keys(View::Inbox, Command::MoveDown), &[chord("j")]);
}

#[test]
fn an_action_new_to_a_view_is_listed_last_and_kebab_case_works() {
    let keymap = Keymap::from_config(&config(&[
        ("thread", "open-media", "m"),
        ("thread", "workspace", "W"),
    ]))
    .unwrap();
    assert_eq!(keymap.keys(View::Thread, Command::OpenMedia), &[chord("m")]);
    let bindings = keymap.bindings(View::Thread);
    assert_eq!(
        bindings.last().unwrap(),
        &(Command::Workspace, vec![chord("W")])
    );
}

#[test]
fn an_empty_value_unbinds_an_action() {
    let keymap = Keymap::from_config(&config(&[("inbox", "quit", "")])).unwrap();
    assert_eq!(keymap.keys(View::Inbox, Command::Quit), &[] as &[KeyChord]);
    assert_eq!(
        keymap.command(View::Inbox, &press(KeyCode::Char('q'), KeyModifiers::NONE)),
        None
    );
}

#[test]
fn an_unknown_view_names_its_key() {
    let error = error_of(&[("inbx", "quit", "q")]);
    assert_eq!(error.key(), "tui.keys.inbx");
    assert_eq!(
        error.to_string(),
        "`tui.keys.inbx`: unknown view; views are picker, inbox, thread, composer, templates, contact, campaigns, campaign, confirm, team"
    );
}

#[test]
fn an_unknown_action_names_its_key() {
    let error = error_of(&[("thread", "frobnicate", "f")]);
    assert_eq!(error.key(), "tui.keys.thread.frobnicate");
    let message = error.to_string();
    assert!(
        message.starts_with(
            "`tui.keys.thread.frobnicate`: unknown action; actions are quit, help, command_line,"
        ),
        "{message}"
    );
    assert!(message.ends_with("retry_failed, confirm"), "{message}");
}

#[test]
fn a_bad_key_names_its_key() {
    let error = error_of(&[("inbox", "move_down", "j ctrl-foo")]);
    assert_eq!(error.key(), "tui.keys.inbox.move_down");
    let message = error.to_string();
    assert!(
        message.starts_with("`tui.keys.inbox.move_down`: unknown key `ctrl-foo` ("),
        "{message}"
    );
    assert!(error.message().starts_with("unknown key `ctrl-foo`"));
}

#[test]
fn one_key_for_two_configured_actions_is_a_conflict() {
    let error = error_of(&[("inbox", "close", "x"), ("inbox", "mark_unread", "u x")]);
    assert_eq!(error.key(), "tui.keys.inbox");
    assert_eq!(
        error.to_string(),
        "`tui.keys.inbox`: `x` is bound to both close and mark_unread"
    );
    assert_eq!(
        error.message(),
        "`x` is bound to both close and mark_unread"
    );
    // The same key in two views is fine.
    Keymap::from_config(&config(&[
        ("inbox", "close", "x"),
        ("thread", "mark_unread", "x"),
    ]))
    .unwrap();
}

#[test]
fn one_action_written_twice_is_refused() {
    let error = error_of(&[("inbox", "mark_unread", "x"), ("inbox", "mark-unread", "y")]);
    assert_eq!(error.key(), "tui.keys.inbox.mark_unread");
    assert_eq!(
        error.to_string(),
        "`tui.keys.inbox.mark_unread`: mark_unread is set twice in this view (as `mark-unread` and `mark_unread`)"
    );
}

#[test]
fn hints_show_the_first_key_and_a_short_label() {
    let keymap = Keymap::defaults();
    assert_eq!(
        keymap.hints(
            View::Inbox,
            &[
                Command::MoveDown,
                Command::MoveUp,
                Command::Open,
                Command::Reply
            ]
        ),
        "j/k move  Enter open  r reply"
    );
    assert_eq!(
        keymap.hints(
            View::Composer,
            &[
                Command::Send,
                Command::Newline,
                Command::Back,
                Command::Editor
            ]
        ),
        "Enter send  Alt-Enter new line  Esc back  Ctrl-E editor"
    );
    assert_eq!(
        keymap.hints(
            View::Templates,
            &[Command::NextField, Command::PrevField, Command::Send]
        ),
        "Tab/Shift-Tab field  Enter send"
    );
    assert_eq!(
        keymap.hints(
            View::Inbox,
            &[
                Command::CloseNext,
                Command::Help,
                Command::Send,
                Command::Quit
            ]
        ),
        "C close+next  ? help  q quit"
    );
    assert_eq!(keymap.hints(View::Inbox, &[]), "");
}

#[test]
fn hints_leave_out_commands_without_a_key() {
    let keymap =
        Keymap::from_config(&config(&[("inbox", "move_up", ""), ("inbox", "reply", "")])).unwrap();
    assert_eq!(
        keymap.hints(
            View::Inbox,
            &[
                Command::MoveDown,
                Command::MoveUp,
                Command::Open,
                Command::Reply
            ]
        ),
        "j down  Enter open"
    );
}

#[test]
fn help_lists_the_bindings_in_table_order() {
    let keymap = Keymap::defaults();
    let composer: Vec<(Command, Vec<String>)> = keymap
        .bindings(View::Composer)
        .into_iter()
        .map(|(c, keys)| (c, keys.iter().map(ToString::to_string).collect()))
        .collect();
    assert_eq!(
        composer,
        vec![
            (Command::Send, vec!["Enter".to_string()]),
            (Command::Newline, vec!["Alt-Enter".to_string()]),
            (Command::Back, vec!["Esc".to_string()]),
            (Command::Editor, vec!["Ctrl-E".to_string()]),
            (Command::Attach, vec!["Ctrl-A".to_string()]),
            (Command::Canned, vec!["Ctrl-R".to_string()]),
            (Command::ToggleNote, vec!["Ctrl-N".to_string()]),
            (Command::Template, vec!["Ctrl-T".to_string()]),
        ]
    );
    let inbox = keymap.bindings(View::Inbox);
    assert_eq!(inbox.len(), 27);
    assert_eq!(
        inbox[0],
        (Command::MoveDown, vec![chord("j"), chord("down")])
    );
    assert_eq!(inbox[23].0, Command::Workspace);
    assert_eq!(inbox[25].0, Command::Campaigns);
    assert_eq!(inbox[26].0, Command::Team);
}

#[test]
fn the_campaign_views_have_their_controls_and_the_tabs_have_keys() {
    let keymap = Keymap::defaults();
    let ask = |view, key: KeyCode| keymap.command(view, &press(key, KeyModifiers::NONE));
    for view in [View::Inbox, View::Thread, View::Campaigns, View::Campaign] {
        assert_eq!(
            ask(view, KeyCode::Char('1')),
            Some(Command::Inbox),
            "{view}"
        );
        assert_eq!(
            ask(view, KeyCode::Char('2')),
            Some(Command::Campaigns),
            "{view}"
        );
    }
    assert_eq!(
        ask(View::Composer, KeyCode::Char('2')),
        None,
        "digits are text there"
    );
    for view in [View::Campaigns, View::Campaign] {
        assert_eq!(ask(view, KeyCode::Char('p')), Some(Command::Pause));
        assert_eq!(ask(view, KeyCode::Char('R')), Some(Command::Resume));
        assert_eq!(ask(view, KeyCode::Char('s')), Some(Command::Start));
        assert_eq!(ask(view, KeyCode::Char('C')), Some(Command::CancelCampaign));
        assert_eq!(ask(view, KeyCode::Char('F')), Some(Command::RetryFailed));
    }
    assert_eq!(
        ask(View::Campaign, KeyCode::Char('f')),
        Some(Command::Filter)
    );
    assert_eq!(ask(View::Campaign, KeyCode::Esc), Some(Command::Back));
    assert_eq!(ask(View::Campaigns, KeyCode::Enter), Some(Command::Open));
    assert_eq!(
        ask(View::Confirm, KeyCode::Char('y')),
        Some(Command::Confirm)
    );
    assert_eq!(ask(View::Confirm, KeyCode::Char('n')), Some(Command::Back));
    assert_eq!(ask(View::Confirm, KeyCode::Esc), Some(Command::Back));
    assert_eq!(
        Command::CancelCampaign.campaign_move(),
        Some(crate::domain::Move::Cancel)
    );
    assert_eq!(Command::Filter.campaign_move(), None);
}
