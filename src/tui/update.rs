//! `update`: the one place the TUI's state changes. It does no IO: it returns the effects the
//! loop should run, and every answer comes back as another action.

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use uuid::Uuid;

use super::action::{Action, Effect, Outgoing, Sendable};
use super::command_line;
use super::keymap::{Command, View};
use super::state::{
    ComposeMode, Focus, LineInput, Overlay, PAGE, Prompt, Quote, State, THREAD_PAGE, TemplateForm,
    Thread,
};
use super::view::layout;
use crate::domain::{CustomerWindow, Permission, template};
use crate::store::inbox::{InboxFilter, InboxRow};
use crate::store::thread::Entry;

#[cfg(test)]
mod tests;

/// Applies one action; returns the IO it calls for.
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Input(Event::Key(key)) if key.kind != KeyEventKind::Release => on_key(state, key),
        Action::Input(Event::Mouse(mouse)) => on_mouse(state, mouse),
        Action::Input(Event::Resize(width, height)) => {
            state.size = (width, height);
            state.dirty = true;
            keep_selection_visible(state);
            Vec::new()
        }
        Action::Input(Event::Paste(text)) => {
            if state.focus == Focus::Composer && state.overlay.is_none() {
                state.composer.textarea.insert_str(text);
                state.dirty = true;
            }
            Vec::new()
        }
        Action::Input(_) => Vec::new(),
        Action::Run(command, args) => run(state, command, args),
        Action::Tick(now) => {
            let minute = |t: chrono::DateTime<chrono::Utc>| t.timestamp() / 60;
            if minute(now) != minute(state.now) {
                state.dirty = true;
            }
            state.now = now;
            Vec::new()
        }
        Action::InboxLoaded {
            generation,
            append,
            rows,
            limit,
        } => inbox_loaded(state, generation, append, rows, limit),
        Action::CountsLoaded(counts) => {
            let mut effects = Vec::new();
            if counts != state.inbox.counts {
                if counts.unread != state.inbox.counts.unread {
                    effects.push(Effect::Title(title(state, counts.unread)));
                }
                state.inbox.counts = counts;
                state.dirty = true;
            }
            effects
        }
        Action::ThreadLoaded {
            conversation,
            header,
            entries,
            limit,
        } => thread_loaded(state, conversation, header, entries, limit),
        Action::OlderLoaded {
            conversation,
            entries,
            limit,
        } => {
            if let Some(thread) = state
                .thread
                .as_mut()
                .filter(|t| t.conversation == conversation)
            {
                thread.loading_older = false;
                thread.complete = (entries.len() as i64) < limit;
                let added = entries.len();
                let mut older: Vec<Entry> = entries.into_iter().rev().collect();
                older.append(&mut thread.entries);
                thread.entries = older;
                thread.selected = thread.selected.map(|s| s + added);
                state.dirty = true;
            }
            Vec::new()
        }
        Action::TemplatesLoaded(templates) => {
            let waba = state
                .thread
                .as_ref()
                .and_then(|t| t.header.as_ref())
                .map(|h| h.waba_id.clone());
            if let Some(Overlay::Templates(form)) = state.overlay.as_mut() {
                // Only what may be sent from this number: its account's approved templates.
                form.templates = templates
                    .into_iter()
                    .filter(|t| t.status == "APPROVED" && Some(&t.waba_id) == waba.as_ref())
                    .collect();
                form.loading = false;
                if let Some(wanted) = form.wanted.take() {
                    if let Some(i) = form.templates.iter().position(|t| t.name == wanted) {
                        form.selected = i;
                    } else {
                        state.notice = Some(super::state::Notice {
                            text: format!("no approved template `{wanted}` for this number"),
                            error: true,
                        });
                    }
                }
                reset_fields(form);
                state.dirty = true;
            }
            Vec::new()
        }
        Action::MembersLoaded(members) => {
            if let Some(Overlay::Members {
                members: list,
                wanted,
                ..
            }) = state.overlay.as_mut()
            {
                *list = members;
                if let Some(wanted) = wanted.take() {
                    let found = list.iter().find(|m| {
                        m.email.eq_ignore_ascii_case(&wanted)
                            || m.name
                                .as_deref()
                                .is_some_and(|n| n.eq_ignore_ascii_case(&wanted))
                    });
                    return match found.cloned() {
                        Some(member) => {
                            state.overlay = None;
                            assign_to(state, Some(member.user_id), display_member(&member))
                        }
                        None => {
                            state.overlay = None;
                            state.fail(format!("no member `{wanted}` in this workspace"));
                            Vec::new()
                        }
                    };
                }
                state.dirty = true;
            }
            Vec::new()
        }
        Action::CannedLoaded(replies) => {
            if let Some(Overlay::Canned { replies: list, .. }) = state.overlay.as_mut() {
                *list = replies;
                state.dirty = true;
            }
            Vec::new()
        }
        Action::WorkspaceChosen(membership) => {
            state.session = Some(super::state::Session {
                user: state.user.clone(),
                membership: *membership,
            });
            state.thread = None;
            state.overlay = None;
            state.focus = Focus::List;
            state.inbox = Default::default();
            state.dirty = true;
            let mut effects = new_query(state);
            effects.push(Effect::LoadOutboxDepth);
            effects.push(Effect::Title(title(state, 0)));
            effects
        }
        Action::Changed(conversation) => {
            let mut effects = reload_inbox(state);
            if let Some(thread) = &state.thread
                && conversation.is_none_or(|c| c == thread.conversation)
            {
                effects.extend(reload_thread(state));
            }
            effects
        }
        Action::OutboxChanged => vec![Effect::LoadOutboxDepth],
        Action::OutboxDepth(depth) => {
            if state.health.outbox_depth != depth {
                state.health.outbox_depth = depth;
                state.dirty = true;
            }
            Vec::new()
        }
        Action::Database(up) => {
            let was = state.health.database;
            state.health.database = up;
            state.dirty |= was != up;
            if up && !was && state.session.is_some() {
                // Notifications sent while the feed was down are lost: reload what is shown.
                let mut effects = update(state, Action::Changed(None));
                effects.push(Effect::LoadOutboxDepth);
                return effects;
            }
            Vec::new()
        }
        Action::Dwell(conversation) => {
            let Some(thread) = state
                .thread
                .as_mut()
                .filter(|t| t.conversation == conversation && !t.read_settled)
            else {
                return Vec::new();
            };
            thread.read_settled = true;
            let unread = state
                .inbox
                .rows
                .iter_mut()
                .find(|r| r.id == conversation)
                .map(|row| std::mem::take(&mut row.unread_count))
                .unwrap_or(0)
                + thread.header.as_ref().map_or(0, |h| h.unread_count);
            if unread > 0 {
                state.dirty = true;
                vec![Effect::MarkRead(conversation)]
            } else {
                Vec::new()
            }
        }
        Action::Done(Ok(text)) => {
            state.notify(text);
            Vec::new()
        }
        Action::Done(Err(text)) => {
            state.fail(text);
            Vec::new()
        }
        Action::Sent {
            conversation,
            from_composer,
            result,
        } => {
            let open = state.thread.as_ref().map(|t| t.conversation) == Some(conversation);
            if open && from_composer {
                state.composer.sending = false;
            }
            match result {
                Ok(()) if !from_composer => state.notify("queued"),
                Ok(()) => {
                    if open {
                        state.composer.set_text("");
                        state.composer.quote = None;
                        state.composer.attachment = None;
                    } else {
                        state.composer.drafts.remove(&conversation);
                    }
                    state.notify("queued");
                }
                Err(reason) => state.fail(reason),
            }
            Vec::new()
        }
        Action::Edited(text) => {
            state.composer.set_text(text.trim_end_matches('\n'));
            state.focus = Focus::Composer;
            state.dirty = true;
            Vec::new()
        }
    }
}

/// The terminal title: the workspace and how many conversations wait to be read.
fn title(state: &State, unread: i64) -> String {
    let workspace = state
        .session
        .as_ref()
        .map_or("", |s| s.membership.workspace.name.as_str());
    match unread {
        0 => format!("treeex · {workspace}"),
        n => format!("treeex ({n}) · {workspace}"),
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    // A notice stays until the next key.
    if state.notice.take().is_some() {
        state.dirty = true;
    }
    match state.overlay.take() {
        Some(Overlay::Help(_)) => {
            state.dirty = true;
            Vec::new()
        }
        Some(Overlay::Prompt(prompt, input)) => on_prompt_key(state, prompt, input, key),
        Some(Overlay::Canned {
            replies,
            filter,
            selected,
        }) => on_canned_key(state, replies, filter, selected, key),
        Some(Overlay::Members {
            members,
            selected,
            wanted,
        }) => {
            state.overlay = Some(Overlay::Members {
                members,
                selected,
                wanted,
            });
            match state.keymap.command(View::Picker, &key) {
                Some(Command::Quit) => {
                    state.overlay = None;
                    state.dirty = true;
                    Vec::new()
                }
                Some(command) => run(state, command, Vec::new()),
                None => Vec::new(),
            }
        }
        Some(Overlay::Templates(form)) => on_template_key(state, form, key),
        other => {
            state.overlay = other;
            let view = state.view();
            match state.keymap.command(view, &key) {
                Some(command) if state.offers(command) => run(state, command, Vec::new()),
                Some(_) => {
                    state.fail("your role may not do that in this workspace");
                    Vec::new()
                }
                None if view == View::Composer => {
                    state.composer.textarea.input(key);
                    state.dirty = true;
                    Vec::new()
                }
                None => Vec::new(),
            }
        }
    }
}

fn on_prompt_key(
    state: &mut State,
    prompt: Prompt,
    mut input: LineInput,
    key: KeyEvent,
) -> Vec<Effect> {
    state.dirty = true;
    match key.code {
        KeyCode::Esc => Vec::new(),
        KeyCode::Enter => submit_prompt(state, prompt, input.text),
        KeyCode::Backspace => {
            input.text.pop();
            state.overlay = Some(Overlay::Prompt(prompt, input));
            Vec::new()
        }
        KeyCode::Tab if prompt == Prompt::CommandLine => {
            if !input.text.contains(' ')
                && let [only] = command_line::complete(&input.text).as_slice()
            {
                input.text = format!("{only} ");
            }
            state.overlay = Some(Overlay::Prompt(prompt, input));
            Vec::new()
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            input.text.clear();
            state.overlay = Some(Overlay::Prompt(prompt, input));
            Vec::new()
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            input.text.push(c);
            state.overlay = Some(Overlay::Prompt(prompt, input));
            Vec::new()
        }
        _ => {
            state.overlay = Some(Overlay::Prompt(prompt, input));
            Vec::new()
        }
    }
}

fn submit_prompt(state: &mut State, prompt: Prompt, text: String) -> Vec<Effect> {
    match prompt {
        Prompt::Search => {
            let search = text.trim();
            state.inbox.query.search = (!search.is_empty()).then(|| search.to_string());
            new_query(state)
        }
        Prompt::Tags => {
            let tags: Vec<String> = text
                .split([' ', ','])
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            set_tags(state, tags)
        }
        Prompt::Attach => {
            let path = text.trim();
            if path.is_empty() {
                state.composer.attachment = None;
            } else {
                let expanded = match path.strip_prefix("~/") {
                    Some(rest) => std::env::var_os("HOME")
                        .map(|home| std::path::PathBuf::from(home).join(rest))
                        .unwrap_or_else(|| path.into()),
                    None => path.into(),
                };
                state.composer.attachment = Some(expanded);
            }
            state.focus = Focus::Composer;
            Vec::new()
        }
        Prompt::CommandLine => {
            if text.trim().is_empty() {
                return Vec::new();
            }
            match command_line::parse(&text) {
                Ok(invocation) if !state.offers(invocation.command) => {
                    state.fail("your role may not do that in this workspace");
                    Vec::new()
                }
                Ok(invocation) => run(state, invocation.command, invocation.args),
                Err(error) => {
                    state.fail(error);
                    Vec::new()
                }
            }
        }
    }
}

fn on_canned_key(
    state: &mut State,
    replies: Vec<crate::store::agent::Canned>,
    mut filter: LineInput,
    mut selected: usize,
    key: KeyEvent,
) -> Vec<Effect> {
    state.dirty = true;
    let command = state.keymap.command(View::Templates, &key);
    let matching: Vec<&crate::store::agent::Canned> = replies
        .iter()
        .filter(|r| r.code.starts_with(filter.text.as_str()))
        .collect();
    match command {
        Some(Command::Back) => return Vec::new(),
        Some(Command::Send) => {
            if let Some(reply) = matching.get(selected) {
                state.composer.textarea.insert_str(&reply.body);
                state.focus = Focus::Composer;
            }
            return Vec::new();
        }
        Some(Command::MoveDown) => selected = (selected + 1).min(matching.len().saturating_sub(1)),
        Some(Command::MoveUp) => selected = selected.saturating_sub(1),
        _ => match key.code {
            KeyCode::Backspace => {
                filter.text.pop();
                selected = 0;
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                filter.text.push(c);
                selected = 0;
            }
            _ => {}
        },
    }
    state.overlay = Some(Overlay::Canned {
        replies,
        filter,
        selected,
    });
    Vec::new()
}

fn on_template_key(state: &mut State, mut form: TemplateForm, key: KeyEvent) -> Vec<Effect> {
    state.dirty = true;
    match state.keymap.command(View::Templates, &key) {
        Some(Command::Back) => return Vec::new(),
        Some(Command::MoveDown) => {
            if form.selected + 1 < form.templates.len() {
                form.selected += 1;
                reset_fields(&mut form);
            }
        }
        Some(Command::MoveUp) => {
            if form.selected > 0 {
                form.selected -= 1;
                reset_fields(&mut form);
            }
        }
        Some(Command::NextField) if !form.values.is_empty() => {
            form.field = Some(form.field.map_or(0, |f| (f + 1) % form.values.len()));
        }
        Some(Command::PrevField) if !form.values.is_empty() => {
            let n = form.values.len();
            form.field = Some(form.field.map_or(n - 1, |f| (f + n - 1) % n));
        }
        Some(Command::Send) => return send_template(state, form),
        _ => {
            if let Some(value) = form.field.and_then(|f| form.values.get_mut(f)) {
                match key.code {
                    KeyCode::Backspace => {
                        value.pop();
                    }
                    KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                        value.push(c)
                    }
                    _ => {}
                }
            }
        }
    }
    state.overlay = Some(Overlay::Templates(form));
    Vec::new()
}

/// One empty value per variable of the selected template, the first one focused.
fn reset_fields(form: &mut TemplateForm) {
    let count = form
        .template()
        .map_or(0, |t| template::variables(&t.components).total());
    form.values = vec![String::new(); count];
    form.field = (count > 0).then_some(0);
}

fn send_template(state: &mut State, form: TemplateForm) -> Vec<Effect> {
    let Some(chosen) = form.template() else {
        state.overlay = Some(Overlay::Templates(form));
        return Vec::new();
    };
    if let Some(empty) = form.values.iter().position(|v| v.trim().is_empty()) {
        state.fail(format!(
            "fill {{{{{}}}}} before sending `{}`",
            empty + 1,
            chosen.name
        ));
        let mut form = form;
        form.field = Some(empty);
        state.overlay = Some(Overlay::Templates(form));
        return Vec::new();
    }
    let what = Sendable::Template {
        name: chosen.name.clone(),
        language: chosen.language.clone(),
        params: form.values.clone(),
    };
    send(state, what, None)
}

fn on_mouse(state: &mut State, mouse: MouseEvent) -> Vec<Effect> {
    if state.overlay.is_some() || state.session.is_none() {
        return Vec::new();
    }
    let areas = layout::areas(state);
    let inside = |area: Option<ratatui::layout::Rect>| {
        area.is_some_and(|a| {
            a.contains(ratatui::layout::Position {
                x: mouse.column,
                y: mouse.row,
            })
        })
    };
    let over_list = inside(areas.list);
    let over_thread = inside(areas.thread);
    match mouse.kind {
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let command = if mouse.kind == MouseEventKind::ScrollDown {
                Command::MoveDown
            } else {
                Command::MoveUp
            };
            if over_list {
                move_list(state, command)
            } else if over_thread {
                move_thread(state, command)
            } else {
                Vec::new()
            }
        }
        MouseEventKind::Down(MouseButton::Left) if over_list => {
            let Some(list) = areas.list else {
                return Vec::new();
            };
            let row = (mouse.row.saturating_sub(list.y + 1) / layout::ROW_HEIGHT) as usize;
            let index = state.inbox.offset + row;
            if index < state.inbox.rows.len() {
                state.inbox.selected = index;
                let id = state.inbox.rows[index].id;
                return open_conversation(state, id);
            }
            Vec::new()
        }
        MouseEventKind::Down(MouseButton::Left) if over_thread => {
            state.focus = Focus::Thread;
            state.dirty = true;
            Vec::new()
        }
        MouseEventKind::Down(MouseButton::Left) if inside(areas.composer) => {
            state.focus = Focus::Composer;
            state.dirty = true;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Runs a named command, from a key or the command line.
pub fn run(state: &mut State, command: Command, args: Vec<String>) -> Vec<Effect> {
    state.dirty = true;
    let view = state.view();
    if state.session.is_none() {
        return run_picker(state, command, args);
    }
    match command {
        Command::Quit => {
            state.quit = true;
            Vec::new()
        }
        Command::Help => {
            state.overlay = Some(Overlay::Help(view));
            Vec::new()
        }
        Command::CommandLine => prompt(state, Prompt::CommandLine, String::new()),
        Command::MoveDown
        | Command::MoveUp
        | Command::PageDown
        | Command::PageUp
        | Command::Top
        | Command::Bottom => match state.overlay {
            Some(Overlay::Members { .. }) => {
                if let Some(Overlay::Members {
                    members, selected, ..
                }) = state.overlay.as_mut()
                {
                    *selected = step(*selected, members.len(), command, 5);
                }
                Vec::new()
            }
            _ if view == View::Inbox => move_list(state, command),
            _ if view == View::Thread => move_thread(state, command),
            _ => Vec::new(),
        },
        Command::Open => match state.overlay.take() {
            Some(Overlay::Members {
                members, selected, ..
            }) => match members.get(selected) {
                Some(member) => assign_to(state, Some(member.user_id), display_member(member)),
                None => Vec::new(),
            },
            other => {
                state.overlay = other;
                match state.inbox.selected_row() {
                    Some(row) => {
                        let id = row.id;
                        open_conversation(state, id)
                    }
                    None => Vec::new(),
                }
            }
        },
        Command::Back => {
            if state.overlay.take().is_none() {
                state.focus = match state.focus {
                    Focus::Composer => Focus::Thread,
                    _ => Focus::List,
                };
            }
            Vec::new()
        }
        Command::Search => {
            if args.is_empty() {
                let current = state.inbox.query.search.clone().unwrap_or_default();
                prompt(state, Prompt::Search, current)
            } else {
                submit_prompt(state, Prompt::Search, args.join(" "))
            }
        }
        Command::Filter => {
            let filter = match args.first().map(String::as_str) {
                None => next_filter(&state.inbox.query.filter, state),
                Some(name) => match parse_filter(name, args.get(1), state) {
                    Ok(filter) => filter,
                    Err(error) => {
                        state.fail(error);
                        return Vec::new();
                    }
                },
            };
            state.inbox.query.filter = filter;
            new_query(state)
        }
        Command::NextUnread => next_unread(state),
        Command::Reply | Command::QuoteReply | Command::Note => {
            let mut effects = ensure_thread(state);
            if state.thread.is_none() {
                return effects;
            }
            if command == Command::Note && !args.is_empty() {
                let conversation = state.thread.as_ref().map(|t| t.conversation);
                if let Some(conversation) = conversation {
                    effects.push(Effect::AddNote {
                        conversation,
                        body: args.join(" "),
                    });
                }
                return effects;
            }
            state.composer.mode = if command == Command::Note {
                ComposeMode::Note
            } else {
                ComposeMode::Reply
            };
            if command == Command::QuoteReply {
                state.composer.quote = quote_of_focused(state);
                if state.composer.quote.is_none() {
                    state.fail("select a message with j/k to quote it");
                }
            }
            state.focus = Focus::Composer;
            effects
        }
        Command::Template => {
            let mut effects = ensure_thread(state);
            if state.thread.is_none() {
                return effects;
            }
            state.overlay = Some(Overlay::Templates(TemplateForm {
                loading: true,
                wanted: args.first().cloned(),
                ..TemplateForm::default()
            }));
            effects.push(Effect::LoadTemplates);
            effects
        }
        Command::OpenMedia => {
            let media = state.thread.as_ref().and_then(|t| {
                let entry = t.entries.get(t.focused_index()?)?;
                match entry {
                    Entry::Message(m) => m.media.clone(),
                    Entry::Note(_) => None,
                }
            });
            match media {
                Some(media) => match media.storage_url {
                    Some(url) => vec![Effect::OpenMedia {
                        storage_url: url,
                        filename: media.filename,
                    }],
                    None => {
                        state.fail("this file has not been fetched from Meta yet");
                        Vec::new()
                    }
                },
                None => {
                    state.fail("the selected message has no media; select one with j/k");
                    Vec::new()
                }
            }
        }
        Command::AssignMe => {
            let me = state.user.clone();
            assign_to(state, Some(me.id), me.name.unwrap_or(me.email))
        }
        Command::Assign => match args.first().map(String::as_str) {
            Some("me") => run(state, Command::AssignMe, Vec::new()),
            Some("none" | "nobody" | "-") => assign_to(state, None, "nobody".into()),
            Some(_) if !state.offers(Command::Assign) => {
                state.fail("only an OWNER or ADMIN may assign a conversation to someone else");
                Vec::new()
            }
            wanted => {
                if target_conversation(state).is_none() {
                    state.fail("no conversation selected");
                    return Vec::new();
                }
                state.overlay = Some(Overlay::Members {
                    members: Vec::new(),
                    selected: 0,
                    wanted: wanted.map(str::to_string),
                });
                vec![Effect::LoadMembers]
            }
        },
        Command::Close | Command::Reopen => match target_conversation(state) {
            Some(id) if command == Command::Close => vec![Effect::Close(id)],
            Some(id) => vec![Effect::Reopen(id)],
            None => Vec::new(),
        },
        Command::CloseNext => {
            let Some(id) = target_conversation(state) else {
                return Vec::new();
            };
            let mut effects = vec![Effect::Close(id)];
            let index = state.inbox.rows.iter().position(|r| r.id == id);
            let next = next_unread_index(state, index)
                .or_else(|| index.map(|i| i + 1).filter(|i| *i < state.inbox.rows.len()));
            match next {
                Some(next) => {
                    state.inbox.selected = next;
                    let next_id = state.inbox.rows[next].id;
                    effects.extend(open_conversation(state, next_id));
                }
                None => {
                    state.thread = None;
                    state.focus = Focus::List;
                }
            }
            effects
        }
        Command::MarkUnread => match target_conversation(state) {
            Some(id) => {
                if let Some(thread) = state.thread.as_mut().filter(|t| t.conversation == id) {
                    thread.read_settled = true;
                }
                if let Some(row) = state.inbox.rows.iter_mut().find(|r| r.id == id) {
                    row.unread_count = row.unread_count.max(1);
                }
                vec![Effect::MarkUnread(id)]
            }
            None => Vec::new(),
        },
        Command::Tag => {
            let Some((_, tags)) = target_contact(state) else {
                state.fail("no conversation selected");
                return Vec::new();
            };
            if args.is_empty() {
                return prompt(state, Prompt::Tags, tags.join(" "));
            }
            let mut tags = tags;
            for arg in args {
                match arg.strip_prefix('-') {
                    Some(removed) => tags.retain(|t| t != removed),
                    None => {
                        let added = arg.strip_prefix('+').unwrap_or(&arg).to_string();
                        if !tags.contains(&added) {
                            tags.push(added);
                        }
                    }
                }
            }
            set_tags(state, tags)
        }
        Command::Contact => {
            if matches!(state.overlay, Some(Overlay::Contact)) {
                state.overlay = None;
                return Vec::new();
            }
            let effects = ensure_thread(state);
            if state.thread.is_some() {
                state.overlay = Some(Overlay::Contact);
            }
            effects
        }
        Command::ToggleOptIn => {
            let card = state
                .thread
                .as_ref()
                .and_then(|t| t.header.as_ref())
                .map(|h| (h.contact.id, h.contact.opted_in));
            match card {
                Some((contact, opted_in)) => vec![Effect::SetOptedIn {
                    contact,
                    opted_in: !opted_in,
                }],
                None => Vec::new(),
            }
        }
        Command::Send => compose_send(state),
        Command::Newline => {
            state.composer.textarea.insert_newline();
            Vec::new()
        }
        Command::Editor => vec![Effect::Edit(state.composer.text())],
        Command::Attach => {
            let current = state
                .composer
                .attachment
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            prompt(state, Prompt::Attach, current)
        }
        Command::Canned => canned(state, args),
        Command::ToggleNote => {
            state.composer.mode = match state.composer.mode {
                ComposeMode::Reply => ComposeMode::Note,
                ComposeMode::Note => ComposeMode::Reply,
            };
            Vec::new()
        }
        Command::NextField | Command::PrevField => Vec::new(),
        Command::Workspace => switch_workspace(state, args),
    }
}

fn run_picker(state: &mut State, command: Command, args: Vec<String>) -> Vec<Effect> {
    let count = state.picker.memberships.len();
    match command {
        Command::Quit => match state.picker.previous.take() {
            Some(previous) => vec![Effect::SwitchWorkspace(Box::new(previous))],
            None => {
                state.quit = true;
                Vec::new()
            }
        },
        Command::MoveDown | Command::MoveUp | Command::Top | Command::Bottom => {
            state.picker.selected = step(state.picker.selected, count, command, 5);
            Vec::new()
        }
        Command::Open => match state.picker.memberships.get(state.picker.selected) {
            Some(membership) => vec![Effect::SwitchWorkspace(Box::new(membership.clone()))],
            None => Vec::new(),
        },
        Command::Workspace => switch_workspace(state, args),
        Command::Help => {
            state.overlay = Some(Overlay::Help(View::Picker));
            Vec::new()
        }
        Command::CommandLine => prompt(state, Prompt::CommandLine, String::new()),
        _ => Vec::new(),
    }
}

fn switch_workspace(state: &mut State, args: Vec<String>) -> Vec<Effect> {
    let Some(slug) = args.first() else {
        save_draft(state);
        state.picker.previous = state.session.take().map(|s| s.membership);
        state.thread = None;
        state.overlay = None;
        return Vec::new();
    };
    let found = state
        .picker
        .memberships
        .iter()
        .find(|m| m.workspace.slug.as_str() == slug)
        .cloned();
    match found {
        Some(membership) => {
            save_draft(state);
            vec![Effect::SwitchWorkspace(Box::new(membership))]
        }
        None => {
            state.fail(format!("you are not a member of a workspace `{slug}`"));
            Vec::new()
        }
    }
}

fn prompt(state: &mut State, prompt: Prompt, text: String) -> Vec<Effect> {
    state.overlay = Some(Overlay::Prompt(prompt, LineInput { text }));
    Vec::new()
}

/// Moves `index` in a list of `len` by a command.
fn step(index: usize, len: usize, command: Command, page: usize) -> usize {
    let last = len.saturating_sub(1);
    match command {
        Command::MoveDown => (index + 1).min(last),
        Command::MoveUp => index.saturating_sub(1),
        Command::PageDown => (index + page).min(last),
        Command::PageUp => index.saturating_sub(page),
        Command::Top => 0,
        Command::Bottom => last,
        _ => index,
    }
}

fn move_list(state: &mut State, command: Command) -> Vec<Effect> {
    let page = layout::visible_rows(state).max(1);
    state.inbox.selected = step(state.inbox.selected, state.inbox.rows.len(), command, page);
    keep_selection_visible(state);
    load_more_if_near_end(state)
}

/// Scrolls the list just enough to show the selected row.
fn keep_selection_visible(state: &mut State) {
    let height = layout::visible_rows(state).max(1);
    let inbox = &mut state.inbox;
    if inbox.selected < inbox.offset {
        inbox.offset = inbox.selected;
    } else if inbox.selected >= inbox.offset + height {
        inbox.offset = inbox.selected + 1 - height;
    }
}

/// Asks for the next page before the agent reaches the last loaded row.
fn load_more_if_near_end(state: &mut State) -> Vec<Effect> {
    let margin = layout::visible_rows(state).max(10);
    let inbox = &mut state.inbox;
    let inbox_len = inbox.rows.len();
    if inbox.complete || inbox.loading || inbox.selected + margin < inbox_len {
        return Vec::new();
    }
    let Some(last) = inbox.rows.last() else {
        return Vec::new();
    };
    inbox.loading = true;
    vec![Effect::LoadInbox {
        generation: inbox.generation,
        query: inbox.query.clone(),
        after: Some(last.cursor()),
        limit: PAGE,
    }]
}

fn move_thread(state: &mut State, command: Command) -> Vec<Effect> {
    let Some(thread) = state.thread.as_mut() else {
        return Vec::new();
    };
    let len = thread.entries.len();
    if len == 0 {
        return Vec::new();
    }
    let current = thread.selected.unwrap_or(len - 1);
    let next = step(current, len, command, 5);
    // Moving past the newest lets the view follow new messages again.
    thread.selected = (next + 1 < len || command == Command::MoveUp).then_some(next);
    if command == Command::Bottom {
        thread.selected = None;
    }
    if next <= 3
        && !thread.complete
        && !thread.loading_older
        && let Some(first) = thread.entries.first()
    {
        thread.loading_older = true;
        return vec![Effect::LoadOlder {
            conversation: thread.conversation,
            before: first.key(),
        }];
    }
    Vec::new()
}

/// A new query (filter or search changed): start the list over.
fn new_query(state: &mut State) -> Vec<Effect> {
    let inbox = &mut state.inbox;
    inbox.generation += 1;
    inbox.rows.clear();
    inbox.selected = 0;
    inbox.offset = 0;
    inbox.complete = false;
    inbox.loading = true;
    inbox.stale = false;
    vec![
        Effect::LoadInbox {
            generation: inbox.generation,
            query: inbox.query.clone(),
            after: None,
            limit: PAGE,
        },
        Effect::LoadCounts,
    ]
}

/// Something changed: load again as many rows as are shown, at most one load at a time.
fn reload_inbox(state: &mut State) -> Vec<Effect> {
    if state.session.is_none() {
        return Vec::new();
    }
    let inbox = &mut state.inbox;
    if inbox.loading {
        inbox.stale = true;
        return Vec::new();
    }
    inbox.loading = true;
    // A sent message changes its conversation, not the outbox channel: the depth comes along.
    vec![
        Effect::LoadInbox {
            generation: inbox.generation,
            query: inbox.query.clone(),
            after: None,
            limit: (inbox.rows.len() as i64).clamp(PAGE, 10 * PAGE),
        },
        Effect::LoadCounts,
        Effect::LoadOutboxDepth,
    ]
}

fn inbox_loaded(
    state: &mut State,
    generation: u64,
    append: bool,
    rows: Vec<InboxRow>,
    limit: i64,
) -> Vec<Effect> {
    if generation != state.inbox.generation {
        return Vec::new();
    }
    let mut effects = Vec::new();
    let open = state.thread.as_ref().map(|t| t.conversation);
    let inbox = &mut state.inbox;
    inbox.loading = false;
    let complete = (rows.len() as i64) < limit;
    // The footer shows how far the list is loaded, and "loading…" while it is empty.
    if inbox.rows.is_empty() || inbox.complete != complete {
        state.dirty = true;
    }
    if append {
        inbox.complete = complete;
        if !rows.is_empty() {
            inbox.rows.extend(rows);
            state.dirty = true;
        }
    } else {
        // A reload: ring for a conversation that is not open and has more unread than before.
        let first_load = inbox.rows.is_empty();
        let arrived = rows.iter().any(|row| {
            Some(row.id) != open
                && row.unread_count
                    > inbox
                        .rows
                        .iter()
                        .find(|old| old.id == row.id)
                        .map_or(0, |old| old.unread_count)
        });
        if arrived && !first_load && state.settings.bell {
            effects.push(Effect::Bell);
        }
        let selected_id = inbox.selected_row().map(|r| r.id);
        // Rows past the reloaded window stay as loaded only when the window was full.
        if rows != inbox.rows {
            inbox.rows = rows;
            state.dirty = true;
        }
        inbox.complete = complete;
        if let Some(index) = selected_id.and_then(|id| inbox.rows.iter().position(|r| r.id == id)) {
            inbox.selected = index;
        }
        inbox.selected = inbox.selected.min(inbox.rows.len().saturating_sub(1));
        keep_selection_visible(state);
    }
    if state.inbox.stale {
        state.inbox.stale = false;
        effects.extend(reload_inbox(state));
    } else {
        effects.extend(load_more_if_near_end(state));
    }
    effects
}

fn open_conversation(state: &mut State, id: Uuid) -> Vec<Effect> {
    if state.thread.as_ref().is_some_and(|t| t.conversation == id) {
        state.focus = Focus::Thread;
        return Vec::new();
    }
    save_draft(state);
    state.thread = Some(Thread::new(id));
    let draft = state.composer.drafts.remove(&id).unwrap_or_default();
    state.composer.set_text(&draft);
    state.composer.quote = None;
    state.composer.attachment = None;
    state.composer.mode = ComposeMode::Reply;
    state.composer.sending = false;
    state.focus = Focus::Thread;
    if matches!(state.overlay, Some(Overlay::Contact)) {
        state.overlay = None;
    }
    vec![
        Effect::LoadThread {
            conversation: id,
            limit: THREAD_PAGE,
        },
        Effect::StartDwell(id),
    ]
}

fn save_draft(state: &mut State) {
    if let Some(thread) = &state.thread {
        let text = state.composer.text();
        if text.trim().is_empty() {
            state.composer.drafts.remove(&thread.conversation);
        } else {
            state.composer.drafts.insert(thread.conversation, text);
        }
    }
}

/// Makes sure the selected conversation is open (commands of the thread used from the list).
fn ensure_thread(state: &mut State) -> Vec<Effect> {
    if state.thread.is_some() && state.focus != Focus::List {
        return Vec::new();
    }
    match state.inbox.selected_row() {
        Some(row) => {
            let id = row.id;
            open_conversation(state, id)
        }
        None => {
            state.fail("no conversation selected");
            Vec::new()
        }
    }
}

fn reload_thread(state: &mut State) -> Vec<Effect> {
    let Some(thread) = state.thread.as_mut() else {
        return Vec::new();
    };
    if thread.loading {
        thread.stale = true;
        return Vec::new();
    }
    thread.loading = true;
    vec![Effect::LoadThread {
        conversation: thread.conversation,
        limit: THREAD_PAGE,
    }]
}

fn thread_loaded(
    state: &mut State,
    conversation: Uuid,
    header: Box<crate::store::thread::Header>,
    entries: Vec<Entry>,
    limit: i64,
) -> Vec<Effect> {
    let Some(thread) = state
        .thread
        .as_mut()
        .filter(|t| t.conversation == conversation)
    else {
        return Vec::new();
    };
    thread.loading = false;
    let fresh: Vec<Entry> = entries.into_iter().rev().collect();
    let whole = (fresh.len() as i64) < limit;
    let selected_key = thread
        .selected
        .and_then(|i| thread.entries.get(i))
        .map(Entry::key);
    let merged = if whole || thread.entries.is_empty() {
        fresh
    } else {
        // Keep the older entries already loaded; the page replaces everything from its oldest.
        let oldest = order(&fresh[0]);
        let mut kept: Vec<Entry> = thread
            .entries
            .iter()
            .filter(|e| order(e) < oldest)
            .cloned()
            .collect();
        kept.extend(fresh);
        kept
    };
    if thread.entries.is_empty() {
        thread.complete = whole;
    } else {
        thread.complete |= whole;
    }
    if merged != thread.entries || thread.header.as_ref() != Some(&*header) {
        thread.entries = merged;
        thread.header = Some(*header);
        state.dirty = true;
    }
    thread.selected =
        selected_key.and_then(|key| thread.entries.iter().position(|e| e.key() == key));
    if thread.stale {
        thread.stale = false;
        return reload_thread(state);
    }
    Vec::new()
}

/// Where an entry sorts in its thread.
fn order(entry: &Entry) -> (chrono::DateTime<chrono::Utc>, Uuid) {
    let key = entry.key();
    (key.created_at, key.id)
}

/// The conversation a command acts on: the open one when the thread has the keys, else the
/// selected row.
fn target_conversation(state: &State) -> Option<Uuid> {
    match (&state.thread, state.focus) {
        (Some(thread), Focus::Thread | Focus::Composer) => Some(thread.conversation),
        _ => state.inbox.selected_row().map(|r| r.id),
    }
}

/// The contact of the targeted conversation and its tags.
fn target_contact(state: &State) -> Option<(Uuid, Vec<String>)> {
    let conversation = target_conversation(state)?;
    if let Some(header) = state
        .thread
        .as_ref()
        .filter(|t| t.conversation == conversation)
        .and_then(|t| t.header.as_ref())
    {
        return Some((header.contact.id, header.contact.tags.clone()));
    }
    let row = state.inbox.rows.iter().find(|r| r.id == conversation)?;
    Some((row.contact_id, row.tags.clone()))
}

fn set_tags(state: &mut State, tags: Vec<String>) -> Vec<Effect> {
    match target_contact(state) {
        Some((contact, _)) => vec![Effect::SetTags { contact, tags }],
        None => Vec::new(),
    }
}

fn assign_to(state: &mut State, to: Option<Uuid>, name: String) -> Vec<Effect> {
    if to.is_some_and(|id| id != state.user.id) && !state.offers(Command::Assign) {
        state.fail("only an OWNER or ADMIN may assign a conversation to someone else");
        return Vec::new();
    }
    match target_conversation(state) {
        Some(conversation) => vec![Effect::Assign {
            conversation,
            to,
            name,
        }],
        None => {
            state.fail("no conversation selected");
            Vec::new()
        }
    }
}

fn display_member(member: &crate::store::members::Member) -> String {
    member.name.clone().unwrap_or_else(|| member.email.clone())
}

fn next_unread_index(state: &State, from: Option<usize>) -> Option<usize> {
    let rows = &state.inbox.rows;
    let start = from.map_or(0, |i| i + 1);
    let open = state.thread.as_ref().map(|t| t.conversation);
    (start..rows.len())
        .chain(0..start.min(rows.len()))
        .find(|&i| rows[i].unread_count > 0 && Some(rows[i].id) != open)
}

fn next_unread(state: &mut State) -> Vec<Effect> {
    match next_unread_index(state, Some(state.inbox.selected)) {
        Some(index) => {
            state.inbox.selected = index;
            keep_selection_visible(state);
            let id = state.inbox.rows[index].id;
            open_conversation(state, id)
        }
        None => {
            state.notify("no unread conversations");
            Vec::new()
        }
    }
}

fn next_filter(filter: &InboxFilter, state: &State) -> InboxFilter {
    match filter {
        InboxFilter::All => InboxFilter::Mine(state.user.id),
        InboxFilter::Mine(_) => InboxFilter::Unassigned,
        InboxFilter::Unassigned => InboxFilter::Open,
        InboxFilter::Open => InboxFilter::Closed,
        InboxFilter::Closed => InboxFilter::Expired,
        InboxFilter::Expired | InboxFilter::Tag(_) => InboxFilter::All,
    }
}

fn parse_filter(name: &str, tag: Option<&String>, state: &State) -> Result<InboxFilter, String> {
    Ok(match name {
        "all" => InboxFilter::All,
        "mine" => InboxFilter::Mine(state.user.id),
        "unassigned" => InboxFilter::Unassigned,
        "open" => InboxFilter::Open,
        "closed" => InboxFilter::Closed,
        "expired" => InboxFilter::Expired,
        "tag" => match tag {
            Some(tag) => InboxFilter::Tag(tag.clone()),
            None => return Err("`:filter tag` needs a tag, e.g. `:filter tag vip`".into()),
        },
        other => {
            return Err(format!(
                "unknown filter `{other}`; filters are all, mine, unassigned, open, closed, expired, tag TAG"
            ));
        }
    })
}

fn quote_of_focused(state: &State) -> Option<Quote> {
    let thread = state.thread.as_ref()?;
    thread.selected?;
    match thread.entries.get(thread.focused_index()?)? {
        Entry::Message(message) => Some(Quote {
            wa_message_id: message.wa_message_id.clone()?,
            preview: super::view::format::message_text(message),
        }),
        Entry::Note(_) => None,
    }
}

fn compose_send(state: &mut State) -> Vec<Effect> {
    if state.composer.sending {
        return Vec::new();
    }
    let text = state.composer.text();
    let Some(thread) = &state.thread else {
        return Vec::new();
    };
    let conversation = thread.conversation;
    if state.composer.mode == ComposeMode::Note {
        if text.trim().is_empty() {
            return Vec::new();
        }
        state.composer.set_text("");
        return vec![Effect::AddNote {
            conversation,
            body: text.trim_end().to_string(),
        }];
    }
    let what = match state.composer.attachment.clone() {
        Some(path) => Sendable::File {
            path,
            caption: (!text.trim().is_empty()).then(|| text.trim_end().to_string()),
        },
        None if text.trim().is_empty() => return Vec::new(),
        None => Sendable::Text(text.trim_end().to_string()),
    };
    let quote = state
        .composer
        .quote
        .as_ref()
        .map(|q| q.wa_message_id.clone());
    send(state, what, quote)
}

/// Checks what can be checked here (the window), then asks the loop to queue the message.
fn send(state: &mut State, what: Sendable, reply_to: Option<String>) -> Vec<Effect> {
    let Some(thread) = &state.thread else {
        return Vec::new();
    };
    let Some(header) = &thread.header else {
        state.fail("the conversation is still loading");
        return Vec::new();
    };
    let window = CustomerWindow::at(header.window_expires_at, state.now);
    if !matches!(what, Sendable::Template { .. }) && !window.is_open() {
        state.fail(super::view::format::window_refusal(window));
        return Vec::new();
    }
    let Some(to) = header.contact.wa_id.clone() else {
        state.fail("this contact has no WhatsApp number");
        return Vec::new();
    };
    let outgoing = Outgoing {
        conversation: thread.conversation,
        phone_number_id: header.phone_number_id.clone(),
        to,
        what,
        reply_to,
    };
    if !matches!(outgoing.what, Sendable::Template { .. }) {
        state.composer.sending = true;
    }
    vec![Effect::Send(outgoing)]
}

fn canned(state: &mut State, args: Vec<String>) -> Vec<Effect> {
    let manage = matches!(
        args.first().map(String::as_str),
        Some("add" | "save" | "delete" | "rm")
    );
    if manage
        && !state
            .session
            .as_ref()
            .is_some_and(|s| s.may(Permission::ManageCannedReplies))
    {
        state.fail("only an OWNER or ADMIN may change the canned replies");
        return Vec::new();
    }
    match args.first().map(String::as_str) {
        Some("add" | "save") => match (args.get(1), args.len() > 2) {
            (Some(code), true) => vec![Effect::SaveCanned {
                code: code.clone(),
                body: args[2..].join(" "),
            }],
            _ => {
                state.fail("usage: :canned add CODE TEXT");
                Vec::new()
            }
        },
        Some("delete" | "rm") => match args.get(1) {
            Some(code) => vec![Effect::DeleteCanned(code.clone())],
            None => {
                state.fail("usage: :canned delete CODE");
                Vec::new()
            }
        },
        first => {
            let mut effects = ensure_thread(state);
            if state.thread.is_none() {
                return effects;
            }
            state.focus = Focus::Composer;
            state.overlay = Some(Overlay::Canned {
                replies: Vec::new(),
                filter: LineInput {
                    text: first.unwrap_or_default().to_string(),
                },
                selected: 0,
            });
            effects.push(Effect::LoadCanned);
            effects
        }
    }
}
