//! What one manifest holds: counts and shares of every attribute's values, and its languages
//! with their locales; and which column holds the locale or the language.
//!
//! # Missing values
//!
//! A cell is missing when it is empty or reads `NA`, `n/a` or `null` (any case). Missing cells
//! are counted per attribute and are in no value's count. Shares are of all the manifest's
//! items, so the value shares and the missing share of an attribute add up to 1.

use super::locale::{language_of, normalize_locale};
use crate::artifact::inventory::{
    AttributeCounts, LanguageCount, LanguageCoverage, LocaleCount, Truncated, ValueCount,
};
use crate::validation::manifest::{Manifest, is_missing};
use std::collections::BTreeMap;

/// Columns tried, in order, for the locale when none is named.
pub const LOCALE_COLUMNS: [&str; 2] = ["locale", "lang_locale"];
/// Columns tried, in order, for the language when none is named.
pub const LANGUAGE_COLUMNS: [&str; 3] = ["language", "lang", "locale"];
/// An attribute with more distinct values than this is summarised.
pub const MAX_LISTED_VALUES: usize = 50;
/// How many values a summarised attribute lists (the most frequent).
pub const SUMMARY_TOP: usize = 20;

/// `count` as a share of `total` (0 when there are none).
fn share(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64
    }
}

/// Sorted most frequent first, then by key.
pub(super) fn by_count<K: Ord + Clone>(counts: &BTreeMap<K, usize>) -> Vec<(K, usize)> {
    let mut v: Vec<(K, usize)> = counts.iter().map(|(k, c)| (k.clone(), *c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// The counts of column `col`'s values, most frequent first; an attribute with more than
/// [`MAX_LISTED_VALUES`] values lists the [`SUMMARY_TOP`] most frequent.
pub(super) fn attribute_counts(m: &Manifest, col: usize) -> AttributeCounts {
    let items = m.len();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut missing = 0;
    for row in &m.rows {
        let cell = row[col].as_str();
        if is_missing(cell) {
            missing += 1;
        } else {
            *counts.entry(cell).or_default() += 1;
        }
    }
    let sorted = by_count(&counts);
    let distinct = sorted.len();
    let (listed, truncated) = if distinct > MAX_LISTED_VALUES {
        let other_items: usize = sorted[SUMMARY_TOP..].iter().map(|(_, c)| c).sum();
        (
            &sorted[..SUMMARY_TOP],
            Some(Truncated {
                listed: SUMMARY_TOP,
                other_values: distinct - SUMMARY_TOP,
                other_items,
                other_share: share(other_items, items),
                note: format!(
                    "{distinct} distinct values (more than {MAX_LISTED_VALUES}): only the {SUMMARY_TOP} most frequent are listed"
                ),
            }),
        )
    } else {
        (&sorted[..], None)
    };
    AttributeCounts {
        name: m.columns[col].clone(),
        distinct,
        missing,
        missing_share: share(missing, items),
        values: listed
            .iter()
            .map(|(v, c)| ValueCount {
                value: v.to_string(),
                count: *c,
                share: share(*c, items),
            })
            .collect(),
        truncated,
    }
}

/// The column to use in `m`: the requested one if `m` has it, else (only when none was
/// requested) the first default present.
pub(super) fn pick_column<'a>(
    m: &'a Manifest,
    requested: Option<&str>,
    defaults: &[&str],
) -> Option<&'a str> {
    let name = match requested {
        Some(r) => m.columns.iter().find(|c| *c == r)?,
        None => defaults
            .iter()
            .find_map(|d| m.columns.iter().find(|c| c == d))?,
    };
    Some(name.as_str())
}

/// The languages of `m` (the primary subtags of `language_col`), each with the regional
/// locales its items carry (from `locale_col`, or the language column itself).
pub(super) fn language_coverage(
    m: &Manifest,
    language_col: &str,
    locale_col: Option<&str>,
) -> LanguageCoverage {
    let li = m
        .column(language_col)
        .expect("picked from the manifest's columns");
    let loc_i = locale_col.and_then(|c| m.column(c));
    let mut langs: BTreeMap<String, (usize, BTreeMap<String, usize>)> = BTreeMap::new();
    let mut missing = 0;
    for row in &m.rows {
        let cell = &row[li];
        if is_missing(cell) {
            missing += 1;
            continue;
        }
        let entry = langs.entry(language_of(cell)).or_default();
        entry.0 += 1;
        let locale_cell = match loc_i {
            Some(i) => &row[i],
            None => cell,
        };
        if !is_missing(locale_cell) {
            let loc = normalize_locale(locale_cell);
            if loc.contains('-') {
                *entry.1.entry(loc).or_default() += 1;
            }
        }
    }
    let counts: BTreeMap<String, usize> = langs.iter().map(|(k, v)| (k.clone(), v.0)).collect();
    let languages = by_count(&counts)
        .into_iter()
        .map(|(language, count)| LanguageCount {
            share: share(count, m.len()),
            locales: by_count(&langs[&language].1)
                .into_iter()
                .map(|(locale, count)| LocaleCount { locale, count })
                .collect(),
            language,
            count,
        })
        .collect();
    LanguageCoverage {
        column: language_col.to_string(),
        locale_column: loc_i.map(|i| m.columns[i].clone()),
        missing,
        languages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_markers() {
        for m in ["", " ", "NA", "na", "N/A", "n/a", "NULL", "Null"] {
            assert!(is_missing(m), "{m:?}");
        }
        for v in ["none", "0", "nan", "n.a."] {
            assert!(!is_missing(v), "{v:?}");
        }
    }
}
