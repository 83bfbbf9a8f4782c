//! Attribute requirements of target markets: the values of a manifest column (lighting,
//! skin-tone group, factory site, …) that a product sold in a market must be validated on,
//! how many validation items each value has, and whether the requirement is met.
//!
//! A requirement comes from a datasheet's `[requirements.MARKET]` table (`lighting = ["dim",
//! "normal", "bright"]`; see [`super::datasheet`]). Its attribute is a column name, matched
//! exactly. Values are compared trimmed and without case (`" Dim"` counts for `dim`); missing
//! cells (see [`super::counts`]) count for no value. Only validation manifests that have the
//! column are counted; when none has it, the requirement is **not assessable**, with the
//! reason, and never counted as met.

use super::counts::by_count;
use crate::artifact::inventory::{
    AttributeCoverage, AttributeTally, ObservedValue, ValueCoverage, plural,
};
use crate::validation::manifest::{Manifest, is_missing};
use std::collections::BTreeMap;

/// How many present values a "missing" note lists before "… and N more".
const LISTED_PRESENT: usize = 20;

/// One attribute a market requires values of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The manifest column.
    pub attribute: String,
    /// The required values, trimmed, in datasheet order, none twice (without case).
    pub values: Vec<String>,
}

/// How a value is compared: trimmed, lower case.
pub(super) fn value_key(value: &str) -> String {
    value.trim().to_lowercase()
}

/// The values of `attribute` in the `validation` manifests that have its column; notes on
/// validation manifests without the column (when some have it) and on missing values go to
/// `notes`.
pub(super) fn tally(
    attribute: &str,
    validation: &[&Manifest],
    notes: &mut Vec<String>,
) -> AttributeTally {
    // Keyed by the compared form; the first spelling seen (file order) is the one shown.
    let mut counts: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut manifests = Vec::new();
    let (mut items, mut missing) = (0, 0);
    for m in validation {
        let Some(ci) = m.column(attribute) else {
            continue;
        };
        manifests.push(m.path.display().to_string());
        items += m.len();
        for row in &m.rows {
            let cell = row[ci].as_str();
            if is_missing(cell) {
                missing += 1;
            } else {
                counts
                    .entry(value_key(cell))
                    .or_insert_with(|| (cell.trim().to_string(), 0))
                    .1 += 1;
            }
        }
    }
    if manifests.is_empty() {
        return AttributeTally {
            attribute: attribute.to_string(),
            assessable: false,
            reason: Some(if validation.is_empty() {
                "no validation manifest was given".to_string()
            } else {
                format!(
                    "no validation manifest has a `{attribute}` column (looked in {})",
                    validation
                        .iter()
                        .map(|m| m.path.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
            manifests,
            items: 0,
            missing: 0,
            values: Vec::new(),
        };
    }
    for m in validation {
        if m.column(attribute).is_none() {
            notes.push(format!(
                "validation manifest {} has no `{attribute}` column; its {} are not counted for the `{attribute}` requirements",
                m.path.display(),
                plural(m.len(), "item", "items")
            ));
        }
    }
    if missing > 0 {
        notes.push(format!(
            "{missing} of {items} validation items have no `{attribute}` value and count for no `{attribute}` requirement"
        ));
    }
    let by_key: BTreeMap<String, usize> =
        counts.iter().map(|(k, (_, n))| (k.clone(), *n)).collect();
    let values = by_count(&by_key)
        .into_iter()
        .map(|(k, count)| ObservedValue {
            value: counts[&k].0.clone(),
            count,
        })
        .collect();
    AttributeTally {
        attribute: attribute.to_string(),
        assessable: true,
        reason: None,
        manifests,
        items,
        missing,
        values,
    }
}

/// The present values of a tally, for a "missing" note: `dim, normal, bright`, capped.
fn present_values(t: &AttributeTally) -> String {
    let mut shown: Vec<String> = t
        .values
        .iter()
        .take(LISTED_PRESENT)
        .map(|v| v.value.clone())
        .collect();
    if t.values.len() > LISTED_PRESENT {
        shown.push(format!("… and {} more", t.values.len() - LISTED_PRESENT));
    }
    shown.join(", ")
}

/// How one required value is covered by the tally of its attribute.
fn value_coverage(attribute: &str, value: &str, t: &AttributeTally, min_n: usize) -> ValueCoverage {
    let key = value_key(value);
    let n: usize = t
        .values
        .iter()
        .filter(|v| value_key(&v.value) == key)
        .map(|v| v.count)
        .sum();
    let note = if n == 0 {
        if t.values.is_empty() {
            format!("{attribute}={value} missing; no {attribute} values present")
        } else {
            format!(
                "{attribute}={value} missing; present values: {}",
                present_values(t)
            )
        }
    } else if n < min_n {
        format!("{attribute}={value}: only {n} (need {min_n})")
    } else {
        format!("{attribute}={value}: {n}")
    };
    ValueCoverage {
        value: value.to_string(),
        n,
        sufficient: n >= min_n,
        note,
    }
}

/// How a market's requirement is covered, given the tally of its attribute.
pub(super) fn requirement_coverage(
    r: &Requirement,
    t: &AttributeTally,
    min_n: usize,
) -> AttributeCoverage {
    if !t.assessable {
        return AttributeCoverage {
            attribute: r.attribute.clone(),
            required: r.values.clone(),
            covered: None,
            values: Vec::new(),
            reason: t.reason.clone(),
        };
    }
    let values: Vec<ValueCoverage> = r
        .values
        .iter()
        .map(|v| value_coverage(&r.attribute, v, t, min_n))
        .collect();
    AttributeCoverage {
        attribute: r.attribute.clone(),
        required: r.values.clone(),
        covered: Some(values.iter().all(|v| v.sufficient)),
        values,
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(dir: &std::path::Path, name: &str, header: &str, rows: &[&str]) -> Manifest {
        let mut csv = format!("{header}\n");
        for (i, r) in rows.iter().enumerate() {
            let item = format!("{name}-{i}.png");
            csv += &format!("{item},{r}\n");
        }
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, csv).unwrap();
        Manifest::read(&path).unwrap()
    }

    #[test]
    fn values_count_trimmed_without_case_and_notes_name_what_is_short() {
        let dir = tempfile::tempdir().unwrap();
        let mut rows = vec!["0,dim"; 31];
        rows.extend(vec!["0, Normal "; 12]);
        rows.extend(vec!["0,NA"; 2]);
        let m = manifest(dir.path(), "v", "input,label,lighting", &rows);
        let mut notes = Vec::new();
        let t = tally("lighting", &[&m], &mut notes);
        assert!(t.assessable && t.reason.is_none());
        assert_eq!((t.items, t.missing), (45, 2));
        assert_eq!(
            t.values,
            [
                ObservedValue {
                    value: "dim".into(),
                    count: 31
                },
                ObservedValue {
                    value: "Normal".into(),
                    count: 12
                },
            ]
        );
        assert_eq!(
            notes,
            [
                "2 of 45 validation items have no `lighting` value and count for no `lighting` requirement"
            ]
        );
        let r = Requirement {
            attribute: "lighting".into(),
            values: vec!["Dim".into(), "normal".into(), "dusk".into()],
        };
        let c = requirement_coverage(&r, &t, 30);
        assert_eq!(c.covered, Some(false));
        let notes: Vec<&str> = c.values.iter().map(|v| v.note.as_str()).collect();
        assert_eq!(
            notes,
            [
                "lighting=Dim: 31",
                "lighting=normal: only 12 (need 30)",
                "lighting=dusk missing; present values: dim, Normal",
            ]
        );
        assert_eq!(
            c.values
                .iter()
                .map(|v| (v.n, v.sufficient))
                .collect::<Vec<_>>(),
            [(31, true), (12, false), (0, false)]
        );
        let ok = Requirement {
            attribute: "lighting".into(),
            values: vec!["dim".into()],
        };
        assert_eq!(requirement_coverage(&ok, &t, 30).covered, Some(true));
    }

    #[test]
    fn an_absent_column_is_not_assessable_and_a_partial_one_is_noted() {
        let dir = tempfile::tempdir().unwrap();
        let a = manifest(dir.path(), "a", "input,label,site", &["0,plant-A"; 3]);
        let b = manifest(dir.path(), "b", "input,label,lighting", &["0,dim"; 2]);
        let mut notes = Vec::new();
        let t = tally("skin_tone", &[&a, &b], &mut notes);
        assert!(!t.assessable && notes.is_empty());
        let reason = t.reason.clone().unwrap();
        assert!(
            reason.starts_with("no validation manifest has a `skin_tone` column (looked in ")
                && reason.contains("a.csv")
                && reason.contains("b.csv"),
            "{reason}"
        );
        let r = Requirement {
            attribute: "skin_tone".into(),
            values: vec!["I-II".into()],
        };
        let c = requirement_coverage(&r, &t, 30);
        assert_eq!(c.covered, None);
        assert!(c.values.is_empty() && c.reason == t.reason);

        let t = tally("site", &[&a, &b], &mut notes);
        assert_eq!((t.items, t.manifests.len()), (3, 1));
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("b.csv has no `site` column; its 2 items are not counted"),
            "{}",
            notes[0]
        );
    }
}
