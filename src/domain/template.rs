//! Message templates as rules: how many parameters a template takes, and the text a customer
//! sees once they are filled in. Works on Meta's `components` definition (spec §8).
//!
//! Parameters are given in the template's own order: the header's text variable (a header holds
//! at most one), then the body's variables, then the variables of URL buttons.

use serde_json::{Value, json};

use super::InvalidValue;

/// Where a template's variables are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    pub header: usize,
    pub body: usize,
    /// (button index, variable count) of URL buttons with a variable.
    pub url_buttons: Vec<(usize, usize)>,
}

impl Variables {
    pub fn total(&self) -> usize {
        self.header + self.body + self.url_buttons.iter().map(|(_, n)| n).sum::<usize>()
    }
}

/// Counts the distinct `{{…}}` variables of a text (positional `{{1}}` or named `{{first_name}}`).
pub fn count_variables(text: &str) -> usize {
    let mut names: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
        rest = &after[end + 2..];
    }
    names.len()
}

fn component<'a>(components: &'a Value, kind: &str) -> Option<&'a Value> {
    components.as_array()?.iter().find(|c| {
        c.get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(kind))
    })
}

fn text_of(component: Option<&Value>) -> Option<&str> {
    component?.get("text")?.as_str()
}

/// The format of the template's media header (IMAGE, VIDEO, DOCUMENT, LOCATION), if it has one:
/// such a header needs a file or a place with every send.
pub fn media_header(components: &Value) -> Option<&str> {
    component(components, "HEADER")?
        .get("format")?
        .as_str()
        .filter(|f| !f.eq_ignore_ascii_case("TEXT"))
}

pub fn variables(components: &Value) -> Variables {
    let header = component(components, "HEADER").filter(|h| {
        h.get("format")
            .and_then(Value::as_str)
            .is_none_or(|f| f.eq_ignore_ascii_case("TEXT"))
    });
    let url_buttons = component(components, "BUTTONS")
        .and_then(|b| b.get("buttons"))
        .and_then(Value::as_array)
        .map(|buttons| {
            buttons
                .iter()
                .enumerate()
                .filter_map(|(index, button)| {
                    let url = button.get("url").and_then(Value::as_str)?;
                    let count = count_variables(url);
                    (count > 0).then_some((index, count))
                })
                .collect()
        })
        .unwrap_or_default();
    Variables {
        header: text_of(header).map_or(0, count_variables),
        body: text_of(component(components, "BODY")).map_or(0, count_variables),
        url_buttons,
    }
}

/// Checks the parameter count: the rule Meta enforces with error 132000, refused here first.
pub fn check_parameters(
    name: &str,
    components: &Value,
    params: &[String],
) -> Result<Variables, InvalidValue> {
    let vars = variables(components);
    if vars.total() != params.len() {
        return Err(InvalidValue(format!(
            "template `{name}` takes {} parameter{} and {} {} given",
            vars.total(),
            if vars.total() == 1 { "" } else { "s" },
            params.len(),
            if params.len() == 1 { "was" } else { "were" },
        )));
    }
    Ok(vars)
}

/// The send API's `components` for these parameters (spec §5 "template").
pub fn send_components(vars: &Variables, params: &[String]) -> Vec<Value> {
    let text = |p: &String| json!({ "type": "text", "text": p });
    let mut params = params.iter();
    let mut components = Vec::new();
    if vars.header > 0 {
        let header: Vec<Value> = params.by_ref().take(vars.header).map(text).collect();
        components.push(json!({ "type": "header", "parameters": header }));
    }
    if vars.body > 0 {
        let body: Vec<Value> = params.by_ref().take(vars.body).map(text).collect();
        components.push(json!({ "type": "body", "parameters": body }));
    }
    for (index, count) in &vars.url_buttons {
        let values: Vec<Value> = params.by_ref().take(*count).map(text).collect();
        components.push(json!({ "type": "button", "sub_type": "url", "index": index.to_string(), "parameters": values }));
    }
    components
}

/// The text the customer sees: header, body and footer with the variables filled in.
pub fn render(components: &Value, params: &[String]) -> String {
    let vars = variables(components);
    let mut params = params.iter();
    let mut fill = |text: &str, count: usize| {
        let values: Vec<&String> = params.by_ref().take(count).collect();
        substitute(text, &values)
    };
    let mut parts = Vec::new();
    if let Some(header) = text_of(component(components, "HEADER")) {
        parts.push(fill(header, vars.header));
    }
    if let Some(body) = text_of(component(components, "BODY")) {
        parts.push(fill(body, vars.body));
    }
    if let Some(footer) = text_of(component(components, "FOOTER")) {
        parts.push(footer.to_string());
    }
    parts.join("\n")
}

/// Replaces each distinct variable, in order of first appearance, by the next value.
fn substitute(text: &str, values: &[&String]) -> String {
    let mut names: Vec<String> = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push_str(&rest[..start]);
        let name = after[..end].trim().to_string();
        let position = names.iter().position(|n| *n == name).unwrap_or_else(|| {
            names.push(name.clone());
            names.len() - 1
        });
        match values.get(position) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_update() -> Value {
        json!([
            { "type": "HEADER", "format": "TEXT", "text": "Order {{1}}" },
            { "type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped." },
            { "type": "FOOTER", "text": "Acme Store" },
            { "type": "BUTTONS", "buttons": [
                { "type": "QUICK_REPLY", "text": "Track" },
                { "type": "URL", "text": "Details", "url": "https://example.com/o/{{1}}" } ] }
        ])
    }

    #[test]
    fn a_media_header_is_told_from_a_text_header() {
        assert_eq!(media_header(&order_update()), None);
        let image = json!([
            { "type": "HEADER", "format": "IMAGE" },
            { "type": "BODY", "text": "New in store" }
        ]);
        assert_eq!(media_header(&image), Some("IMAGE"));
        assert_eq!(
            media_header(&json!([{ "type": "BODY", "text": "Hi" }])),
            None
        );
    }

    #[test]
    fn counts_header_body_and_url_button_variables() {
        let vars = variables(&order_update());
        assert_eq!(
            vars,
            Variables {
                header: 1,
                body: 2,
                url_buttons: vec![(1, 1)]
            }
        );
        assert_eq!(vars.total(), 4);
        assert_eq!(count_variables("Hello {{first_name}}, {{first_name}}!"), 1);
        assert_eq!(
            variables(&json!([{ "type": "BODY", "text": "Hello world" }])).total(),
            0
        );
    }

    #[test]
    fn a_wrong_count_is_refused_with_both_numbers() {
        let params = vec!["#4521".to_string(), "Ana".to_string()];
        let error = check_parameters("order_update", &order_update(), &params).unwrap_err();
        assert_eq!(
            error.0,
            "template `order_update` takes 4 parameters and 2 were given"
        );
    }

    #[test]
    fn renders_what_the_customer_sees_and_builds_the_send_components() {
        let params: Vec<String> = ["#4521", "Ana", "#4521", "4521"].map(String::from).to_vec();
        assert_eq!(
            render(&order_update(), &params),
            "Order #4521\nHi Ana, your order #4521 has shipped.\nAcme Store"
        );
        let vars = check_parameters("order_update", &order_update(), &params).unwrap();
        let components = send_components(&vars, &params);
        assert_eq!(
            components[1],
            json!({ "type": "body", "parameters": [
            { "type": "text", "text": "Ana" }, { "type": "text", "text": "#4521" } ] })
        );
        assert_eq!(components[2]["index"], "1");
    }
}
