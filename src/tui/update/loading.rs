//! Moving through the list and the thread, and loading them: pages, reloads after a change
//! (one in flight at a time), and merging what comes back into what is shown.

use super::*;

pub(super) fn move_list(state: &mut State, command: Command) -> Vec<Effect> {
    let page = layout::visible_rows(state).max(1);
    state.inbox.selected = step(state.inbox.selected, state.inbox.rows.len(), command, page);
    keep_selection_visible(state);
    load_more_if_near_end(state)
}

/// Scrolls the list just enough to show the selected row.
pub(super) fn keep_selection_visible(state: &mut State) {
    let height = layout::visible_rows(state).max(1);
    let inbox = &mut state.inbox;
    if inbox.selected < inbox.offset {
        inbox.offset = inbox.selected;
    } else if inbox.selected >= inbox.offset + height {
        inbox.offset = inbox.selected + 1 - height;
    }
}

/// Asks for the next page before the agent reaches the last loaded row.
pub(super) fn load_more_if_near_end(state: &mut State) -> Vec<Effect> {
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

pub(super) fn move_thread(state: &mut State, command: Command) -> Vec<Effect> {
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
pub(super) fn new_query(state: &mut State) -> Vec<Effect> {
    let inbox = &mut state.inbox;
    inbox.generation += 1;
    inbox.rows.clear();
    inbox.selected = 0;
    inbox.offset = 0;
    inbox.complete = false;
    inbox.loading = true;
    inbox.stale = false;
    vec![Effect::LoadInbox {
        generation: inbox.generation,
        query: inbox.query.clone(),
        after: None,
        limit: PAGE,
    }]
    .into_iter()
    .chain(counts(state, true))
    .collect()
}

/// The counts of the header, unless they were asked for less than `COUNTS_EVERY` ago (then
/// they are marked stale and the next action after that asks). `now`: ask regardless.
pub(super) fn counts(state: &mut State, now: bool) -> Option<Effect> {
    let inbox = &mut state.inbox;
    let due = inbox
        .counts_asked
        .is_none_or(|asked| state.now - asked >= COUNTS_EVERY);
    if now || due {
        inbox.counts_asked = Some(state.now);
        inbox.counts_stale = false;
        Some(Effect::LoadCounts)
    } else {
        inbox.counts_stale = true;
        None
    }
}

/// Something changed: load again as many rows as are shown, at most one load at a time.
pub(super) fn reload_inbox(state: &mut State) -> Vec<Effect> {
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
    let mut effects = vec![
        Effect::LoadInbox {
            generation: inbox.generation,
            query: inbox.query.clone(),
            after: None,
            limit: (inbox.rows.len() as i64).clamp(PAGE, 10 * PAGE),
        },
        Effect::LoadOutboxDepth,
    ];
    effects.extend(counts(state, false));
    effects
}

pub(super) fn inbox_loaded(
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

pub(super) fn open_conversation(state: &mut State, id: Uuid) -> Vec<Effect> {
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

pub(super) fn save_draft(state: &mut State) {
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
pub(super) fn ensure_thread(state: &mut State) -> Vec<Effect> {
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

pub(super) fn reload_thread(state: &mut State) -> Vec<Effect> {
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

pub(super) fn thread_loaded(
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
    let oldest = fresh.first().map(order);
    let merged = match oldest {
        Some(oldest) if !whole && !thread.entries.is_empty() => {
            // Keep the older entries already loaded; the page replaces everything from its oldest.
            let mut kept: Vec<Entry> = thread
                .entries
                .iter()
                .filter(|e| order(e) < oldest)
                .cloned()
                .collect();
            kept.extend(fresh);
            kept
        }
        _ => fresh,
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
pub(super) fn order(entry: &Entry) -> (chrono::DateTime<chrono::Utc>, Uuid) {
    let key = entry.key();
    (key.created_at, key.id)
}
