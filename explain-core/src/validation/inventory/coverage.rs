//! Target-market coverage: for each market, the locales it requires, how many validation
//! items each has, and whether the market is covered; when no validation manifest has a
//! locale column, coverage is not assessable, with the reason.
//!
//! A market lists the locales a product sold there must be validated in. The defaults are a
//! screen, not a legal statement: the largest official or national languages of each market,
//! in the regional variant spoken there.
//!
//! | market | required locales | why |
//! |---|---|---|
//! | EU | de-DE, fr-FR, es-ES, it-IT, nl-NL, pl-PL | the six EU languages with the most native speakers |
//! | US | en-US, es-US | English, and Spanish, the largest other language at home |
//! | CA | en-CA, fr-CA | the two official languages |
//! | JP | ja-JP | the national language |
//! | KR | ko-KR | the national language |
//!
//! A datasheet's `[markets]` table replaces these entirely. A market is **covered** when every
//! required locale has at least `min_n` validation items (default 30). Only manifests with the
//! role `validation` count. When a required locale has no items, the report says whether its
//! language is present under another locale ("fr-FR missing; fr present as fr-CA (80)"). When no
//! validation manifest has a locale column, coverage is reported as not assessable, with the
//! reason; that is not an error.

use super::counts::{LOCALE_COLUMNS, by_count, pick_column};
use super::locale::{language_of, locale_matches, normalize_locale};
use crate::artifact::inventory::{
    Coverage, LocaleCount, LocaleCoverage, MarketCoverage, Role, list_locales, plural,
};
use crate::validation::manifest::{Manifest, is_missing};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The default target markets and their required locales; see the module documentation for
/// why these.
pub const DEFAULT_MARKETS: [(&str, &[&str]); 5] = [
    (
        "EU",
        &["de-DE", "fr-FR", "es-ES", "it-IT", "nl-NL", "pl-PL"],
    ),
    ("US", &["en-US", "es-US"]),
    ("CA", &["en-CA", "fr-CA"]),
    ("JP", &["ja-JP"]),
    ("KR", &["ko-KR"]),
];

/// A target market and the locales (normalised) a product sold there must be validated in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    pub name: String,
    pub locales: Vec<String>,
}

impl Market {
    /// [`DEFAULT_MARKETS`] as markets.
    pub fn defaults() -> Vec<Market> {
        DEFAULT_MARKETS
            .iter()
            .map(|(name, locales)| Market {
                name: name.to_string(),
                locales: locales.iter().map(|l| normalize_locale(l)).collect(),
            })
            .collect()
    }
}

/// How many observed items count for one required locale, and its note.
fn locale_coverage(required: &str, observed: &[LocaleCount], min_n: usize) -> LocaleCoverage {
    let n: usize = observed
        .iter()
        .filter(|o| locale_matches(required, &o.locale))
        .map(|o| o.count)
        .sum();
    let lang = language_of(required);
    let same_language: Vec<LocaleCount> = observed
        .iter()
        .filter(|o| language_of(&o.locale) == lang && !locale_matches(required, &o.locale))
        .cloned()
        .collect();
    let elsewhere = list_locales(&same_language);
    let note = if n == 0 {
        if same_language.is_empty() {
            format!("{required} missing; no {lang} items")
        } else {
            format!("{required} missing; {lang} present as {elsewhere}")
        }
    } else if n < min_n {
        let mut s = format!("{required}: only {n} (need {min_n})");
        if !same_language.is_empty() {
            let _ = write!(s, "; {lang} also present as {elsewhere}");
        }
        s
    } else {
        format!("{required}: {n}")
    };
    LocaleCoverage {
        locale: required.to_string(),
        n,
        sufficient: n >= min_n,
        same_language,
        note,
    }
}

/// Whether every locale a market requires has `min_n` items, and the verdict line.
fn market_coverage(market: &Market, observed: &[LocaleCount], min_n: usize) -> MarketCoverage {
    let locales: Vec<LocaleCoverage> = market
        .locales
        .iter()
        .map(|l| locale_coverage(l, observed, min_n))
        .collect();
    let covered = locales.iter().all(|l| l.sufficient);
    let verdict = if covered {
        format!(
            "covered — {} (need {min_n} each)",
            locales
                .iter()
                .map(|l| format!("{} {}", l.locale, l.n))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        let short: Vec<String> = locales
            .iter()
            .filter(|l| !l.sufficient)
            .map(|l| {
                let mut s = format!(
                    "{} for {} (need {min_n}",
                    plural(l.n, "validation item", "validation items"),
                    l.locale
                );
                if !l.same_language.is_empty() {
                    let _ = write!(
                        s,
                        "; {} {}present as {}",
                        language_of(&l.locale),
                        if l.n == 0 { "" } else { "also " },
                        list_locales(&l.same_language)
                    );
                }
                s.push(')');
                s
            })
            .collect();
        format!("NOT COVERED — {}", short.join("; "))
    };
    MarketCoverage {
        market: market.name.clone(),
        required: market.locales.clone(),
        covered: Some(covered),
        locales,
        verdict,
    }
}

/// Coverage that cannot be judged, for `reason`: every market is "not assessable".
fn not_assessable(
    markets: &[Market],
    reason: String,
    min_n: usize,
    markets_from: String,
    manifests: Vec<String>,
) -> Coverage {
    Coverage {
        assessable: false,
        markets: markets
            .iter()
            .map(|m| MarketCoverage {
                market: m.name.clone(),
                required: m.locales.clone(),
                covered: None,
                locales: Vec::new(),
                verdict: "not assessable".into(),
            })
            .collect(),
        reason: Some(reason),
        columns: Vec::new(),
        min_n,
        markets_from,
        manifests,
        items: 0,
        missing: 0,
        locales: Vec::new(),
        not_covered: Vec::new(),
    }
}

/// The coverage of `markets` by the validation manifests among `sources` (their locale
/// column: `locale_request`, else the first of [`LOCALE_COLUMNS`]); notes on validation
/// manifests that are not counted, and on items without a locale, go to `notes`.
pub(super) fn assess(
    sources: &[(Role, Manifest)],
    locale_request: Option<&str>,
    markets: &[Market],
    min_n: usize,
    markets_from: String,
    notes: &mut Vec<String>,
) -> Coverage {
    let validation: Vec<&Manifest> = sources
        .iter()
        .filter(|(r, _)| *r == Role::Validation)
        .map(|(_, m)| m)
        .collect();
    if validation.is_empty() {
        return not_assessable(
            markets,
            "no validation manifest was given".into(),
            min_n,
            markets_from,
            Vec::new(),
        );
    }
    let mut columns: Vec<String> = Vec::new();
    let mut counted: Vec<String> = Vec::new();
    let mut locale_counts: BTreeMap<String, usize> = BTreeMap::new();
    let (mut items, mut missing) = (0, 0);
    for m in &validation {
        let Some(col) = pick_column(m, locale_request, &LOCALE_COLUMNS) else {
            continue;
        };
        let ci = m.column(col).expect("picked from the manifest's columns");
        if !columns.iter().any(|c| c == col) {
            columns.push(col.to_string());
        }
        counted.push(m.path.display().to_string());
        items += m.len();
        for row in &m.rows {
            if is_missing(&row[ci]) {
                missing += 1;
            } else {
                *locale_counts.entry(normalize_locale(&row[ci])).or_default() += 1;
            }
        }
    }
    let looked_for = match locale_request {
        Some(c) => format!("'{c}'"),
        None => LOCALE_COLUMNS.map(|c| format!("'{c}'")).join(" or "),
    };
    if counted.is_empty() {
        return not_assessable(
            markets,
            format!(
                "no validation manifest has a locale column (looked for {looked_for} in {})",
                validation
                    .iter()
                    .map(|m| m.path.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            min_n,
            markets_from,
            Vec::new(),
        );
    }
    for m in &validation {
        if pick_column(m, locale_request, &LOCALE_COLUMNS).is_none() {
            notes.push(format!(
                "validation manifest {} has no locale column ({looked_for}); its {} are not counted for target-market coverage",
                m.path.display(),
                plural(m.len(), "item", "items")
            ));
        }
    }
    if missing > 0 {
        notes.push(format!(
            "{} of {items} validation items have no locale value and count for no market",
            missing
        ));
    }
    let locales: Vec<LocaleCount> = by_count(&locale_counts)
        .into_iter()
        .map(|(locale, count)| LocaleCount { locale, count })
        .collect();
    let markets: Vec<MarketCoverage> = markets
        .iter()
        .map(|m| market_coverage(m, &locales, min_n))
        .collect();
    Coverage {
        assessable: true,
        reason: None,
        columns,
        min_n,
        markets_from,
        manifests: counted,
        items,
        missing,
        locales,
        not_covered: markets
            .iter()
            .filter(|m| m.covered == Some(false))
            .map(|m| m.market.clone())
            .collect(),
        markets,
    }
}
