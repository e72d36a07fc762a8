//! The `:` command line: the same named actions as the keys, with arguments.
//!
//! A line is an action name ([`Command::name`], snake or kebab case, any letter case) or an
//! alias, then its arguments, split the way a shell splits words: spaces separate, double or
//! single quotes group (`:note "call back tomorrow"`), and a backslash escapes the next
//! character (inside double quotes, only `"` and `\`; inside single quotes, nothing). What the
//! arguments mean is for the view that runs the command; this module only parses.
//!
//! The aliases, kept few:
//!
//! | alias | runs |
//! |---|---|
//! | `q` | `quit` |
//! | `w`, `ws` | `workspace` |
//! | `h` | `help` |
//! | `unassign` | `assign none` |
//! | `untag TAG…` | `tag -TAG…` |

use crate::tui::keymap::Command;

/// A parsed command line: the action and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub command: Command,
    pub args: Vec<String>,
}

/// The aliases that only rename a command (the others are handled in [`parse`]).
const ALIASES: &[(&str, Command)] = &[
    ("q", Command::Quit),
    ("w", Command::Workspace),
    ("ws", Command::Workspace),
    ("h", Command::Help),
];

/// Aliases long enough to be worth completing.
const COMPLETED_ALIASES: &[&str] = &["unassign", "untag"];

/// Parses a command line (the leading `:` is optional). Errors are one sentence for the
/// status bar.
pub fn parse(line: &str) -> Result<Invocation, String> {
    let line = line.trim_start();
    let line = line.strip_prefix(':').unwrap_or(line);
    let mut words = split_words(line)?.into_iter();
    let Some(name) = words.next() else {
        return Err("empty command; try :help".into());
    };
    let args: Vec<String> = words.collect();
    let key = name.to_ascii_lowercase().replace('-', "_");
    match key.as_str() {
        "unassign" => {
            if !args.is_empty() {
                return Err("`unassign` takes no arguments; to assign someone, use :assign".into());
            }
            return Ok(Invocation {
                command: Command::Assign,
                args: vec!["none".into()],
            });
        }
        "untag" => {
            if args.is_empty() {
                return Err("`untag` needs the tag to remove, e.g. :untag vip".into());
            }
            return Ok(Invocation {
                command: Command::Tag,
                args: args.into_iter().map(|tag| format!("-{tag}")).collect(),
            });
        }
        _ => {}
    }
    let command = ALIASES
        .iter()
        .find(|(alias, _)| *alias == key)
        .map(|(_, command)| *command)
        .or_else(|| key.parse().ok())
        .ok_or_else(|| format!("unknown command `{name}`; try :help"))?;
    Ok(Invocation { command, args })
}

/// The action names (and long aliases) starting with `prefix`, sorted, for Tab completion. A
/// leading `:` and kebab case are accepted.
pub fn complete(prefix: &str) -> Vec<&'static str> {
    let prefix = prefix.trim_start();
    let prefix = prefix.strip_prefix(':').unwrap_or(prefix);
    let prefix = prefix.to_ascii_lowercase().replace('-', "_");
    let mut names: Vec<&'static str> = Command::all()
        .iter()
        .map(|command| command.name())
        .chain(COMPLETED_ALIASES.iter().copied())
        .filter(|name| name.starts_with(&prefix))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Splits a line into words like a shell: whitespace separates, quotes group, `\` escapes.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    // `Some` once a word has started, even an empty one (`""`).
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\\' => {
                let escaped = chars
                    .next()
                    .ok_or("the line ends with a backslash; write \\\\ for one")?;
                word.get_or_insert_default().push(escaped);
            }
            '\'' => {
                let word = word.get_or_insert_default();
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a single quote is not closed".into()),
                    }
                }
            }
            '"' => {
                let word = word.get_or_insert_default();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("a double quote is not closed".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("a double quote is not closed".into()),
                    }
                }
            }
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Invocation {
        parse(line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    fn inv(command: Command, args: &[&str]) -> Invocation {
        Invocation {
            command,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn the_documented_examples_parse() {
        assert_eq!(ok(":assign me"), inv(Command::Assign, &["me"]));
        assert_eq!(
            ok(":assign sam@example.com"),
            inv(Command::Assign, &["sam@example.com"])
        );
        assert_eq!(ok(":close"), inv(Command::Close, &[]));
        assert_eq!(ok(":tag vip"), inv(Command::Tag, &["vip"]));
        assert_eq!(
            ok(":template order_update"),
            inv(Command::Template, &["order_update"])
        );
        assert_eq!(ok(":workspace acme"), inv(Command::Workspace, &["acme"]));
        assert_eq!(
            ok(":note \"call back tomorrow\""),
            inv(Command::Note, &["call back tomorrow"])
        );
        assert_eq!(ok(":filter mine"), inv(Command::Filter, &["mine"]));
        assert_eq!(
            ok(":search blue shoes"),
            inv(Command::Search, &["blue", "shoes"])
        );
    }

    #[test]
    fn every_action_name_parses_in_snake_and_kebab_case() {
        for command in Command::all() {
            assert_eq!(ok(command.name()).command, *command);
            assert_eq!(
                ok(&format!(":{}", command.name().replace('_', "-"))).command,
                *command
            );
        }
        assert_eq!(ok("  :  Close-Next  "), inv(Command::CloseNext, &[]));
    }

    #[test]
    fn aliases() {
        assert_eq!(ok(":q"), inv(Command::Quit, &[]));
        assert_eq!(ok(":quit"), inv(Command::Quit, &[]));
        assert_eq!(ok(":w acme"), inv(Command::Workspace, &["acme"]));
        assert_eq!(ok(":ws"), inv(Command::Workspace, &[]));
        assert_eq!(ok(":h"), inv(Command::Help, &[]));
        assert_eq!(ok(":help"), inv(Command::Help, &[]));
        assert_eq!(ok(":unassign"), inv(Command::Assign, &["none"]));
        assert_eq!(ok(":untag vip late"), inv(Command::Tag, &["-vip", "-late"]));
        assert!(
            parse(":unassign sam")
                .unwrap_err()
                .contains("takes no arguments")
        );
        assert!(parse(":untag").unwrap_err().contains("needs the tag"));
    }

    #[test]
    fn quoting_groups_and_escapes() {
        assert_eq!(
            ok(":note 'call back' tomorrow"),
            inv(Command::Note, &["call back", "tomorrow"])
        );
        assert_eq!(
            ok(r#":note "say \"hi\"""#),
            inv(Command::Note, &[r#"say "hi""#])
        );
        assert_eq!(
            ok(r#":note 'it\s' "C:\dir""#),
            inv(Command::Note, &[r"it\s", r"C:\dir"])
        );
        assert_eq!(
            ok(r":search blue\ shoes"),
            inv(Command::Search, &["blue shoes"])
        );
        assert_eq!(ok(r#":search a"b c"d"#), inv(Command::Search, &["ab cd"]));
        assert_eq!(ok(r#":note "" x"#), inv(Command::Note, &["", "x"]));
        assert_eq!(ok(r#":note "don't""#), inv(Command::Note, &["don't"]));
        assert_eq!(ok(":tag\tvip "), inv(Command::Tag, &["vip"]));
    }

    #[test]
    fn errors_are_one_clear_sentence() {
        assert_eq!(parse("").unwrap_err(), "empty command; try :help");
        assert_eq!(parse(":").unwrap_err(), "empty command; try :help");
        assert_eq!(parse(":   ").unwrap_err(), "empty command; try :help");
        assert_eq!(
            parse(":frob").unwrap_err(),
            "unknown command `frob`; try :help"
        );
        assert_eq!(
            parse(":frob now").unwrap_err(),
            "unknown command `frob`; try :help"
        );
        assert_eq!(
            parse(":note \"open").unwrap_err(),
            "a double quote is not closed"
        );
        assert_eq!(
            parse(":note 'open").unwrap_err(),
            "a single quote is not closed"
        );
        assert!(
            parse(":note x\\")
                .unwrap_err()
                .contains("ends with a backslash")
        );
    }

    #[test]
    fn completion_lists_matching_names_sorted() {
        assert_eq!(complete("as"), vec!["assign", "assign_me"]);
        assert_eq!(complete(":clo"), vec!["close", "close_next"]);
        assert_eq!(complete("close-"), vec!["close_next"]);
        assert_eq!(complete("un"), vec!["unassign", "untag"]);
        assert_eq!(
            complete("t"),
            vec![
                "tag",
                "team",
                "template",
                "toggle_note",
                "toggle_opt_in",
                "top"
            ]
        );
        assert_eq!(complete("zzz"), Vec::<&str>::new());
        let all = complete("");
        assert_eq!(all.len(), Command::all().len() + 2);
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        for name in all {
            assert!(parse(name).is_ok() || name == "untag", "{name}");
        }
    }
}
