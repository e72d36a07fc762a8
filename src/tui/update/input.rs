//! Keys and the mouse: each overlay and prompt reads its own keys; everything else goes
//! through the keymap to a named command.

use super::*;

pub(super) fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
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
        Some(Overlay::Confirm(confirm)) => on_confirm_key(state, confirm, key),
        other => {
            state.overlay = other;
            let view = state.view();
            match state.keymap.command(view, &key) {
                Some(command) if state.offers(command) => run(state, command, Vec::new()),
                Some(command) => {
                    state.fail(refusal(state, command));
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

pub(super) fn on_prompt_key(
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

pub(super) fn submit_prompt(state: &mut State, prompt: Prompt, text: String) -> Vec<Effect> {
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
                    state.fail(refusal(state, invocation.command));
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

pub(super) fn on_canned_key(
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

pub(super) fn on_template_key(
    state: &mut State,
    mut form: TemplateForm,
    key: KeyEvent,
) -> Vec<Effect> {
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
pub(super) fn reset_fields(form: &mut TemplateForm) {
    let count = form
        .template()
        .map_or(0, |t| template::variables(&t.components).total());
    form.values = vec![String::new(); count];
    form.field = (count > 0).then_some(0);
}

pub(super) fn send_template(state: &mut State, form: TemplateForm) -> Vec<Effect> {
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

pub(super) fn on_mouse(state: &mut State, mouse: MouseEvent) -> Vec<Effect> {
    if state.overlay.is_some() || state.session.is_none() || state.screen != Screen::Inbox {
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
