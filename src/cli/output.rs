//! Printing results: aligned plain tables for people, one JSON document for scripts.

use std::io::Write;

use comfy_table::{Table, presets::NOTHING};
use serde::Serialize;

/// Prints a value as one JSON document on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// A table with a header row and no borders, like `ls -l`.
pub fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_style(NOTHING).set_header(header.to_vec());
    for row in rows {
        table.add_row(row);
    }
    // Trailing spaces of the last column are noise in a terminal and in diffs.
    let mut text: String = table
        .to_string()
        .lines()
        .map(|line| format!("{}\n", line.trim_end()))
        .collect();
    if text.is_empty() {
        text.push('\n');
    }
    text
}

/// What an empty optional column shows.
pub fn or_dash(value: Option<&str>) -> String {
    value.unwrap_or("-").to_string()
}

pub fn time(value: chrono::DateTime<chrono::Utc>) -> String {
    value.format("%Y-%m-%d %H:%M").to_string()
}
