//! `contact import`: a CSV of contacts into a workspace, with a report of every row.
//!
//! Columns (matched without case): `phone` (required), `name`, `tags` (separated by `;`, `,` or
//! `|`), `opted_in` (yes/no, true/false, 1/0, y/n; empty: not said), and any other column as a
//! custom field. A row whose phone is already a contact updates it; a row that repeats an
//! earlier row's phone, or that cannot be read, is rejected with the reason; the good rows are
//! kept. All good rows are written in one transaction, a thousand per statement.

use std::collections::HashMap;
use std::io::Read;

use serde_json::{Map, Value};

use crate::domain::{Tag, WaId, WorkspaceId};
use crate::store::contacts::{self, NewContact, Upserted};
use crate::store::{Db, StoreError};

const BATCH: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Imported,
    Updated,
    Rejected,
}

/// What happened to one row of the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowReport {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    pub wa_id: Option<String>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    pub imported: usize,
    pub updated: usize,
    pub rejected: usize,
    pub rows: Vec<RowReport>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "the file has no `phone` column (its columns are: {0}); the first line must name the columns"
    )]
    NoPhoneColumn(String),
    #[error("cannot read the file's header line")]
    Header(#[source] csv::Error),
    #[error("the file names the column `{0}` twice")]
    DuplicateColumn(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads the CSV, validates every row, then writes the good rows.
pub async fn import(
    db: &Db,
    workspace: WorkspaceId,
    input: impl Read,
) -> Result<ImportReport, ImportError> {
    let parsed = parse(input)?;
    let mut tx = db.pool().begin().await.map_err(StoreError::from)?;
    let mut outcomes: HashMap<String, Upserted> = HashMap::with_capacity(parsed.good.len());
    for batch in parsed.good.chunks(BATCH) {
        let contacts: Vec<NewContact> = batch.iter().map(|(_, c)| c.clone()).collect();
        outcomes.extend(contacts::upsert_many(&mut tx, workspace, &contacts).await?);
    }
    tx.commit().await.map_err(StoreError::from)?;

    let mut report = ImportReport::default();
    let mut good = parsed.good.iter().peekable();
    for mut row in parsed.rows {
        if row.outcome != Outcome::Rejected {
            let (_, contact) = good.next().expect("every accepted row has a contact");
            row.outcome = match outcomes.get(contact.wa_id.as_str()) {
                Some(Upserted::Imported) => Outcome::Imported,
                _ => Outcome::Updated,
            };
        }
        match row.outcome {
            Outcome::Imported => report.imported += 1,
            Outcome::Updated => report.updated += 1,
            Outcome::Rejected => report.rejected += 1,
        }
        report.rows.push(row);
    }
    Ok(report)
}

/// The rows of a file: a report line for each (accepted rows marked `Imported` until written),
/// and the accepted contacts in file order with their line.
struct Parsed {
    rows: Vec<RowReport>,
    good: Vec<(u64, NewContact)>,
}

struct Columns {
    phone: usize,
    name: Option<usize>,
    tags: Option<usize>,
    opted_in: Option<usize>,
    custom: Vec<(usize, String)>,
    count: usize,
}

fn columns(header: &csv::StringRecord) -> Result<Columns, ImportError> {
    let mut seen = HashMap::new();
    let mut columns = Columns {
        phone: usize::MAX,
        name: None,
        tags: None,
        opted_in: None,
        custom: Vec::new(),
        count: header.len(),
    };
    for (index, raw) in header.iter().enumerate() {
        let name = raw.trim().trim_start_matches('\u{feff}').to_string();
        let key = name.to_lowercase();
        if seen.insert(key.clone(), index).is_some() {
            return Err(ImportError::DuplicateColumn(name));
        }
        match key.as_str() {
            "phone" => columns.phone = index,
            "name" => columns.name = Some(index),
            "tags" => columns.tags = Some(index),
            "opted_in" => columns.opted_in = Some(index),
            "" => {}
            _ => columns.custom.push((index, name)),
        }
    }
    if columns.phone == usize::MAX {
        let names: Vec<&str> = header.iter().collect();
        return Err(ImportError::NoPhoneColumn(names.join(", ")));
    }
    Ok(columns)
}

fn parse(input: impl Read) -> Result<Parsed, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let header = reader.headers().map_err(ImportError::Header)?.clone();
    let columns = columns(&header)?;
    let mut parsed = Parsed {
        rows: Vec::new(),
        good: Vec::new(),
    };
    let mut first_line_of: HashMap<WaId, u64> = HashMap::new();
    let mut line = 1;
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                line = error.position().map_or(line + 1, |p| p.line());
                parsed.rows.push(rejected(line, None, unreadable(&error)));
                continue;
            }
        };
        line = record.position().map_or(line + 1, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue; // a blank line
        }
        let phone = record.get(columns.phone).unwrap_or_default();
        if record.len() != columns.count {
            parsed.rows.push(rejected(
                line,
                Some(phone.to_string()).filter(|p| !p.is_empty()),
                format!(
                    "it has {} fields and the header has {}",
                    record.len(),
                    columns.count
                ),
            ));
            continue;
        }
        match contact(&record, &columns) {
            Err(reason) => parsed.rows.push(rejected(
                line,
                Some(phone.to_string()).filter(|p| !p.is_empty()),
                reason,
            )),
            Ok(contact) => {
                if let Some(first) = first_line_of.get(&contact.wa_id) {
                    parsed.rows.push(rejected(
                        line,
                        Some(contact.wa_id.to_string()),
                        format!("duplicate of line {first} (same phone)"),
                    ));
                    continue;
                }
                first_line_of.insert(contact.wa_id.clone(), line);
                parsed.rows.push(RowReport {
                    line,
                    wa_id: Some(contact.wa_id.to_string()),
                    outcome: Outcome::Imported,
                    reason: None,
                });
                parsed.good.push((line, contact));
            }
        }
    }
    Ok(parsed)
}

fn contact(record: &csv::StringRecord, columns: &Columns) -> Result<NewContact, String> {
    let field = |index: Option<usize>| index.and_then(|i| record.get(i)).unwrap_or_default();
    let phone = field(Some(columns.phone));
    if phone.is_empty() {
        return Err("the phone is empty".into());
    }
    let wa_id = WaId::parse(phone).map_err(|e| e.to_string())?;
    let tags = Tag::parse_list(field(columns.tags)).map_err(|e| e.to_string())?;
    let opted_in = parse_consent(field(columns.opted_in))?;
    let name = Some(field(columns.name).to_string()).filter(|n| !n.is_empty());
    let custom_fields: Map<String, Value> = columns
        .custom
        .iter()
        .filter_map(|(index, name)| {
            let value = record.get(*index)?;
            (!value.is_empty()).then(|| (name.clone(), Value::from(value)))
        })
        .collect();
    Ok(NewContact {
        wa_id,
        name,
        tags,
        opted_in,
        custom_fields,
    })
}

fn parse_consent(raw: &str) -> Result<Option<bool>, String> {
    match raw.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "yes" | "y" | "true" | "1" => Ok(Some(true)),
        "no" | "n" | "false" | "0" => Ok(Some(false)),
        _ => Err(format!("opted_in `{raw}` is not yes/no, true/false or 1/0")),
    }
}

fn unreadable(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8 text".into(),
        _ => format!("the row cannot be read: {error}"),
    }
}

fn rejected(line: u64, wa_id: Option<String>, reason: String) -> RowReport {
    RowReport {
        line,
        wa_id,
        outcome: Outcome::Rejected,
        reason: Some(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Parsed {
        parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn accepts_good_rows_with_custom_fields() {
        let parsed =
            parse_str("phone,name,tags,opted_in,city\n+1 415 555 0123,Ana,vip;lead,yes,Lisbon\n");
        assert_eq!(parsed.good.len(), 1);
        let (line, contact) = &parsed.good[0];
        assert_eq!(*line, 2);
        assert_eq!(contact.wa_id.as_str(), "14155550123");
        assert_eq!(contact.name.as_deref(), Some("Ana"));
        assert_eq!(contact.opted_in, Some(true));
        assert_eq!(contact.tags.len(), 2);
        assert_eq!(contact.custom_fields["city"], "Lisbon");
    }

    #[test]
    fn rejects_bad_duplicate_and_ragged_rows_with_reasons() {
        let parsed = parse_str(
            "phone,name,opted_in\n\
             14155550123,Ana,yes\n\
             not-a-number,Bob,no\n\
             +1 (415) 555-0123,Ana again,no\n\
             14155550124,Cy\n\
             14155550125,Di,perhaps\n",
        );
        assert_eq!(parsed.good.len(), 1);
        let reasons: Vec<(u64, String)> = parsed
            .rows
            .iter()
            .filter(|r| r.outcome == Outcome::Rejected)
            .map(|r| (r.line, r.reason.clone().unwrap()))
            .collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert_eq!(reasons[0].0, 3);
        assert!(reasons[0].1.contains("not a phone number"));
        assert_eq!(
            reasons[1],
            (4, "duplicate of line 2 (same phone)".to_string())
        );
        assert!(reasons[2].1.contains("2 fields and the header has 3"));
        assert!(reasons[3].1.contains("perhaps"));
    }

    #[test]
    fn a_file_without_a_phone_column_is_refused_whole() {
        let error = parse("name,tags\nAna,vip\n".as_bytes()).err().unwrap();
        assert!(matches!(error, ImportError::NoPhoneColumn(_)));
    }

    #[test]
    fn invalid_utf8_rejects_only_that_row() {
        let mut bytes = b"phone,name\n14155550123,Ana\n14155550124,".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
        bytes.extend_from_slice(b"14155550125,Cy\n");
        let parsed = parse(&bytes[..]).unwrap();
        assert_eq!(parsed.good.len(), 2);
        let rejected: Vec<_> = parsed
            .rows
            .iter()
            .filter(|r| r.outcome == Outcome::Rejected)
            .collect();
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].line, 3);
    }
}
