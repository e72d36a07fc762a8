//! Who opens the TUI and on which workspace: `[user] email` (asked once when missing, and saved
//! if the user wants), the user's memberships, and the workspace used last time.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

use crate::config::{Config, Paths, Source};
use crate::domain::{Email, Slug};
use crate::store::Db;
use crate::store::users::{self, Membership, User};

/// The user at the keyboard and the workspaces they may open.
pub struct Start {
    pub user: User,
    pub memberships: Vec<Membership>,
    /// Opened at once; None shows the picker.
    pub initial: Option<Membership>,
}

/// Finds the user and the workspace to open.
pub async fn start(
    db: &Db,
    config: &Config,
    paths: &Paths,
    wanted: Option<&Slug>,
) -> anyhow::Result<Start> {
    let email = match &config.user.email {
        Some(email) => Email::parse(email).map_err(|e| anyhow!("[user] email: {e}"))?,
        None => ask_email(config, paths)?,
    };
    let user = users::by_email(db, &email).await?.ok_or_else(|| {
        anyhow!(
            "no member has the email {email}; an OWNER or ADMIN adds you with `treeex member add --workspace SLUG --email {email} --role member`"
        )
    })?;
    let memberships = users::memberships(db, user.id).await?;
    if memberships.is_empty() {
        return Err(anyhow!(
            "{email} is not a member of any workspace; `treeex member add --workspace SLUG --email {email} --role member` adds you"
        ));
    }
    let initial = match wanted {
        Some(slug) => Some(
            memberships
                .iter()
                .find(|m| m.workspace.slug == slug.as_str())
                .cloned()
                .ok_or_else(|| anyhow!("{email} is not a member of the workspace `{slug}`"))?,
        ),
        None if memberships.len() == 1 => memberships.first().cloned(),
        None => last_workspace(paths)
            .and_then(|slug| memberships.iter().find(|m| m.workspace.slug == slug))
            .cloned(),
    };
    Ok(Start {
        user,
        memberships,
        initial,
    })
}

fn last_workspace_file(paths: &Paths) -> PathBuf {
    paths.data_dir().join("tui-last-workspace")
}

fn last_workspace(paths: &Paths) -> Option<String> {
    let slug = std::fs::read_to_string(last_workspace_file(paths)).ok()?;
    Some(slug.trim().to_string())
}

/// Remembers the workspace for the next start; failing to is not worth interrupting anyone.
pub fn remember_workspace(paths: &Paths, slug: &str) {
    let file = last_workspace_file(paths);
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(error) = std::fs::write(&file, format!("{slug}\n")) {
        tracing::warn!(%error, file = %file.display(), "cannot remember the last workspace");
    }
}

/// Asks for the email on the terminal, once, and offers to save it in the configuration.
fn ask_email(config: &Config, paths: &Paths) -> anyhow::Result<Email> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(anyhow!(
            "[user] email is not set: treeex needs to know who you are (set it in the configuration file)"
        ));
    }
    let mut out = std::io::stdout();
    let mut lines = stdin.lock().lines();
    let email = loop {
        write!(out, "Your email (as a member of a workspace): ")?;
        out.flush()?;
        let Some(line) = lines.next() else {
            return Err(anyhow!("[user] email is not set"));
        };
        match Email::parse(line?.trim()) {
            Ok(email) => break email,
            Err(error) => writeln!(out, "{error}")?,
        }
    };
    let file = match &config.source {
        Some(Source::File(path)) => path.clone(),
        _ => paths.config_file(),
    };
    write!(out, "Save it as [user] email in {}? [Y/n] ", file.display())?;
    out.flush()?;
    let answer = lines.next().transpose()?.unwrap_or_default();
    if !answer.trim().to_ascii_lowercase().starts_with('n') {
        save_email(&file, &email)
            .with_context(|| format!("cannot save [user] email in {}", file.display()))?;
        writeln!(out, "Saved.")?;
    }
    Ok(email)
}

/// Writes `email` under `[user]`, keeping the rest of the file as it is.
pub fn save_email(file: &Path, email: &Email) -> anyhow::Result<()> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error.into()),
    };
    let line = format!("email = \"{}\"", email.as_str());
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    match lines.iter().position(|l| l.trim() == "[user]") {
        Some(section) => lines.insert(section + 1, line),
        None => {
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.push("[user]".into());
            lines.push(line);
        }
    }
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(file, lines.join("\n") + "\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_lands_under_user_and_the_rest_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        let email = Email::parse("alex@example.com").unwrap();
        std::fs::write(
            &file,
            "[server]\nlisten = \"127.0.0.1:9000\"\n\n[user]\nname = \"Alex\"\n",
        )
        .unwrap();
        save_email(&file, &email).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let config = Config::parse(&text, &Source::Defaults).unwrap();
        assert_eq!(config.user.email.as_deref(), Some("alex@example.com"));
        assert_eq!(config.user.name.as_deref(), Some("Alex"));
        assert_eq!(config.server.listen.port(), 9000);

        let fresh = dir.path().join("new/config.toml");
        save_email(&fresh, &email).unwrap();
        let config =
            Config::parse(&std::fs::read_to_string(&fresh).unwrap(), &Source::Defaults).unwrap();
        assert_eq!(config.user.email.as_deref(), Some("alex@example.com"));
    }
}
