//! Lenient readers over raw webhook JSON. Meta's payloads drift: ids come as strings or numbers,
//! timestamps as strings or integers, arrays go missing. These helpers read what is there and
//! never fail on a shape they can make sense of; the callers decide what is required.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A scalar as text: strings as they are, numbers printed; `null`, objects, arrays and booleans
/// are not text.
pub(crate) fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `obj[key]` as text, `""` kept.
pub(crate) fn text(obj: &Value, key: &str) -> Option<String> {
    obj.get(key).and_then(as_text)
}

/// `obj[key]` as text, with `""` (and whitespace only) read as absent.
pub(crate) fn non_empty(obj: &Value, key: &str) -> Option<String> {
    text(obj, key).filter(|s| !s.trim().is_empty())
}

/// `obj[key]` as a flag: `true`, `"true"` or `1`; anything else is false.
pub(crate) fn flag(obj: &Value, key: &str) -> bool {
    match obj.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|x| x != 0.0),
        _ => false,
    }
}

/// `obj[key]` as a number: a JSON number or a numeric string.
pub(crate) fn number(obj: &Value, key: &str) -> Option<f64> {
    match obj.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|x| x.is_finite())
}

/// `obj[key]` as a list of items: an array as it is, a lone object as a list of one, and
/// anything else (absent, `null`) as empty.
pub(crate) fn items(obj: &Value, key: &str) -> Vec<Value> {
    match obj.get(key) {
        Some(Value::Array(items)) => items.clone(),
        Some(item @ Value::Object(_)) => vec![item.clone()],
        _ => Vec::new(),
    }
}

/// Unix seconds, as Meta writes them: an integer, a float, or a string of either.
pub(crate) fn unix_seconds(v: &Value) -> Option<i64> {
    let seconds = match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => return Some(i),
            None => n.as_f64()?,
        },
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(i) => return Some(i),
                Err(_) => s.parse::<f64>().ok()?,
            }
        }
        _ => return None,
    };
    // Out-of-range floats are refused rather than saturated.
    (seconds.is_finite() && seconds.abs() < 1e15).then(|| seconds.floor() as i64)
}

/// Unix seconds as a UTC instant, when they name one chrono can hold.
pub(crate) fn instant(v: &Value) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(unix_seconds(v)?, 0)
}

/// A short rendering of a JSON value for error messages.
pub(crate) fn describe(v: &Value) -> String {
    let mut shown = v.to_string();
    if shown.chars().count() > 40 {
        shown = shown.chars().take(40).collect::<String>() + "…";
    }
    shown
}

/// serde: a JSON string or number as a `String` (`null` or absent as `""`). Never fails.
pub(crate) fn de_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(as_text(&v).unwrap_or_default())
}

/// serde: unix seconds as integer or string; anything unreadable as `None`. Never fails.
pub(crate) fn de_unix_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(unix_seconds(&v))
}

/// serde: a list where `null` means empty.
pub(crate) fn de_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unix_seconds_read_from_strings_integers_and_floats() {
        assert_eq!(unix_seconds(&json!("1750090702")), Some(1750090702));
        assert_eq!(unix_seconds(&json!(" 1750090702 ")), Some(1750090702));
        assert_eq!(unix_seconds(&json!(1750090702)), Some(1750090702));
        assert_eq!(unix_seconds(&json!(1750090702.9)), Some(1750090702));
        assert_eq!(unix_seconds(&json!("1750090702.0")), Some(1750090702));
        assert_eq!(unix_seconds(&json!("yesterday")), None);
        assert_eq!(unix_seconds(&json!(null)), None);
        assert_eq!(unix_seconds(&json!(1e300)), None);
        assert_eq!(instant(&json!(i64::MAX)), None);
    }

    #[test]
    fn text_flags_numbers_and_items_are_lenient() {
        let v = json!({"s": "x", "n": 12, "e": "", "b": true, "bs": "TRUE", "o": {"a": 1}, "l": [1, 2], "ns": " 4.5 "});
        assert_eq!(text(&v, "n").as_deref(), Some("12"));
        assert_eq!(text(&v, "e").as_deref(), Some(""));
        assert_eq!(non_empty(&v, "e"), None);
        assert_eq!(text(&v, "b"), None);
        assert!(flag(&v, "b") && flag(&v, "bs") && !flag(&v, "s") && !flag(&v, "missing"));
        assert_eq!(number(&v, "ns"), Some(4.5));
        assert_eq!(items(&v, "o").len(), 1);
        assert_eq!(items(&v, "l").len(), 2);
        assert!(items(&v, "missing").is_empty());
    }
}
