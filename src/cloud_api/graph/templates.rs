//! Message templates at Meta (spec §8): listing every page of a WABA's templates, creating one
//! (checked first against Meta's naming and length rules), and deleting by name.

use std::collections::HashSet;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use super::error::{GraphError, LimitError};
use super::limits::{MAX_TEMPLATE_NAME, at_most, required};
use super::{GraphClient, MAX_JSON_BYTES, decode, expect_success};

/// The fields asked for when listing.
pub const LIST_FIELDS: &str = "name,status,category,language,components,parameter_format";
/// Templates asked for per page.
pub const PAGE_SIZE: u32 = 100;
/// A WABA holds at most a few thousand templates; more pages than this means a paging loop.
const MAX_PAGES: usize = 1000;

/// Template header text, body and footer limits at creation (spec §8).
pub const MAX_TEMPLATE_HEADER: usize = 60;
pub const MAX_TEMPLATE_BODY: usize = 1024;
pub const MAX_TEMPLATE_FOOTER: usize = 60;

const CATEGORIES: &[&str] = &["MARKETING", "UTILITY", "AUTHENTICATION"];
const PARAMETER_FORMATS: &[&str] = &["POSITIONAL", "NAMED"];

/// One template as Meta lists it. `components` is Meta's definition, kept whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateInfo {
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    pub name: String,
    pub language: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub category: String,
    #[serde(default = "empty_array")]
    pub components: Value,
    #[serde(default)]
    pub parameter_format: Option<String>,
}

/// A template to submit for review.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTemplate {
    /// Lowercase letters, digits and `_`, at most 512.
    pub name: String,
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`, in either case (sent upper case).
    pub category: String,
    /// Meta's component definitions: a JSON array with a `BODY`.
    pub components: Value,
    /// `POSITIONAL` or `NAMED` (sent upper case).
    pub parameter_format: Option<String>,
}

/// Meta's answer to a creation: the new template's id and its review status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedTemplate {
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub category: Option<String>,
}

/// One page of a listing.
#[derive(Debug, Deserialize)]
pub(super) struct TemplatePage {
    #[serde(default)]
    pub data: Vec<TemplateInfo>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Paging {
    #[serde(default)]
    pub next: Option<String>,
}

impl TemplatePage {
    /// The next page's URL, when there is one.
    pub(super) fn next(&self) -> Option<&str> {
        self.paging
            .as_ref()
            .and_then(|p| p.next.as_deref())
            .filter(|n| !n.trim().is_empty())
    }
}

fn empty_array() -> Value {
    Value::Array(Vec::new())
}

/// Template ids are strings in listings and integers in webhooks; read either.
fn de_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "a template id is a string or a number, not `{other}`"
        ))),
    }
}

impl NewTemplate {
    /// Checks the name, category, parameter format and component texts against spec §8.
    pub fn validate(&self) -> Result<(), LimitError> {
        required("name", "a template name", &self.name)?;
        at_most("name", "a template name", MAX_TEMPLATE_NAME, &self.name)?;
        if !self
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(LimitError::new(
                "name",
                format!(
                    "a template name is lowercase letters, digits and _ only (this one is `{}`)",
                    self.name
                ),
            ));
        }
        required("language", "a template language", &self.language)?;
        one_of(
            "category",
            "a template category",
            CATEGORIES,
            &self.category,
        )?;
        if let Some(format) = &self.parameter_format {
            one_of(
                "parameter_format",
                "a parameter format",
                PARAMETER_FORMATS,
                format,
            )?;
        }
        check_components(&self.components)
    }

    /// The creation body of spec §8, category and parameter format in upper case.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "name": self.name,
            "language": self.language,
            "category": self.category.trim().to_ascii_uppercase(),
            "components": self.components,
        });
        if let Some(format) = &self.parameter_format {
            body["parameter_format"] = json!(format.trim().to_ascii_uppercase());
        }
        body
    }
}

fn one_of(field: &str, what: &str, allowed: &[&str], value: &str) -> Result<(), LimitError> {
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(value.trim())) {
        Ok(())
    } else {
        Err(LimitError::new(
            field,
            format!(
                "{what} is one of {} (this one is `{value}`)",
                allowed.join(", ")
            ),
        ))
    }
}

/// Components: an array of objects with a `type`, one `BODY`, texts within their limits.
fn check_components(components: &Value) -> Result<(), LimitError> {
    let Some(list) = components.as_array() else {
        return Err(LimitError::new(
            "components",
            "template components are a JSON array",
        ));
    };
    let mut seen = HashSet::new();
    for (i, component) in list.iter().enumerate() {
        let field = format!("components[{i}]");
        let Some(kind) = component.get("type").and_then(Value::as_str) else {
            return Err(LimitError::new(
                field,
                format!(
                    "a template component is an object with a `type` (component {} is not)",
                    i + 1
                ),
            ));
        };
        let kind = kind.to_ascii_uppercase();
        if !seen.insert(kind.clone()) {
            return Err(LimitError::new(
                field,
                format!("a template has at most one {kind} component"),
            ));
        }
        let text = component.get("text").and_then(Value::as_str).unwrap_or("");
        let text_field = format!("{field}.text");
        match kind.as_str() {
            "HEADER" => at_most(&text_field, "a template header", MAX_TEMPLATE_HEADER, text)?,
            "BODY" => at_most(&text_field, "a template body", MAX_TEMPLATE_BODY, text)?,
            "FOOTER" => at_most(&text_field, "a template footer", MAX_TEMPLATE_FOOTER, text)?,
            _ => {}
        }
    }
    if !seen.contains("BODY") {
        return Err(LimitError::new(
            "components",
            "a template needs a BODY component",
        ));
    }
    Ok(())
}

impl GraphClient {
    /// Every template of the WABA, following `paging.next` until it is absent. The next page is
    /// read from the configured base URL (its path and query only, any `access_token` dropped),
    /// so the token never goes to a host treeex was not configured with.
    pub async fn list_templates(
        &self,
        token: &SecretString,
        waba_id: &str,
    ) -> Result<Vec<TemplateInfo>, GraphError> {
        let first = self.endpoint(&[("WABA id", waba_id)], Some("message_templates"))?;
        let mut request = self
            .http
            .get(first)
            .query(&[("fields", LIST_FIELDS), ("limit", &PAGE_SIZE.to_string())]);
        let mut templates = Vec::new();
        let mut seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let answer = self.call(request, token, MAX_JSON_BYTES).await?;
            let page: TemplatePage = decode(&answer)?;
            templates.extend(page.data.iter().cloned());
            let Some(next) = page.next() else {
                return Ok(templates);
            };
            let next = self
                .rebase(next)
                .ok_or_else(|| answer.undecodable(format!("paging.next `{next}` is not a URL")))?;
            if !seen.insert(next.clone()) {
                return Err(answer.undecodable("paging.next repeats a page already read"));
            }
            request = self.http.get(next);
        }
        Err(GraphError::Decode {
            status: 200,
            detail: format!("the template listing did not end after {MAX_PAGES} pages"),
        })
    }

    /// Submits a template for review (checked first with [`NewTemplate::validate`]).
    pub async fn create_template(
        &self,
        token: &SecretString,
        waba_id: &str,
        template: &NewTemplate,
    ) -> Result<CreatedTemplate, GraphError> {
        template.validate().map_err(GraphError::Invalid)?;
        let url = self.endpoint(&[("WABA id", waba_id)], Some("message_templates"))?;
        let request = self.http.post(url).json(&template.to_json());
        let answer = self.call(request, token, MAX_JSON_BYTES).await?;
        decode(&answer)
    }

    /// Deletes a template: every language of `name`, or only the one whose id is `hsm_id`.
    pub async fn delete_template(
        &self,
        token: &SecretString,
        waba_id: &str,
        name: &str,
        hsm_id: Option<&str>,
    ) -> Result<(), GraphError> {
        required("name", "the name of the template to delete", name)
            .map_err(GraphError::Invalid)?;
        let url = self.endpoint(&[("WABA id", waba_id)], Some("message_templates"))?;
        let mut query = vec![("name", name)];
        if let Some(id) = hsm_id.filter(|id| !id.trim().is_empty()) {
            query.push(("hsm_id", id));
        }
        let request = self.http.delete(url).query(&query);
        let answer = self.call(request, token, MAX_JSON_BYTES).await?;
        expect_success(&answer)
    }
}

#[cfg(test)]
mod tests;
