//! Message templates per WABA (spec §8): every WABA starts with the three APPROVED templates of
//! INTERFACE.md; `POST` creates one PENDING and, after `template_review`, gives it a verdict
//! (APPROVED, or REJECTED when variables are adjacent) with a signed
//! `message_template_status_update` webhook; `GET` lists with cursor paging; `DELETE` removes by
//! name (and `hsm_id`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};

use super::error::GraphFailure;
use super::state::{Shared, lock};
use super::webhooks::Update;
use super::{TemplateSeed, ids};

/// Meta's default page size.
const DEFAULT_LIMIT: usize = 25;
/// The prefix of every paging cursor; the rest is the template's sequence number in hex.
const CURSOR_PREFIX: &str = "QVFIU";

#[derive(Debug, Default)]
pub(crate) struct TemplateStore {
    by_waba: HashMap<String, Vec<Template>>,
    next_seq: u64,
    /// Templates every WABA starts with besides the three defaults.
    extra: Vec<TemplateSeed>,
}

#[derive(Debug, Clone)]
pub(crate) struct Template {
    /// Creation order within the store: what the cursors point at.
    seq: u64,
    pub id: String,
    pub name: String,
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    /// `APPROVED`, `PENDING`, `REJECTED`.
    pub status: String,
    parameter_format: String,
    components: Value,
}

/// How many distinct variables a template's header and body hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Variables {
    pub header: usize,
    pub body: usize,
}

impl Template {
    pub fn variables(&self) -> Variables {
        Variables {
            header: placeholders(&component_text(&self.components, "HEADER")).len(),
            body: placeholders(&component_text(&self.components, "BODY")).len(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "parameter_format": self.parameter_format,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
            "components": self.components,
        })
    }
}

impl TemplateStore {
    pub fn with_seeds(extra: &[TemplateSeed]) -> TemplateStore {
        TemplateStore {
            extra: extra.to_vec(),
            ..TemplateStore::default()
        }
    }

    /// The templates of `waba`, seeded with the three defaults and the configured ones on
    /// first use.
    fn waba(&mut self, waba: &str) -> &mut Vec<Template> {
        if !self.by_waba.contains_key(waba) {
            let defaults = seeds()
                .into_iter()
                .map(|(name, category, components)| TemplateSeed {
                    name: name.into(),
                    language: "en_US".into(),
                    category: category.into(),
                    components,
                });
            let all: Vec<TemplateSeed> = defaults.chain(self.extra.iter().cloned()).collect();
            let seeded = all
                .into_iter()
                .map(|seed| {
                    self.template(
                        &seed.name,
                        &seed.language,
                        &seed.category,
                        "APPROVED",
                        "POSITIONAL",
                        seed.components,
                    )
                })
                .collect();
            self.by_waba.insert(waba.to_string(), seeded);
        }
        self.by_waba.entry(waba.to_string()).or_default()
    }

    fn template(
        &mut self,
        name: &str,
        language: &str,
        category: &str,
        status: &str,
        parameter_format: &str,
        components: Value,
    ) -> Template {
        self.next_seq += 1;
        Template {
            seq: self.next_seq,
            id: ids::numeric_id(),
            name: name.to_string(),
            language: language.to_string(),
            category: category.to_string(),
            status: status.to_string(),
            parameter_format: parameter_format.to_string(),
            components,
        }
    }

    /// The template `name` in `language` of `waba`; with no WABA (an unconfigured number), of
    /// any WABA the simulator knows, else among the seeded ones.
    pub fn find(&mut self, waba: Option<&str>, name: &str, language: &str) -> Option<Template> {
        let matches = |t: &&Template| t.name == name && t.language == language;
        match waba {
            Some(waba) => self.waba(waba).iter().find(matches).cloned(),
            None => {
                let known = self.by_waba.values().flatten().find(matches).cloned();
                known.or_else(|| self.waba("").iter().find(matches).cloned())
            }
        }
    }
}

/// The three templates every WABA starts with: name, category, components.
fn seeds() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "hello_world",
            "UTILITY",
            json!([
                { "type": "HEADER", "format": "TEXT", "text": "Hello World" },
                { "type": "BODY", "text": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us." },
                { "type": "FOOTER", "text": "WhatsApp Business Platform sample message" }
            ]),
        ),
        (
            "order_update",
            "UTILITY",
            json!([{ "type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.",
                     "example": { "body_text": [["Ana", "#4521"]] } }]),
        ),
        (
            "spring_sale",
            "MARKETING",
            json!([{ "type": "BODY", "text": "Hello {{1}}, our spring sale starts today.",
                     "example": { "body_text": [["Ana"]] } }]),
        ),
    ]
}

/// `GET /{waba}/message_templates`: `limit`, `after`, and the filters `name` (contains),
/// `status`, `category`, `language`.
pub(crate) fn list(
    shared: &Shared,
    version: Option<&str>,
    waba: &str,
    query: &HashMap<String, String>,
) -> Result<Value, GraphFailure> {
    let limit = match query.get("limit") {
        None => DEFAULT_LIMIT,
        Some(limit) => limit
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| GraphFailure::invalid_parameter("Param limit must be 1 to 1000."))?,
    };
    let after = match query.get("after") {
        None => 0,
        Some(cursor) => parse_cursor(cursor)
            .ok_or_else(|| GraphFailure::invalid_parameter("Param after is not a valid cursor."))?,
    };
    let same = |key: &str, value: &str| {
        query
            .get(key)
            .is_none_or(|wanted| wanted.eq_ignore_ascii_case(value))
    };
    let mut templates = lock(&shared.templates);
    let matching: Vec<&Template> = templates
        .waba(waba)
        .iter()
        .filter(|t| t.seq > after)
        .filter(|t| {
            query
                .get("name")
                .is_none_or(|n| t.name.contains(n.as_str()))
        })
        .filter(|t| same("status", &t.status) && same("category", &t.category))
        .filter(|t| same("language", &t.language))
        .collect();
    let page = &matching[..limit.min(matching.len())];
    let data: Vec<Value> = page.iter().map(|t| t.to_json()).collect();
    let (Some(first), Some(last)) = (page.first(), page.last()) else {
        return Ok(json!({ "data": data }));
    };
    let mut paging =
        json!({ "cursors": { "before": cursor(first.seq), "after": cursor(last.seq) } });
    if matching.len() > page.len() {
        paging["next"] = json!(next_url(shared, version, waba, query, limit, last.seq));
    }
    Ok(json!({ "data": data, "paging": paging }))
}

fn cursor(seq: u64) -> String {
    format!("{CURSOR_PREFIX}{seq:x}")
}

fn parse_cursor(cursor: &str) -> Option<u64> {
    u64::from_str_radix(cursor.strip_prefix(CURSOR_PREFIX)?, 16).ok()
}

/// The full URL of the next page on this simulator, keeping the request's filters.
fn next_url(
    shared: &Shared,
    version: Option<&str>,
    waba: &str,
    query: &HashMap<String, String>,
    limit: usize,
    after: u64,
) -> String {
    let prefix = version.map(|v| format!("{v}/")).unwrap_or_default();
    let base = format!("{}/{prefix}{waba}/message_templates", shared.base_url);
    let Ok(mut url) = reqwest::Url::parse(&base) else {
        return format!("{base}?limit={limit}&after={}", cursor(after));
    };
    {
        let mut pairs = url.query_pairs_mut();
        for key in ["fields", "name", "status", "category", "language"] {
            if let Some(value) = query.get(key) {
                pairs.append_pair(key, value);
            }
        }
        pairs.append_pair("limit", &limit.to_string());
        pairs.append_pair("after", &cursor(after));
    }
    url.into()
}

/// `POST /{waba}/message_templates`: a new PENDING template; its verdict follows.
pub(crate) fn create(
    shared: &Arc<Shared>,
    waba: &str,
    body: &Value,
) -> Result<Value, GraphFailure> {
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::trim);
    let name = text("name").unwrap_or_default();
    if name.is_empty()
        || name.len() > 512
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(GraphFailure::invalid_parameter(
            "Param name is required: up to 512 lowercase letters, digits and underscores.",
        ));
    }
    let language = text("language")
        .filter(|l| !l.is_empty())
        .ok_or_else(|| GraphFailure::invalid_parameter("The parameter language is required."))?;
    let category = text("category")
        .map(str::to_ascii_uppercase)
        .filter(|c| ["MARKETING", "UTILITY", "AUTHENTICATION"].contains(&c.as_str()))
        .ok_or_else(|| {
            GraphFailure::invalid_parameter(
                "Param category must be one of {MARKETING, UTILITY, AUTHENTICATION}.",
            )
        })?;
    let parameter_format = text("parameter_format")
        .map(str::to_ascii_uppercase)
        .unwrap_or_else(|| "POSITIONAL".into());
    let components = body.get("components").cloned().unwrap_or(Value::Null);
    check_components(&components)?;

    let mut templates = lock(&shared.templates);
    if templates
        .waba(waba)
        .iter()
        .any(|t| t.name == name && t.language == language)
    {
        return Err(GraphFailure::invalid_parameter(format!(
            "Message template \"{name}\" already exists in {language}."
        ))
        .with_subcode(2_388_024));
    }
    let template = templates.template(
        name,
        language,
        &category,
        "PENDING",
        &parameter_format,
        components,
    );
    let id = template.id.clone();
    templates.waba(waba).push(template);
    drop(templates);

    tokio::spawn(review(shared.clone(), waba.to_string(), id.clone()));
    Ok(json!({ "id": id, "status": "PENDING", "category": category }))
}

/// Meta's limits on components: one BODY (≤ 1024), an optional HEADER (≤ 60, one variable at
/// most) and FOOTER (≤ 60).
fn check_components(components: &Value) -> Result<(), GraphFailure> {
    let Some(list) = components.as_array() else {
        return Err(GraphFailure::invalid_parameter(
            "Param components must be an array.",
        ));
    };
    let kind = |c: &Value| {
        c.get("type")
            .and_then(Value::as_str)
            .map(str::to_ascii_uppercase)
            .unwrap_or_default()
    };
    if list.iter().filter(|c| kind(c) == "BODY").count() != 1 {
        return Err(GraphFailure::invalid_parameter(
            "A template needs exactly one BODY component.",
        ));
    }
    for (part, max) in [("BODY", 1024), ("HEADER", 60), ("FOOTER", 60)] {
        if component_text(components, part).chars().count() > max {
            return Err(GraphFailure::invalid_parameter(format!(
                "The {part} text must be at most {max} characters long."
            )));
        }
    }
    if placeholders(&component_text(components, "HEADER")).len() > 1 {
        return Err(GraphFailure::invalid_parameter(
            "A header holds at most one variable.",
        ));
    }
    Ok(())
}

/// After the review delay: APPROVED (REJECTED with INVALID_FORMAT when two variables touch),
/// then the signed status webhook. A template deleted meanwhile gets no verdict.
async fn review(shared: Arc<Shared>, waba: String, id: String) {
    tokio::select! {
        () = shared.cancel.cancelled() => return,
        () = tokio::time::sleep(shared.config.template_review) => {}
    }
    let verdict = {
        let mut templates = lock(&shared.templates);
        let Some(template) = templates.waba(&waba).iter_mut().find(|t| t.id == id) else {
            return;
        };
        let body = component_text(&template.components, "BODY");
        let adjacent = body
            .split("}}")
            .skip(1)
            .any(|rest| rest.trim_start().starts_with("{{"));
        template.status = if adjacent { "REJECTED" } else { "APPROVED" }.into();
        let mut value = json!({
            "event": template.status,
            "message_template_id": template.id.parse::<u64>().unwrap_or_default(),
            "message_template_name": template.name,
            "message_template_language": template.language,
            "reason": if adjacent { "INVALID_FORMAT" } else { "NONE" },
            "message_template_category": template.category,
        });
        if adjacent {
            value["rejection_info"] = json!({
                "reason": "Parameters are adjacent.",
                "recommendation": "Add text between parameters.",
            });
        }
        value
    };
    shared.webhooks.send(Update {
        waba_id: waba,
        time: Some(ids::unix_now()),
        field: "message_template_status_update",
        value: verdict,
    });
}

/// `DELETE /{waba}/message_templates?name=N[&hsm_id=ID]`.
pub(crate) fn delete(
    shared: &Shared,
    waba: &str,
    query: &HashMap<String, String>,
) -> Result<Value, GraphFailure> {
    let name = query
        .get("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| GraphFailure::invalid_parameter("The parameter name is required."))?;
    let hsm_id = query.get("hsm_id");
    let mut templates = lock(&shared.templates);
    let list = templates.waba(waba);
    let before = list.len();
    list.retain(|t| !(&t.name == name && hsm_id.is_none_or(|id| &t.id == id)));
    if list.len() == before {
        return Err(GraphFailure::invalid_parameter(format!(
            "Message template \"{name}\" was not found."
        )));
    }
    Ok(json!({ "success": true }))
}

/// The text of the first component of type `kind` (any case), or "".
fn component_text(components: &Value, kind: &str) -> String {
    components
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| {
            c.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case(kind))
        })
        .and_then(|c| c.get("text").and_then(Value::as_str))
        .unwrap_or_default()
        .to_string()
}

/// The distinct variables (`{{1}}`, `{{first_name}}`) in `text`.
fn placeholders(text: &str) -> BTreeSet<&str> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        found.insert(after[..end].trim());
        rest = &after[end + 2..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_waba_starts_with_the_three_seeds() {
        let mut store = TemplateStore::default();
        let order = store.find(Some("1"), "order_update", "en_US").unwrap();
        assert_eq!(order.variables(), Variables { header: 0, body: 2 });
        assert_eq!(order.status, "APPROVED");
        let sale = store.find(Some("2"), "spring_sale", "en_US").unwrap();
        assert_eq!(
            (sale.category.as_str(), sale.variables().body),
            ("MARKETING", 1)
        );
        assert_eq!(
            store
                .find(Some("2"), "hello_world", "en_US")
                .unwrap()
                .variables()
                .body,
            0
        );
        assert!(store.find(Some("2"), "hello_world", "pt_BR").is_none());
        assert!(store.find(None, "hello_world", "en_US").is_some());
    }

    #[test]
    fn placeholders_are_distinct_variables() {
        assert_eq!(
            placeholders("Hi {{1}}, {{2}} and {{1}} {{ name }}").len(),
            3
        );
        assert!(placeholders("no {{ variables").is_empty());
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(parse_cursor(&cursor(300)), Some(300));
        assert_eq!(parse_cursor("nope"), None);
    }
}
