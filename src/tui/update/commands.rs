//! Named commands, from a key or the `:` command line: what each does to the state and
//! which effects it asks for.

use super::*;

/// Shows a tab and loads what it shows. The campaigns' key on their own tab goes back to the
/// list.
pub(super) fn show(state: &mut State, screen: Screen) -> Vec<Effect> {
    state.overlay = None;
    if screen == Screen::Campaigns && state.screen == Screen::Campaigns {
        state.campaigns.dashboard = None;
    }
    state.screen = screen;
    state.dirty = true;
    refresh_shown(state, true)
}

/// Reloads what the campaign or team tab shows, if one of them is shown.
pub(super) fn refresh_shown(state: &mut State, urgent: bool) -> Vec<Effect> {
    let mut effects = campaigns::refresh(state, urgent);
    effects.extend(team::refresh(state, urgent));
    effects
}

/// Runs a named command, from a key or the command line.
pub(super) fn run(state: &mut State, command: Command, args: Vec<String>) -> Vec<Effect> {
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
        Command::Workspace => switch_workspace(state, args),
        Command::Inbox => show(state, Screen::Inbox),
        Command::Campaigns => show(state, Screen::Campaigns),
        Command::Team => show(state, Screen::Team),
        _ if matches!(view, View::Campaigns | View::Campaign) => {
            campaigns::run(state, view, command, args)
        }
        _ if view == View::Team => team::run(state, command),
        Command::Start
        | Command::Pause
        | Command::Resume
        | Command::CancelCampaign
        | Command::RetryFailed => {
            state.fail("open a campaign first, on the Campaigns tab");
            Vec::new()
        }
        Command::Confirm => Vec::new(),
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
    }
}

pub(super) fn run_picker(state: &mut State, command: Command, args: Vec<String>) -> Vec<Effect> {
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

pub(super) fn switch_workspace(state: &mut State, args: Vec<String>) -> Vec<Effect> {
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

pub(super) fn prompt(state: &mut State, prompt: Prompt, text: String) -> Vec<Effect> {
    state.overlay = Some(Overlay::Prompt(prompt, LineInput { text }));
    Vec::new()
}

/// Moves `index` in a list of `len` by a command.
pub(super) fn step(index: usize, len: usize, command: Command, page: usize) -> usize {
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

/// The conversation a command acts on: the open one when the thread has the keys, else the
/// selected row.
pub(super) fn target_conversation(state: &State) -> Option<Uuid> {
    match (&state.thread, state.focus) {
        (Some(thread), Focus::Thread | Focus::Composer) => Some(thread.conversation),
        _ => state.inbox.selected_row().map(|r| r.id),
    }
}

/// The contact of the targeted conversation and its tags.
pub(super) fn target_contact(state: &State) -> Option<(Uuid, Vec<String>)> {
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

pub(super) fn set_tags(state: &mut State, tags: Vec<String>) -> Vec<Effect> {
    match target_contact(state) {
        Some((contact, _)) => vec![Effect::SetTags { contact, tags }],
        None => Vec::new(),
    }
}

pub(super) fn assign_to(state: &mut State, to: Option<Uuid>, name: String) -> Vec<Effect> {
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

pub(super) fn display_member(member: &crate::store::members::Member) -> String {
    member.name.clone().unwrap_or_else(|| member.email.clone())
}

pub(super) fn next_unread_index(state: &State, from: Option<usize>) -> Option<usize> {
    let rows = &state.inbox.rows;
    let start = from.map_or(0, |i| i + 1);
    let open = state.thread.as_ref().map(|t| t.conversation);
    (start..rows.len())
        .chain(0..start.min(rows.len()))
        .find(|&i| rows[i].unread_count > 0 && Some(rows[i].id) != open)
}

pub(super) fn next_unread(state: &mut State) -> Vec<Effect> {
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

pub(super) fn next_filter(filter: &InboxFilter, state: &State) -> InboxFilter {
    match filter {
        InboxFilter::All => InboxFilter::Mine(state.user.id),
        InboxFilter::Mine(_) => InboxFilter::Unassigned,
        InboxFilter::Unassigned => InboxFilter::Open,
        InboxFilter::Open => InboxFilter::Closed,
        InboxFilter::Closed => InboxFilter::Expired,
        InboxFilter::Expired | InboxFilter::Tag(_) => InboxFilter::All,
    }
}

pub(super) fn parse_filter(
    name: &str,
    tag: Option<&String>,
    state: &State,
) -> Result<InboxFilter, String> {
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

pub(super) fn quote_of_focused(state: &State) -> Option<Quote> {
    let thread = state.thread.as_ref()?;
    thread.selected?;
    match thread.entries.get(thread.focused_index()?)? {
        Entry::Message(message) => Some(Quote {
            wa_message_id: message.wa_message_id.clone()?,
            preview: crate::tui::view::format::message_text(message),
        }),
        Entry::Note(_) => None,
    }
}

pub(super) fn compose_send(state: &mut State) -> Vec<Effect> {
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
pub(super) fn send(state: &mut State, what: Sendable, reply_to: Option<String>) -> Vec<Effect> {
    let Some(thread) = &state.thread else {
        return Vec::new();
    };
    let Some(header) = &thread.header else {
        state.fail("the conversation is still loading");
        return Vec::new();
    };
    let window = CustomerWindow::at(header.window_expires_at, state.now);
    if !matches!(what, Sendable::Template { .. }) && !window.is_open() {
        state.fail(crate::tui::view::format::window_refusal(window));
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

pub(super) fn canned(state: &mut State, args: Vec<String>) -> Vec<Effect> {
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
