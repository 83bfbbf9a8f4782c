//! The two sides of a diff as typed documents: which kind a document is (its `schema`), the
//! document read into its type ([`Attributions`] or [`Report`]) with messages that name the
//! side and the field, and what the comparison takes from it (items and parameters per
//! method).

use super::outcome::{ItemKey, Kind};
use crate::artifact::attributions::{self, Attributions};
use crate::artifact::report::{self, Report};
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

/// One side, read into its type.
pub(super) enum Document {
    Attributions(Box<Attributions>),
    Report(Box<Report>),
}

/// An explained item of either document: its key, its attributions and what they are
/// compared with.
pub(super) struct Item<'a> {
    pub key: ItemKey,
    pub values: &'a [f64],
    pub std_errors: &'a [f64],
    /// Attribution files name the features; reports do not.
    pub feature_names: Option<&'a [String]>,
}

/// What the comparison of explanations takes from a document.
pub(super) struct Side<'a> {
    /// Method → its scalar parameters as JSON text, in the document's order.
    pub params: Vec<(&'a str, BTreeMap<String, String>)>,
    /// Every explained item, in the document's order.
    pub items: Vec<Item<'a>>,
}

/// The kind of a document and its schema, from its `schema` field.
pub(super) fn kind_of(v: &Value, name: &str) -> Result<(Kind, String)> {
    let schema = v.get("schema").and_then(Value::as_str).ok_or_else(|| {
        Error::Input(format!(
            "{name} has no \"schema\" field: it is not an explain attribution file or report"
        ))
    })?;
    let kind = match schema {
        attributions::SCHEMA => Kind::Attributions,
        report::SCHEMA => Kind::Report,
        other => {
            return Err(Error::Input(format!(
                "{name} has schema \"{other}\": explain diff compares {} or {} documents",
                attributions::SCHEMA,
                report::SCHEMA
            )));
        }
    };
    Ok((kind, schema.to_string()))
}

impl Document {
    /// Reads `v` (of `kind`) into its type; `name` (`OLD …`, `NEW …`) is for messages.
    pub(super) fn read(v: &Value, kind: Kind, name: &str) -> Result<Document> {
        Ok(match kind {
            Kind::Attributions => Document::Attributions(Box::new(typed(v, name)?)),
            Kind::Report => Document::Report(Box::new(typed(v, name)?)),
        })
    }

    /// The model's SHA-256 as recorded.
    pub(super) fn model_sha256(&self) -> &str {
        match self {
            Document::Attributions(a) => &a.model.sha256,
            Document::Report(r) => &r.identification.model.sha256,
        }
    }

    /// The report, for the report-only comparisons.
    pub(super) fn report(&self) -> Option<&Report> {
        match self {
            Document::Attributions(_) => None,
            Document::Report(r) => Some(r),
        }
    }

    /// The items and parameters of every method.
    pub(super) fn side(&self) -> Side<'_> {
        let item = |method: &str, input: &str, target: usize| ItemKey {
            method: method.to_string(),
            input: input.to_string(),
            target: target as u64,
        };
        match self {
            Document::Attributions(a) => {
                let method = a.method.name();
                Side {
                    params: vec![(method, scalars(&a.params))],
                    items: a
                        .explanations
                        .iter()
                        .map(|e| Item {
                            key: item(method, &e.input, e.target),
                            values: &e.values,
                            std_errors: &e.std_errors,
                            feature_names: Some(e.feature_names.as_slice()),
                        })
                        .collect(),
                }
            }
            Document::Report(r) => Side {
                params: r
                    .explanations
                    .methods
                    .iter()
                    .map(|m| (m.method.as_str(), scalars(&m.params)))
                    .collect(),
                items: r
                    .explanations
                    .methods
                    .iter()
                    .flat_map(|m| {
                        m.items.iter().map(|e| Item {
                            key: item(&m.method, &e.input, e.target),
                            values: &e.values,
                            std_errors: &e.std_errors,
                            feature_names: None,
                        })
                    })
                    .collect(),
            },
        }
    }
}

/// The scalar parameters, as the document writes them (JSON text), by name.
fn scalars(params: &impl serde::Serialize) -> BTreeMap<String, String> {
    match serde_json::to_value(params) {
        Ok(Value::Object(o)) => o
            .into_iter()
            .filter(|(_, x)| !x.is_object() && !x.is_array())
            .map(|(k, x)| (k, x.to_string()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// `v` read into `T`. A field that does not read is named with its path, as
/// `NEW: explanations[3].values is missing or not a list of numbers`.
fn typed<T: DeserializeOwned>(v: &Value, name: &str) -> Result<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let mut path: Vec<String> = Vec::new();
        let mut last_index = false;
        for segment in e.path().iter() {
            use serde_path_to_error::Segment;
            last_index = false;
            match segment {
                Segment::Seq { index } => {
                    last_index = true;
                    match path.last_mut() {
                        Some(p) => p.push_str(&format!("[{index}]")),
                        None => path.push(format!("[{index}]")),
                    }
                }
                Segment::Map { key } => path.push(key.clone()),
                Segment::Enum { variant } => path.push(variant.clone()),
                Segment::Unknown => path.push("?".into()),
            }
        }
        Error::Input(field_message(
            name,
            path,
            last_index,
            &e.inner().to_string(),
        ))
    })
}

/// `NAME: PATH is missing or not WHAT` for serde's `message` about the field at `path`
/// (`last_index`: the path ends in a list element), or serde's own words when they say more.
fn field_message(name: &str, mut path: Vec<String>, last_index: bool, message: &str) -> String {
    let at = |path: &[String]| path.join(".");
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        path.push(field.to_string());
        return format!("{name}: {} is missing or not set", at(&path));
    }
    if message.starts_with("invalid type: null") {
        return format!("{name}: {} is missing or not set", at(&path));
    }
    let expected = message.rsplit_once(", expected ").map(|(_, e)| e);
    let what = match expected {
        Some("f64") if last_index => {
            // An element of a list of numbers: the list is what is wrong.
            if let Some(p) = path.last_mut()
                && let Some(i) = p.rfind('[')
            {
                p.truncate(i);
            }
            "a list of numbers"
        }
        Some("f64") => "a number",
        Some("usize" | "u64") if path.last().is_some_and(|p| p == "target") => "a class index",
        Some("usize" | "u64") => "a whole number",
        // A name from a vocabulary (a method, a verdict) given as something else.
        Some("a string" | "string or map") => "a string",
        Some("a sequence") => "a list",
        Some("a map") => "an object",
        Some("a boolean") => "true or false",
        _ => return format!("{name}: {}: {message}", at(&path)),
    };
    format!("{name}: {} is missing or not {what}", at(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_that_do_not_read_are_named_as_before() {
        let message = |v: Value| typed::<Attributions>(&v, "NEW").unwrap_err().to_string();
        assert_eq!(
            message(serde_json::json!({"schema": attributions::SCHEMA})),
            "NEW: tool is missing or not set"
        );
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            field_message(
                "OLD",
                path(&["method"]),
                false,
                "invalid type: integer `42`, expected string or map"
            ),
            "OLD: method is missing or not a string"
        );
        assert_eq!(
            field_message(
                "OLD",
                path(&["explanations[0]", "values[2]"]),
                true,
                "invalid type: string \"x\", expected f64"
            ),
            "OLD: explanations[0].values is missing or not a list of numbers"
        );
        assert_eq!(
            field_message(
                "OLD",
                path(&["method"]),
                false,
                "unknown variant `shapley`, expected one of `exact`"
            ),
            "OLD: method: unknown variant `shapley`, expected one of `exact`"
        );
    }
}
