//! State tests of `update`: each action's change to the state and the effects it asks for.

use chrono::Duration;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::*;
use crate::domain::{CampaignStatus, Move, Role};
use crate::store::campaign_views::RecipientFilter;
use crate::store::inbox::InboxFilter;
use crate::tui::fixtures::{self, id};
use crate::tui::state::{ComposeMode, Focus, Overlay, Screen};

fn key(code: KeyCode) -> Action {
    Action::Input(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn char(c: char) -> Action {
    key(KeyCode::Char(c))
}

fn alt_enter() -> Action {
    Action::Input(Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)))
}

/// A state with the fixture rows loaded.
fn loaded(role: Role) -> State {
    let mut state = fixtures::state(role, 120, 40);
    let effects = update(
        &mut state,
        Action::WorkspaceChosen(Box::new(fixtures::membership(role))),
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadInbox { after: None, .. }))
    );
    let generation = state.inbox.generation;
    update(
        &mut state,
        Action::InboxLoaded {
            generation,
            append: false,
            rows: fixtures::rows(),
            limit: PAGE,
        },
    );
    update(&mut state, Action::CountsLoaded(fixtures::counts()));
    state
}

/// A state with the first conversation open and its thread loaded.
fn opened(window_left: Duration) -> State {
    let mut state = loaded(Role::Owner);
    update(&mut state, key(KeyCode::Enter));
    let conversation = state.thread.as_ref().unwrap().conversation;
    update(
        &mut state,
        Action::ThreadLoaded {
            conversation,
            header: Box::new(fixtures::header(conversation, window_left)),
            entries: fixtures::entries().into_iter().rev().collect(),
            limit: THREAD_PAGE,
        },
    );
    state
}

#[test]
fn choosing_a_workspace_starts_the_session_and_loads_the_first_page() {
    let mut state = fixtures::state(Role::Member, 80, 24);
    state.session = None;
    let effects = update(
        &mut state,
        Action::WorkspaceChosen(Box::new(fixtures::membership(Role::Member))),
    );
    assert_eq!(state.session.as_ref().unwrap().role(), Role::Member);
    assert!(effects.contains(&Effect::LoadCounts));
    assert!(effects.contains(&Effect::LoadOutboxDepth));
    assert!(state.inbox.loading);
}

#[test]
fn the_picker_opens_the_chosen_workspace() {
    let mut state = fixtures::state(Role::Owner, 80, 24);
    state.session = None;
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::SwitchWorkspace(Box::new(fixtures::membership(
            Role::Owner
        )))]
    );
}

#[test]
fn moving_down_selects_the_next_row_and_never_loads_a_thread() {
    let mut state = loaded(Role::Owner);
    let effects = update(&mut state, char('j'));
    assert_eq!(state.inbox.selected, 1);
    assert!(effects.is_empty(), "{effects:?}");
    update(&mut state, key(KeyCode::Down));
    assert_eq!(state.inbox.selected, 2);
    update(&mut state, char('G'));
    assert_eq!(state.inbox.selected, 5);
    update(&mut state, char('g'));
    assert_eq!(state.inbox.selected, 0);
    update(&mut state, char('k'));
    assert_eq!(state.inbox.selected, 0);
}

#[test]
fn nearing_the_last_loaded_row_asks_for_the_next_page_once() {
    let mut state = loaded(Role::Owner);
    state.inbox.complete = false;
    let effects = update(&mut state, char('j'));
    let last = state.inbox.rows.last().unwrap().cursor();
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::LoadInbox { after: Some(after), .. } if *after == last
    )));
    assert!(
        update(&mut state, char('j')).is_empty(),
        "one page at a time"
    );
}

#[test]
fn a_page_for_an_old_query_is_dropped() {
    let mut state = loaded(Role::Owner);
    let old = state.inbox.generation;
    update(&mut state, char('f'));
    assert!(matches!(state.inbox.query.filter, InboxFilter::Mine(_)));
    update(
        &mut state,
        Action::InboxLoaded {
            generation: old,
            append: false,
            rows: fixtures::rows(),
            limit: PAGE,
        },
    );
    assert!(state.inbox.rows.is_empty());
    assert!(state.inbox.loading);
}

#[test]
fn opening_loads_the_thread_and_starts_the_dwell() {
    let mut state = loaded(Role::Owner);
    let effects = update(&mut state, key(KeyCode::Enter));
    let conversation = id(101);
    assert_eq!(
        effects,
        vec![
            Effect::LoadThread {
                conversation,
                limit: THREAD_PAGE
            },
            Effect::StartDwell(conversation)
        ]
    );
    assert_eq!(state.focus, Focus::Thread);
}

#[test]
fn the_dwell_marks_read_once_and_not_after_mark_unread() {
    let mut state = opened(Duration::hours(21));
    let conversation = id(101);
    assert_eq!(
        update(&mut state, Action::Dwell(conversation)),
        vec![Effect::MarkRead(conversation)]
    );
    assert_eq!(state.inbox.rows[0].unread_count, 0);
    assert!(update(&mut state, Action::Dwell(conversation)).is_empty());

    let mut state = opened(Duration::hours(21));
    assert_eq!(
        update(&mut state, char('x')),
        vec![Effect::MarkUnread(conversation)]
    );
    assert!(update(&mut state, Action::Dwell(conversation)).is_empty());
}

#[test]
fn a_dwell_for_a_conversation_left_behind_does_nothing() {
    let mut state = opened(Duration::hours(21));
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, char('j'));
    update(&mut state, key(KeyCode::Enter));
    assert!(update(&mut state, Action::Dwell(id(101))).is_empty());
}

#[test]
fn enter_sends_and_alt_enter_adds_a_line() {
    let mut state = opened(Duration::hours(21));
    update(&mut state, char('r'));
    assert_eq!(state.focus, Focus::Composer);
    for c in "It does!".chars() {
        update(&mut state, char(c));
    }
    update(&mut state, alt_enter());
    for c in "Blue ships next week.".chars() {
        update(&mut state, char(c));
    }
    let effects = update(&mut state, key(KeyCode::Enter));
    let [Effect::Send(outgoing)] = effects.as_slice() else {
        panic!("expected one send, got {effects:?}");
    };
    assert_eq!(
        outgoing.what,
        Sendable::Text("It does!\nBlue ships next week.".into())
    );
    assert_eq!(outgoing.to, "5511987650001");
    assert_eq!(outgoing.phone_number_id, "100200300");
    assert!(state.composer.sending);
    // The text stays until the outbox has it.
    assert_eq!(state.composer.text(), "It does!\nBlue ships next week.");
    update(
        &mut state,
        Action::Sent {
            conversation: id(101),
            from_composer: true,
            result: Ok(()),
        },
    );
    assert_eq!(state.composer.text(), "");
}

#[test]
fn a_refused_send_keeps_the_text_and_says_why() {
    let mut state = opened(Duration::hours(21));
    update(&mut state, char('r'));
    update(&mut state, char('x'));
    update(&mut state, key(KeyCode::Enter));
    update(
        &mut state,
        Action::Sent {
            conversation: id(101),
            from_composer: true,
            result: Err("not sent: the window closed".into()),
        },
    );
    assert_eq!(state.composer.text(), "x");
    assert!(state.notice.as_ref().unwrap().error);
}

#[test]
fn a_closed_window_refuses_free_text_on_screen() {
    let mut state = opened(-Duration::hours(3));
    update(&mut state, char('r'));
    update(&mut state, char('h'));
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(effects.is_empty());
    let notice = state.notice.as_ref().unwrap();
    assert!(notice.error);
    assert!(
        notice
            .text
            .contains("window closed 3h 00m ago: only an approved template"),
        "{}",
        notice.text
    );
}

#[test]
fn the_template_form_fills_each_variable_and_sends() {
    let mut state = opened(-Duration::hours(3));
    let effects = update(&mut state, char('t'));
    assert_eq!(effects, vec![Effect::LoadTemplates]);
    let template = |name: &str, status: &str, waba: &str| crate::store::templates::Template {
        id: uuid::Uuid::now_v7(),
        workspace_id: id(2),
        waba_id: waba.into(),
        wa_template_id: None,
        name: name.into(),
        language: "en_US".into(),
        category: "UTILITY".into(),
        status: status.into(),
        components: serde_json::json!([{"type": "BODY", "text": "Hi {{1}}, order {{2}} shipped."}]),
        rejected_reason: None,
        synced_at: None,
    };
    update(
        &mut state,
        Action::TemplatesLoaded(vec![
            template("order_update", "APPROVED", "900"),
            template("draft_one", "PENDING", "900"),
            template("other_account", "APPROVED", "901"),
        ]),
    );
    let Some(Overlay::Templates(form)) = &state.overlay else {
        panic!("the form is open");
    };
    assert_eq!(
        form.templates.len(),
        1,
        "only this number's approved templates"
    );
    assert_eq!(form.values.len(), 2);
    for c in "Ana".chars() {
        update(&mut state, char(c));
    }
    // Sending with a variable empty is refused and focuses it.
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    let Some(Overlay::Templates(form)) = &state.overlay else {
        panic!("the form stays open");
    };
    assert_eq!(form.field, Some(1));
    update(&mut state, key(KeyCode::Tab));
    update(&mut state, key(KeyCode::BackTab));
    for c in "#4521".chars() {
        update(&mut state, char(c));
    }
    let effects = update(&mut state, key(KeyCode::Enter));
    let [Effect::Send(outgoing)] = effects.as_slice() else {
        panic!("expected a send, got {effects:?}");
    };
    assert_eq!(
        outgoing.what,
        Sendable::Template {
            name: "order_update".into(),
            language: "en_US".into(),
            params: vec!["Ana".into(), "#4521".into()]
        }
    );
    assert!(state.overlay.is_none());
    // A template sent leaves the composer's draft alone.
    state.composer.set_text("draft");
    update(
        &mut state,
        Action::Sent {
            conversation: id(101),
            from_composer: false,
            result: Ok(()),
        },
    );
    assert_eq!(state.composer.text(), "draft");
}

#[test]
fn a_note_is_saved_and_never_sent() {
    let mut state = opened(Duration::hours(21));
    update(&mut state, char('n'));
    assert_eq!(state.composer.mode, ComposeMode::Note);
    for c in "call back".chars() {
        update(&mut state, char(c));
    }
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::AddNote {
            conversation: id(101),
            body: "call back".into()
        }]
    );
}

#[test]
fn quote_reply_quotes_the_selected_message() {
    let mut state = opened(Duration::hours(21));
    for _ in 0..3 {
        update(&mut state, char('k'));
    }
    update(&mut state, char('R'));
    let quote = state.composer.quote.clone().expect("a quote");
    assert_eq!(quote.wa_message_id, "wamid.3");
    for c in "yes".chars() {
        update(&mut state, char(c));
    }
    let effects = update(&mut state, key(KeyCode::Enter));
    let [Effect::Send(outgoing)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(outgoing.reply_to.as_deref(), Some("wamid.3"));
}

#[test]
fn esc_leaves_the_composer_with_the_draft_kept_per_conversation() {
    let mut state = opened(Duration::hours(21));
    update(&mut state, char('r'));
    update(&mut state, char('d'));
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.focus, Focus::Thread);
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, char('j'));
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.composer.text(), "");
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, char('k'));
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.composer.text(), "d");
}

#[test]
fn next_unread_jumps_past_the_open_one_and_wraps() {
    let mut state = loaded(Role::Owner);
    let effects = update(&mut state, char('u'));
    assert_eq!(state.inbox.selected, 1);
    assert!(effects.contains(&Effect::StartDwell(id(102))));
    let effects = update(&mut state, char('u'));
    assert_eq!(state.inbox.selected, 0, "wraps to the top");
    assert!(effects.contains(&Effect::StartDwell(id(101))));
}

#[test]
fn close_next_resolves_and_opens_the_next_unread() {
    let mut state = opened(Duration::hours(21));
    let effects = update(&mut state, char('C'));
    assert_eq!(effects[0], Effect::Close(id(101)));
    assert_eq!(state.thread.as_ref().unwrap().conversation, id(102));
}

#[test]
fn assign_me_and_role_rules() {
    let mut state = loaded(Role::Member);
    assert_eq!(
        update(&mut state, char('a')),
        vec![Effect::Assign {
            conversation: id(101),
            to: Some(id(1)),
            name: "Alex".into()
        }]
    );
    // A MEMBER is not offered assigning to others.
    assert!(update(&mut state, char('A')).is_empty());
    assert!(state.notice.as_ref().unwrap().error);
    let mut owner = loaded(Role::Owner);
    assert_eq!(update(&mut owner, char('A')), vec![Effect::LoadMembers]);
}

#[test]
fn the_command_line_runs_named_actions() {
    let mut state = opened(Duration::hours(21));
    update(&mut state, char(':'));
    for c in "tag vip -promo new".chars() {
        update(&mut state, char(c));
    }
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::SetTags {
            contact: id(201),
            tags: vec!["vip".into(), "new".into()]
        }]
    );
    update(&mut state, char(':'));
    for c in "frobnicate".chars() {
        update(&mut state, char(c));
    }
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert!(state.notice.as_ref().unwrap().error);
}

#[test]
fn search_starts_a_new_query() {
    let mut state = loaded(Role::Owner);
    update(&mut state, char('/'));
    for c in "blue".chars() {
        update(&mut state, char(c));
    }
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.inbox.query.search.as_deref(), Some("blue"));
    assert!(matches!(effects[0], Effect::LoadInbox { after: None, .. }));
}

#[test]
fn a_change_reloads_once_while_a_load_is_in_flight() {
    let mut state = opened(Duration::hours(21));
    let effects = update(&mut state, Action::Changed(Some(id(101))));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadInbox { .. }))
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadThread { .. }))
    );
    assert!(
        update(&mut state, Action::Changed(Some(id(101))))
            .iter()
            .all(|e| !matches!(e, Effect::LoadInbox { .. } | Effect::LoadThread { .. })),
        "a second change waits for the load in flight"
    );
    // The answer comes in: the waiting change is loaded then.
    let generation = state.inbox.generation;
    let effects = update(
        &mut state,
        Action::InboxLoaded {
            generation,
            append: false,
            rows: fixtures::rows(),
            limit: PAGE,
        },
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadInbox { .. }))
    );
}

#[test]
fn a_new_message_elsewhere_rings_the_bell_and_nothing_changed_draws_nothing() {
    let mut state = opened(Duration::hours(21));
    update(&mut state, Action::Changed(None));
    let mut rows = fixtures::rows();
    rows[2].unread_count = 1;
    let generation = state.inbox.generation;
    state.dirty = false;
    let effects = update(
        &mut state,
        Action::InboxLoaded {
            generation,
            append: false,
            rows: rows.clone(),
            limit: PAGE,
        },
    );
    assert!(effects.contains(&Effect::Bell));
    assert!(state.dirty);

    update(&mut state, Action::Changed(None));
    state.dirty = false;
    let effects = update(
        &mut state,
        Action::InboxLoaded {
            generation,
            append: false,
            rows,
            limit: PAGE,
        },
    );
    assert!(!effects.contains(&Effect::Bell));
    assert!(!state.dirty, "the same rows again draw nothing");
}

#[test]
fn a_reload_keeps_the_selected_conversation_selected() {
    let mut state = loaded(Role::Owner);
    update(&mut state, char('j'));
    update(&mut state, char('j'));
    let selected = state.inbox.selected_row().unwrap().id;
    update(&mut state, Action::Changed(None));
    let mut rows = fixtures::rows();
    rows.rotate_right(1);
    let generation = state.inbox.generation;
    update(
        &mut state,
        Action::InboxLoaded {
            generation,
            append: false,
            rows,
            limit: PAGE,
        },
    );
    assert_eq!(state.inbox.selected_row().unwrap().id, selected);
}

#[test]
fn scrolling_up_the_thread_loads_older_entries_and_keeps_the_selection() {
    let mut state = opened(Duration::hours(21));
    state.thread.as_mut().unwrap().complete = false;
    let mut effects = Vec::new();
    for _ in 0..4 {
        effects.extend(update(&mut state, char('k')));
    }
    let [Effect::LoadOlder { before, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(*before, fixtures::entries()[0].key());
    let selected = state.thread.as_ref().unwrap().selected.unwrap();
    let older = fixtures::message(99, false, "older", 600);
    update(
        &mut state,
        Action::OlderLoaded {
            conversation: id(101),
            entries: vec![crate::store::thread::Entry::Message(older)],
            limit: THREAD_PAGE,
        },
    );
    let thread = state.thread.as_ref().unwrap();
    assert!(thread.complete);
    assert_eq!(thread.entries.len(), 7);
    assert_eq!(thread.selected, Some(selected + 1));
}

#[test]
fn the_mouse_wheel_moves_and_a_click_opens() {
    let mut state = loaded(Role::Owner);
    let mouse = |kind, column, row| {
        Action::Input(Event::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }))
    };
    update(&mut state, mouse(MouseEventKind::ScrollDown, 5, 5));
    assert_eq!(state.inbox.selected, 1);
    // Row 3 of the list: lines 1+2*2 .. inside the border at y = 1.
    let effects = update(
        &mut state,
        mouse(MouseEventKind::Down(MouseButton::Left), 5, 2 + 2 * 2),
    );
    assert_eq!(state.inbox.selected, 2);
    assert!(effects.contains(&Effect::StartDwell(id(103))));
}

#[test]
fn help_shows_the_bindings_of_the_view_and_any_key_closes_it() {
    let mut state = loaded(Role::Owner);
    update(&mut state, char('?'));
    assert!(matches!(state.overlay, Some(Overlay::Help(View::Inbox))));
    update(&mut state, char('z'));
    assert!(state.overlay.is_none());
}

#[test]
fn quit() {
    let mut state = loaded(Role::Owner);
    update(&mut state, char('q'));
    assert!(state.quit);
}

#[test]
fn the_clock_redraws_only_when_the_minute_changes() {
    let mut state = loaded(Role::Owner);
    state.dirty = false;
    update(
        &mut state,
        Action::Tick(fixtures::now() + Duration::seconds(20)),
    );
    assert!(!state.dirty);
    update(
        &mut state,
        Action::Tick(fixtures::now() + Duration::seconds(61)),
    );
    assert!(state.dirty);
}

#[test]
fn the_database_coming_back_reloads_what_is_shown() {
    let mut state = opened(Duration::hours(21));
    assert!(update(&mut state, Action::Database(false)).is_empty());
    assert!(!state.health.database);
    let effects = update(&mut state, Action::Database(true));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadInbox { .. }))
    );
    assert!(effects.contains(&Effect::LoadOutboxDepth));
}

#[test]
fn canned_replies_are_picked_by_code() {
    let mut state = opened(Duration::hours(21));
    update(&mut state, char('r'));
    let effects = update(
        &mut state,
        Action::Input(Event::Key(KeyEvent::new(
            KeyCode::Char('r'),
            KeyModifiers::CONTROL,
        ))),
    );
    assert_eq!(effects, vec![Effect::LoadCanned]);
    update(
        &mut state,
        Action::CannedLoaded(vec![
            crate::store::agent::Canned {
                code: "hello".into(),
                body: "Hello! How can I help?".into(),
            },
            crate::store::agent::Canned {
                code: "ship".into(),
                body: "It ships within 2 days.".into(),
            },
        ]),
    );
    update(&mut state, char('s'));
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.composer.text(), "It ships within 2 days.");
    assert!(state.overlay.is_none());
}

#[test]
fn only_owners_and_admins_change_canned_replies() {
    let mut member = loaded(Role::Member);
    let args = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    assert!(run(&mut member, Command::Canned, args(&["add", "hi", "Hello!"])).is_empty());
    assert!(member.notice.as_ref().unwrap().error);
    let mut admin = loaded(Role::Admin);
    assert_eq!(
        run(
            &mut admin,
            Command::Canned,
            args(&["add", "hi", "Hello", "there"])
        ),
        vec![Effect::SaveCanned {
            code: "hi".into(),
            body: "Hello there".into()
        }]
    );
    assert_eq!(
        run(&mut admin, Command::Canned, args(&["delete", "hi"])),
        vec![Effect::DeleteCanned("hi".into())]
    );
}

#[test]
fn an_empty_inbox_is_drawn_once_its_first_page_is_in() {
    let mut state = fixtures::state(Role::Owner, 80, 24);
    update(
        &mut state,
        Action::WorkspaceChosen(Box::new(fixtures::membership(Role::Owner))),
    );
    state.dirty = false;
    let generation = state.inbox.generation;
    update(
        &mut state,
        Action::InboxLoaded {
            generation,
            append: false,
            rows: Vec::new(),
            limit: PAGE,
        },
    );
    assert!(state.dirty, "the footer stops saying loading…");
    assert!(state.inbox.complete);
}

#[test]
fn leaving_the_workspace_picker_goes_back_to_the_workspace() {
    let mut state = loaded(Role::Owner);
    update(&mut state, char('w'));
    assert!(state.session.is_none(), "the picker is shown");
    assert_eq!(
        update(&mut state, key(KeyCode::Esc)),
        vec![Effect::SwitchWorkspace(Box::new(fixtures::membership(
            Role::Owner
        )))]
    );
    assert!(!state.quit);
}

#[test]
fn changes_streaming_in_ask_for_the_counts_at_most_every_two_seconds() {
    let mut state = loaded(Role::Owner);
    let asks = |effects: &[Effect]| effects.contains(&Effect::LoadCounts);
    let reload = |state: &mut State| {
        let effects = update(state, Action::Changed(None));
        let generation = state.inbox.generation;
        update(
            state,
            Action::InboxLoaded {
                generation,
                append: false,
                rows: fixtures::rows(),
                limit: PAGE,
            },
        );
        effects
    };
    // The first page asked at `now`; a change at the same moment waits.
    assert!(!asks(&reload(&mut state)));
    assert!(state.inbox.counts_stale);
    // Once two seconds have passed, the next action asks.
    let later = fixtures::now() + Duration::seconds(2);
    assert!(asks(&update(&mut state, Action::Tick(later))));
    assert!(!state.inbox.counts_stale);
    assert!(!asks(&update(&mut state, Action::Tick(later))));
}

#[test]
fn a_failed_load_says_so_and_the_next_change_loads_again() {
    let mut state = opened(Duration::hours(21));
    update(&mut state, Action::Changed(Some(id(101))));
    let generation = state.inbox.generation;
    update(
        &mut state,
        Action::InboxFailed {
            generation,
            error: "could not load the conversations: the database is unavailable".into(),
        },
    );
    update(
        &mut state,
        Action::ThreadFailed {
            conversation: id(101),
            error: "could not load the conversation".into(),
        },
    );
    assert!(state.notice.as_ref().unwrap().error);
    let effects = update(&mut state, Action::Database(false));
    assert!(effects.is_empty());
    let effects = update(&mut state, Action::Database(true));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadInbox { .. }))
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadThread { .. }))
    );
}

#[test]
fn a_reload_of_the_newest_page_keeps_the_older_entries_loaded() {
    let mut state = opened(Duration::hours(21));
    let loaded = fixtures::entries();
    let new = crate::store::thread::Entry::Message(fixtures::message(7, true, "Reserved!", 1));
    update(
        &mut state,
        Action::ThreadLoaded {
            conversation: id(101),
            header: Box::new(fixtures::header(id(101), Duration::hours(21))),
            entries: vec![new.clone(), loaded[5].clone()],
            limit: 2,
        },
    );
    let thread = state.thread.as_ref().unwrap();
    assert_eq!(thread.entries.len(), 7);
    assert_eq!(thread.entries[..6], loaded[..]);
    assert_eq!(thread.entries[6], new);
}

// The campaign tab.

fn dashboards(effects: &[Effect]) -> Vec<(RecipientFilter, std::time::Duration)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::LoadDashboard { filter, after, .. } => Some((*filter, *after)),
            _ => None,
        })
        .collect()
}

/// The campaign list of `role`, loaded.
fn on_campaigns(role: Role) -> State {
    let mut state = loaded(role);
    let effects = update(&mut state, char('2'));
    assert_eq!(state.screen, Screen::Campaigns);
    assert_eq!(
        effects,
        vec![Effect::LoadCampaigns {
            after: std::time::Duration::ZERO
        }]
    );
    let workspace = state.session.as_ref().unwrap().workspace();
    let effects = update(
        &mut state,
        Action::CampaignsLoaded {
            workspace,
            rows: fixtures::campaigns(),
        },
    );
    assert!(effects.is_empty(), "{effects:?}");
    state
}

/// Spring sale's dashboard, opened by `role` and loaded.
fn on_dashboard(role: Role) -> State {
    let mut state = on_campaigns(role);
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::LoadDashboard {
            campaign: fixtures::running().id,
            filter: RecipientFilter::All,
            after: std::time::Duration::ZERO,
        }]
    );
    let effects = update(
        &mut state,
        Action::DashboardLoaded {
            campaign: fixtures::running().id,
            dashboard: Box::new(fixtures::dashboard()),
        },
    );
    assert!(effects.is_empty(), "{effects:?}");
    state
}

#[test]
fn the_tab_keys_switch_screens_and_load_what_they_show() {
    let mut state = on_campaigns(Role::Member);
    assert_eq!(state.view(), View::Campaigns);
    assert_eq!(state.campaigns.rows.len(), 4);
    let effects = update(&mut state, char('1'));
    assert_eq!(state.screen, Screen::Inbox);
    assert_eq!(state.view(), View::Inbox);
    assert!(effects.is_empty(), "the inbox is kept live: {effects:?}");
    // Esc on the list goes back to the inbox too.
    update(&mut state, char('2'));
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.screen, Screen::Inbox);
}

#[test]
fn enter_opens_the_dashboard_and_esc_goes_back_to_a_fresh_list() {
    let mut state = on_dashboard(Role::Owner);
    assert_eq!(state.view(), View::Campaign);
    let effects = update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.view(), View::Campaigns);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadCampaigns { .. })),
        "{effects:?}"
    );
    // The tab's key on its own tab also goes back to the list.
    update(&mut state, key(KeyCode::Enter));
    update(&mut state, char('2'));
    assert_eq!(state.view(), View::Campaigns);
}

#[test]
fn f_cycles_the_recipient_filter_with_one_load_in_flight() {
    let mut state = on_dashboard(Role::Member);
    state.campaigns.dashboard.as_mut().unwrap().offset = 7;
    let effects = update(&mut state, char('f'));
    let dashboard = state.campaigns.dashboard.as_ref().unwrap();
    assert_eq!(dashboard.filter, RecipientFilter::Failed);
    assert_eq!(dashboard.offset, 0);
    assert!(
        dashboard.recipients().is_none(),
        "the old page is not shown"
    );
    assert_eq!(
        dashboards(&effects),
        [(RecipientFilter::Failed, std::time::Duration::ZERO)]
    );
    // Again while that load is out: no second load, one more once it is in, at once.
    let effects = update(&mut state, char('f'));
    assert!(dashboards(&effects).is_empty(), "{effects:?}");
    assert_eq!(
        state.campaigns.dashboard.as_ref().unwrap().filter,
        RecipientFilter::Replied
    );
    let mut failed = fixtures::dashboard();
    failed.filter = RecipientFilter::Failed;
    let effects = update(
        &mut state,
        Action::DashboardLoaded {
            campaign: fixtures::running().id,
            dashboard: Box::new(failed),
        },
    );
    assert_eq!(
        dashboards(&effects),
        [(RecipientFilter::Replied, std::time::Duration::ZERO)]
    );
    // The cycle goes through every filter and back to all.
    let mut seen = vec![RecipientFilter::All, RecipientFilter::Failed];
    loop {
        let filter = state.campaigns.dashboard.as_ref().unwrap().filter;
        if filter == RecipientFilter::All {
            break;
        }
        seen.push(filter);
        state.campaigns.dashboard.as_mut().unwrap().reload = Default::default();
        update(&mut state, char('f'));
    }
    assert_eq!(seen, RecipientFilter::ALL);
    // The command line names one.
    state.campaigns.dashboard.as_mut().unwrap().reload = Default::default();
    let effects = update(
        &mut state,
        Action::Run(Command::Filter, vec!["skipped".into()]),
    );
    assert_eq!(
        dashboards(&effects),
        [(RecipientFilter::Skipped, std::time::Duration::ZERO)]
    );
    update(
        &mut state,
        Action::Run(Command::Filter, vec!["nobody".into()]),
    );
    assert!(
        state
            .notice
            .as_ref()
            .unwrap()
            .text
            .contains("unknown filter")
    );
}

#[test]
fn the_controls_are_an_owners_and_an_admins_only() {
    let mut state = on_dashboard(Role::Member);
    for c in ['p', 'R', 's', 'F', 'C'] {
        let effects = update(&mut state, char(c));
        assert!(effects.is_empty(), "{c}: {effects:?}");
        assert!(state.overlay.is_none(), "{c}");
        let notice = state.notice.clone().unwrap();
        assert!(notice.error, "{c}");
        assert!(
            notice.text.starts_with("only an OWNER or ADMIN may ")
                && notice.text.ends_with("; a MEMBER may not"),
            "{c}: {}",
            notice.text
        );
    }
    assert_eq!(
        state.notice.unwrap().text,
        "only an OWNER or ADMIN may cancel a campaign; a MEMBER may not"
    );
    // The command line is refused the same way.
    let mut state = on_dashboard(Role::Member);
    update(&mut state, char(':'));
    for c in "pause".chars() {
        update(&mut state, char(c));
    }
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(state.notice.unwrap().text.contains("may pause a campaign"));

    for role in [Role::Owner, Role::Admin] {
        let mut state = on_dashboard(role);
        let campaign = fixtures::running().id;
        for (c, movement) in [
            ('p', Move::Pause),
            ('R', Move::Resume),
            ('s', Move::Start),
            ('F', Move::RetryFailed),
        ] {
            let effects = update(&mut state, char(c));
            assert_eq!(
                effects,
                vec![Effect::ControlCampaign {
                    campaign,
                    name: "Spring sale".into(),
                    actor: role,
                    movement,
                }],
                "{c}"
            );
        }
    }
}

#[test]
fn cancel_asks_first_and_only_yes_cancels() {
    let mut state = on_dashboard(Role::Owner);
    let effects = update(&mut state, char('C'));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(matches!(
        &state.overlay,
        Some(Overlay::Confirm(confirm)) if confirm.movement == Move::Cancel
    ));
    assert_eq!(state.view(), View::Confirm);
    let effects = update(&mut state, char('n'));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(state.overlay.is_none());
    assert_eq!(state.view(), View::Campaign);
    // Any other key leaves it too.
    update(&mut state, char('C'));
    let effects = update(&mut state, char('x'));
    assert!(effects.is_empty() && state.overlay.is_none());
    update(&mut state, char('C'));
    let effects = update(&mut state, char('y'));
    assert_eq!(
        effects,
        vec![Effect::ControlCampaign {
            campaign: fixtures::running().id,
            name: "Spring sale".into(),
            actor: Role::Owner,
            movement: Move::Cancel,
        }]
    );
    assert!(state.overlay.is_none());
}

#[test]
fn a_finished_campaign_is_not_asked_about_cancelling() {
    let mut state = on_campaigns(Role::Admin);
    update(&mut state, char('j'));
    update(&mut state, char('j'));
    assert_eq!(
        state.campaigns.selected_row().unwrap().status,
        CampaignStatus::Completed
    );
    let effects = update(&mut state, char('C'));
    assert!(effects.is_empty() && state.overlay.is_none(), "{effects:?}");
    assert_eq!(
        state.notice.unwrap().text,
        "cannot cancel a COMPLETED campaign: only a DRAFT, SCHEDULED, RUNNING or PAUSED campaign can become CANCELLED"
    );
}

#[test]
fn changes_reload_the_dashboard_at_most_once_a_second_and_one_at_a_time() {
    let mut state = on_dashboard(Role::Owner);
    let campaign = fixtures::running().id;
    let second = std::time::Duration::from_secs(1);
    // A change right after a load waits for the interval; more changes meanwhile wait for it.
    let effects = update(&mut state, Action::Changed(Some(id(101))));
    assert_eq!(dashboards(&effects), [(RecipientFilter::All, second)]);
    let effects = update(&mut state, Action::Changed(None));
    assert!(dashboards(&effects).is_empty(), "{effects:?}");
    let effects = update(&mut state, Action::CampaignChanged(campaign));
    assert!(dashboards(&effects).is_empty(), "{effects:?}");
    // Another campaign's moves are not this dashboard's.
    state.campaigns.dashboard.as_mut().unwrap().reload.again = None;
    let effects = update(&mut state, Action::CampaignChanged(id(999)));
    assert!(dashboards(&effects).is_empty(), "{effects:?}");
    assert_eq!(
        state.campaigns.dashboard.as_ref().unwrap().reload.again,
        None
    );
    // The answer, with nothing new but the time of the read: nothing to draw.
    state.dirty = false;
    let mut same = fixtures::dashboard();
    same.as_of += Duration::seconds(1);
    let effects = update(
        &mut state,
        Action::DashboardLoaded {
            campaign,
            dashboard: Box::new(same),
        },
    );
    assert!(effects.is_empty(), "{effects:?}");
    assert!(!state.dirty, "nothing changed, nothing drawn");
    // A change, then an answer with a counter moved: drawn, and the list row follows.
    update(&mut state, Action::Changed(None));
    let mut moved = fixtures::dashboard();
    moved.campaign.sent_count += 1;
    update(
        &mut state,
        Action::DashboardLoaded {
            campaign,
            dashboard: Box::new(moved),
        },
    );
    assert!(state.dirty);
    assert_eq!(
        state.campaigns.rows[0].sent_count,
        fixtures::running().sent_count + 1
    );
    // On the inbox tab, changes load no dashboard.
    update(&mut state, char('1'));
    let effects = update(&mut state, Action::Changed(None));
    assert!(dashboards(&effects).is_empty(), "{effects:?}");
}

#[test]
fn a_late_list_of_another_workspace_is_dropped() {
    let mut state = on_campaigns(Role::Owner);
    let effects = update(
        &mut state,
        Action::CampaignsLoaded {
            workspace: crate::domain::WorkspaceId(id(9999)),
            rows: Vec::new(),
        },
    );
    assert!(effects.is_empty());
    assert_eq!(state.campaigns.rows.len(), 4);
}

#[test]
fn a_failed_load_says_so_and_the_next_change_tries_again() {
    let mut state = on_dashboard(Role::Owner);
    let campaign = fixtures::running().id;
    update(&mut state, Action::Changed(None));
    update(&mut state, Action::Changed(None));
    let effects = update(
        &mut state,
        Action::DashboardFailed {
            campaign,
            error: "could not load the campaign: the database failed".into(),
        },
    );
    assert!(effects.is_empty());
    assert!(state.notice.as_ref().unwrap().error);
    let effects = update(&mut state, Action::Changed(None));
    assert_eq!(dashboards(&effects).len(), 1);
}

// The team tab.

fn team_loads(effects: &[Effect]) -> Vec<std::time::Duration> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::LoadTeam { after } => Some(*after),
            _ => None,
        })
        .collect()
}

#[test]
fn the_team_tab_loads_once_shown_and_follows_changes_every_two_seconds() {
    let mut state = loaded(Role::Member);
    let effects = update(&mut state, Action::Changed(None));
    assert!(team_loads(&effects).is_empty(), "not shown, not loaded");
    let effects = update(&mut state, char('3'));
    assert_eq!(state.view(), View::Team);
    assert_eq!(team_loads(&effects), [std::time::Duration::ZERO]);
    let workspace = state.session.as_ref().unwrap().workspace();
    state.dirty = false;
    let effects = update(
        &mut state,
        Action::TeamLoaded {
            workspace,
            snapshot: Box::new(fixtures::team()),
        },
    );
    assert!(effects.is_empty());
    assert!(state.dirty);
    // Changes: one load, after the interval; the ones meanwhile wait for its answer.
    let effects = update(&mut state, Action::Changed(Some(id(101))));
    assert_eq!(team_loads(&effects), [std::time::Duration::from_secs(2)]);
    let effects = update(&mut state, Action::CampaignChanged(id(501)));
    assert!(team_loads(&effects).is_empty(), "{effects:?}");
    // The same figures again: nothing to draw; the change meanwhile asks once more.
    state.dirty = false;
    let effects = update(
        &mut state,
        Action::TeamLoaded {
            workspace,
            snapshot: Box::new(fixtures::team()),
        },
    );
    assert!(!state.dirty);
    assert_eq!(team_loads(&effects).len(), 1);
    // j/k scroll the agents; Esc goes back to the inbox.
    state.size = (80, 24);
    let mut many = fixtures::team();
    many.agents = (0..40)
        .map(|_| fixtures::team().agents[0].clone())
        .collect();
    update(
        &mut state,
        Action::TeamLoaded {
            workspace,
            snapshot: Box::new(many),
        },
    );
    update(&mut state, char('j'));
    assert_eq!(state.team.offset, 1);
    update(&mut state, char('G'));
    assert_eq!(
        state.team.offset,
        40 - crate::tui::view::layout::agent_rows(&state)
    );
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.screen, Screen::Inbox);
}

#[test]
fn a_new_utc_day_reloads_the_team_view() {
    let mut state = loaded(Role::Owner);
    update(&mut state, char('3'));
    let workspace = state.session.as_ref().unwrap().workspace();
    update(
        &mut state,
        Action::TeamLoaded {
            workspace,
            snapshot: Box::new(fixtures::team()),
        },
    );
    let effects = update(
        &mut state,
        Action::Tick(fixtures::now() + Duration::minutes(5)),
    );
    assert!(team_loads(&effects).is_empty());
    let effects = update(
        &mut state,
        Action::Tick(fixtures::now() + Duration::hours(13)),
    );
    assert_eq!(team_loads(&effects), [std::time::Duration::ZERO]);
}
