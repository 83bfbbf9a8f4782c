//! Target-market coverage: for each market, the locales and the attribute values it requires,
//! how many validation items each has, and whether the market is covered; what cannot be
//! judged (no locale column, no column for a required attribute) is not assessable, with the
//! reason.
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
//! A datasheet's `[markets]` table replaces these entirely; a market listed with no locales
//! (`JP = []`) has no language requirement. Its `[requirements]` table adds attribute
//! requirements ([`super::requirements`]): `[requirements.EU] lighting = ["dim", "bright"]`
//! asks for `min_n` validation items with each of those values of the `lighting` column
//! (values compared trimmed and without case).
//!
//! Every required locale and every required value needs at least `min_n` validation items
//! (default 30). Only manifests with the role `validation` count. A market is
//!
//! - **covered** when every requirement is assessed and met;
//! - **not covered** when any assessed requirement is short (even if another is not
//!   assessable);
//! - **not assessable** otherwise: nothing could be assessed, or what was assessed is met
//!   while some requirement is not assessable (so never covered by default), or the market
//!   requires nothing.
//!
//! When a required locale has no items, the report says whether its language is present under
//! another locale ("fr-FR missing; fr present as fr-CA (80)"); when a required value has
//! none, it lists the values present ("lighting=dusk missing; present values: dim, normal").
//! When no validation manifest has a locale column (and a market requires locales), the
//! locale requirements are not assessable, with the reason in [`Coverage::reason`]; a
//! required attribute whose column no validation manifest has is not assessable with its own
//! reason. Neither is an error. Coverage as a whole is assessable when any requirement is.

use super::counts::{LOCALE_COLUMNS, by_count, pick_column};
use super::locale::{language_of, locale_matches, normalize_locale};
use super::requirements::{self, Requirement, requirement_coverage};
use crate::artifact::inventory::{
    AttributeCoverage, AttributeTally, Coverage, LocaleCount, LocaleCoverage, MarketCoverage, Role,
    list_locales, plural,
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

/// A target market: the locales (normalised) a product sold there must be validated in
/// (none: no language requirement), and the attribute values it requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    pub name: String,
    pub locales: Vec<String>,
    /// From the datasheet's `[requirements]`, in file order.
    pub requirements: Vec<Requirement>,
}

impl Market {
    /// [`DEFAULT_MARKETS`] as markets.
    pub fn defaults() -> Vec<Market> {
        DEFAULT_MARKETS
            .iter()
            .map(|(name, locales)| Market {
                name: name.to_string(),
                locales: locales.iter().map(|l| normalize_locale(l)).collect(),
                requirements: Vec::new(),
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

/// The locale tally of the validation data: the locale columns read, the manifests counted,
/// items and items without a locale, and every locale by count.
struct LocaleTally {
    columns: Vec<String>,
    counted: Vec<String>,
    items: usize,
    missing: usize,
    locales: Vec<LocaleCount>,
}

/// Counts the locales of the `validation` manifests that have a locale column; `None` when
/// none has one.
fn locale_tally(validation: &[&Manifest], locale_request: Option<&str>) -> Option<LocaleTally> {
    let mut columns: Vec<String> = Vec::new();
    let mut counted: Vec<String> = Vec::new();
    let mut locale_counts: BTreeMap<String, usize> = BTreeMap::new();
    let (mut items, mut missing) = (0, 0);
    for m in validation {
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
    if counted.is_empty() {
        return None;
    }
    let locales = by_count(&locale_counts)
        .into_iter()
        .map(|(locale, count)| LocaleCount { locale, count })
        .collect();
    Some(LocaleTally {
        columns,
        counted,
        items,
        missing,
        locales,
    })
}

/// The part of a "NOT COVERED" verdict for a locale that is short.
fn short_locale(l: &LocaleCoverage, min_n: usize) -> String {
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
}

/// Whether a market's requirements are met, and the verdict line. `observed` is `None` when
/// the locales cannot be assessed (no locale column); `tallies` hold every attribute the
/// market requires.
fn market_coverage(
    market: &Market,
    observed: Option<&[LocaleCount]>,
    tallies: &[AttributeTally],
    min_n: usize,
) -> MarketCoverage {
    let locales: Vec<LocaleCoverage> = match observed {
        Some(o) => market
            .locales
            .iter()
            .map(|l| locale_coverage(l, o, min_n))
            .collect(),
        None => Vec::new(),
    };
    let attributes: Vec<AttributeCoverage> = market
        .requirements
        .iter()
        .map(|r| {
            let t = tallies
                .iter()
                .find(|t| t.attribute == r.attribute)
                .expect("every required attribute is tallied");
            requirement_coverage(r, t, min_n)
        })
        .collect();
    let locales_assessed = observed.is_some() || market.locales.is_empty();
    let locales_ok = locales.iter().all(|l| l.sufficient);
    let attributes_short = attributes.iter().any(|a| a.covered == Some(false));
    let all_assessed = locales_assessed && attributes.iter().all(|a| a.covered.is_some());
    let something_required = !market.locales.is_empty() || !attributes.is_empty();

    // What was assessed and met, "de-DE 40, fr-FR 35; lighting dim 40, normal 35".
    let met = || {
        let mut parts = Vec::new();
        if !locales.is_empty() {
            parts.push(
                locales
                    .iter()
                    .map(|l| format!("{} {}", l.locale, l.n))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        for a in attributes.iter().filter(|a| a.covered.is_some()) {
            parts.push(format!(
                "{} {}",
                a.attribute,
                a.values
                    .iter()
                    .map(|v| format!("{} {}", v.value, v.n))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        parts.join("; ")
    };
    // What could not be assessed, "locales: no validation manifest has a locale column;
    // skin_tone: no validation manifest has a `skin_tone` column (looked in …)".
    let unassessed = || {
        let mut parts = Vec::new();
        if !locales_assessed {
            parts.push("locales: no validation manifest has a locale column".to_string());
        }
        for a in attributes.iter().filter(|a| a.covered.is_none()) {
            parts.push(format!(
                "{}: {}",
                a.attribute,
                a.reason.as_deref().unwrap_or("not assessable")
            ));
        }
        parts.join("; ")
    };

    let (covered, verdict) = if !locales_ok || attributes_short {
        let mut short: Vec<String> = locales
            .iter()
            .filter(|l| !l.sufficient)
            .map(|l| short_locale(l, min_n))
            .collect();
        for a in &attributes {
            short.extend(
                a.values
                    .iter()
                    .filter(|v| !v.sufficient)
                    .map(|v| v.note.clone()),
            );
        }
        let mut v = format!("NOT COVERED — {}", short.join("; "));
        if !all_assessed {
            let _ = write!(v, "; not assessable — {}", unassessed());
        }
        (Some(false), v)
    } else if !something_required {
        (
            None,
            "not assessable — nothing required (no locales, no attribute requirements)".to_string(),
        )
    } else if all_assessed {
        (
            Some(true),
            format!("covered — {} (need {min_n} each)", met()),
        )
    } else if attributes.is_empty() {
        // Locales only, and no locale column: as before attribute requirements existed.
        (None, "not assessable".to_string())
    } else {
        let mut v = format!("not assessable — {}", unassessed());
        let m = met();
        if !m.is_empty() {
            let _ = write!(v, "; met: {m} (need {min_n} each)");
        }
        (None, v)
    };
    MarketCoverage {
        market: market.name.clone(),
        required: market.locales.clone(),
        covered,
        locales,
        attributes,
        verdict,
    }
}

/// The attributes that the markets require, in first-named order.
fn required_attributes(markets: &[Market]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in markets.iter().flat_map(|m| &m.requirements) {
        if !out.contains(&r.attribute) {
            out.push(r.attribute.clone());
        }
    }
    out
}

/// The coverage of `markets` by the validation manifests among `sources` (their locale
/// column: `locale_request`, else the first of [`LOCALE_COLUMNS`]; their attribute columns by
/// name); notes on validation manifests that are not counted, and on items without a value,
/// go to `notes`.
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
    let needs_locales = markets.iter().any(|m| !m.locales.is_empty());
    let mut reason = None;
    let mut tally = None;
    if validation.is_empty() {
        reason = Some("no validation manifest was given".to_string());
    } else {
        tally = locale_tally(&validation, locale_request);
        let looked_for = match locale_request {
            Some(c) => format!("'{c}'"),
            None => LOCALE_COLUMNS.map(|c| format!("'{c}'")).join(" or "),
        };
        match &tally {
            None if needs_locales => {
                reason = Some(format!(
                    "no validation manifest has a locale column (looked for {looked_for} in {})",
                    validation
                        .iter()
                        .map(|m| m.path.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Some(t) if needs_locales => {
                for m in &validation {
                    if pick_column(m, locale_request, &LOCALE_COLUMNS).is_none() {
                        notes.push(format!(
                            "validation manifest {} has no locale column ({looked_for}); its {} are not counted for target-market coverage",
                            m.path.display(),
                            plural(m.len(), "item", "items")
                        ));
                    }
                }
                if t.missing > 0 {
                    notes.push(format!(
                        "{} of {} validation items have no locale value and count for no market",
                        t.missing, t.items
                    ));
                }
            }
            _ => {}
        }
    }
    let tallies: Vec<AttributeTally> = required_attributes(markets)
        .iter()
        .map(|a| requirements::tally(a, &validation, notes))
        .collect();
    let observed = tally.as_ref().map(|t| t.locales.as_slice());
    let markets: Vec<MarketCoverage> = markets
        .iter()
        .map(|m| market_coverage(m, observed, &tallies, min_n))
        .collect();
    let assessable = (needs_locales && tally.is_some()) || tallies.iter().any(|t| t.assessable);
    if !assessable && reason.is_none() {
        let why: Vec<String> = tallies.iter().filter_map(|t| t.reason.clone()).collect();
        reason = Some(if why.is_empty() {
            "no market requires any locale or attribute value".to_string()
        } else {
            why.join("; ")
        });
    }
    let t = tally.unwrap_or(LocaleTally {
        columns: Vec::new(),
        counted: Vec::new(),
        items: 0,
        missing: 0,
        locales: Vec::new(),
    });
    Coverage {
        assessable,
        reason,
        columns: t.columns,
        min_n,
        markets_from,
        manifests: t.counted,
        items: t.items,
        missing: t.missing,
        locales: t.locales,
        not_covered: if assessable {
            markets
                .iter()
                .filter(|m| m.covered == Some(false))
                .map(|m| m.market.clone())
                .collect()
        } else {
            Vec::new()
        },
        markets,
        attributes: tallies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A validation manifest with one row per `(locale, lighting)` pair and count; `None`
    /// leaves the column out.
    fn manifest(
        dir: &std::path::Path,
        name: &str,
        rows: &[(&str, &str, usize)],
        locale: bool,
    ) -> Manifest {
        let mut csv = String::from(if locale {
            "input,label,locale,lighting\n"
        } else {
            "input,label,lighting\n"
        });
        let mut i = 0;
        for (loc, light, n) in rows {
            for _ in 0..*n {
                if locale {
                    csv += &format!("{name}{i}.png,1,{loc},{light}\n");
                } else {
                    csv += &format!("{name}{i}.png,1,{light}\n");
                }
                i += 1;
            }
        }
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, csv).unwrap();
        Manifest::read(&path).unwrap()
    }

    fn market(name: &str, locales: &[&str], reqs: &[(&str, &[&str])]) -> Market {
        Market {
            name: name.into(),
            locales: locales.iter().map(|l| l.to_string()).collect(),
            requirements: reqs
                .iter()
                .map(|(a, v)| Requirement {
                    attribute: a.to_string(),
                    values: v.iter().map(|v| v.to_string()).collect(),
                })
                .collect(),
        }
    }

    fn assess_one(m: Manifest, markets: &[Market]) -> (Coverage, Vec<String>) {
        let mut notes = Vec::new();
        let c = assess(
            &[(Role::Validation, m)],
            None,
            markets,
            30,
            "d.toml".into(),
            &mut notes,
        );
        (c, notes)
    }

    #[test]
    fn attribute_markets_are_covered_short_or_missing() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest(
            dir.path(),
            "v",
            &[("", "dim", 40), ("", "normal", 35), ("", "bright", 12)],
            false,
        );
        let markets = [
            market("JP", &[], &[("lighting", &["dim", "normal"])]),
            market("EU", &[], &[("lighting", &["dim", "normal", "bright"])]),
            market("US", &[], &[("lighting", &["dim", "dusk"])]),
        ];
        let (c, notes) = assess_one(m, &markets);
        assert!(
            c.assessable && c.reason.is_none() && notes.is_empty(),
            "{c:?} {notes:?}"
        );
        assert!(c.columns.is_empty() && c.locales.is_empty());
        assert_eq!(c.markets[0].covered, Some(true));
        assert_eq!(
            c.markets[0].verdict,
            "covered — lighting dim 40, normal 35 (need 30 each)"
        );
        assert_eq!(c.markets[1].covered, Some(false));
        assert_eq!(
            c.markets[1].verdict,
            "NOT COVERED — lighting=bright: only 12 (need 30)"
        );
        assert_eq!(c.markets[2].covered, Some(false));
        assert_eq!(
            c.markets[2].verdict,
            "NOT COVERED — lighting=dusk missing; present values: dim, normal, bright"
        );
        assert_eq!(c.not_covered, ["EU", "US"]);
        assert_eq!(c.attributes.len(), 1);
        assert_eq!(c.attributes[0].items, 87);
        assert_eq!(
            c.attributes[0]
                .values
                .iter()
                .map(|v| v.count)
                .collect::<Vec<_>>(),
            [40, 35, 12]
        );
    }

    #[test]
    fn an_absent_attribute_column_is_not_assessable_and_never_covered() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest(dir.path(), "v", &[("", "dim", 40)], false);
        // Only skin_tone: nothing assessable.
        let (c, _) = assess_one(
            m.clone(),
            &[market("EU", &[], &[("skin_tone", &["I-II", "V-VI"])])],
        );
        assert!(!c.assessable);
        let reason = c.reason.clone().unwrap();
        assert!(
            reason.starts_with("no validation manifest has a `skin_tone` column"),
            "{reason}"
        );
        assert_eq!(c.markets[0].covered, None);
        assert!(
            c.markets[0].verdict.starts_with(
                "not assessable — skin_tone: no validation manifest has a `skin_tone` column"
            ),
            "{}",
            c.markets[0].verdict
        );
        assert!(c.not_covered.is_empty());
        // lighting met, skin_tone not assessable: the market is not assessable, not covered.
        let (c, _) = assess_one(
            m.clone(),
            &[market(
                "EU",
                &[],
                &[("lighting", &["dim"]), ("skin_tone", &["I-II"])],
            )],
        );
        assert!(c.assessable && c.reason.is_none());
        assert_eq!(c.markets[0].covered, None);
        let v = &c.markets[0].verdict;
        assert!(
            v.starts_with("not assessable — skin_tone: no validation manifest has a `skin_tone` column (looked in ")
                && v.ends_with("v.csv); met: lighting dim 40 (need 30 each)"),
            "{v}"
        );
        assert!(!c.attributes[1].assessable);
        // lighting short, skin_tone not assessable: not covered, saying both.
        let (c, _) = assess_one(
            m,
            &[market(
                "EU",
                &[],
                &[("lighting", &["bright"]), ("skin_tone", &["I-II"])],
            )],
        );
        assert_eq!(c.markets[0].covered, Some(false));
        let v = &c.markets[0].verdict;
        assert!(
            v.starts_with("NOT COVERED — lighting=bright missing; present values: dim; not assessable — skin_tone: no validation manifest"),
            "{v}"
        );
    }

    #[test]
    fn locale_and_attribute_requirements_combine() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest(
            dir.path(),
            "v",
            &[
                ("ja-JP", "dim", 30),
                ("ja-JP", "bright", 30),
                ("ko-KR", "dim", 31),
                ("ko-KR", "bright", 5),
            ],
            true,
        );
        let markets = [
            market("JP", &["ja-JP"], &[("lighting", &["dim", "bright"])]),
            market("KR", &["ko-KR"], &[("lighting", &["dim"])]),
            market("EU", &["de-DE"], &[("lighting", &["dim"])]),
            market("CA", &[], &[]),
        ];
        let (c, _) = assess_one(m, &markets);
        assert!(c.assessable && c.reason.is_none());
        assert_eq!(c.markets[0].covered, Some(true));
        assert_eq!(
            c.markets[0].verdict,
            "covered — ja-JP 60; lighting dim 61, bright 35 (need 30 each)"
        );
        assert_eq!(c.markets[1].covered, Some(true));
        assert_eq!(c.markets[2].covered, Some(false));
        assert_eq!(
            c.markets[2].verdict,
            "NOT COVERED — 0 validation items for de-DE (need 30)"
        );
        assert_eq!(c.markets[3].covered, None);
        assert!(c.markets[3].verdict.contains("nothing required"));
        assert_eq!(c.not_covered, ["EU"]);
    }

    #[test]
    fn an_empty_locale_list_needs_no_locale_column() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest(dir.path(), "v", &[("", "dim", 30)], false);
        // No market requires locales: no locale reason, no locale note.
        let (c, notes) = assess_one(m.clone(), &[market("JP", &[], &[("lighting", &["dim"])])]);
        assert!(c.assessable && c.reason.is_none() && notes.is_empty());
        assert_eq!(c.markets[0].covered, Some(true));
        assert!(c.markets[0].required.is_empty() && c.markets[0].locales.is_empty());
        // A market that requires locales, with no locale column: the locales are not
        // assessable (the reason says why); the attribute-only market is still judged.
        let (c, _) = assess_one(
            m,
            &[
                market("JP", &[], &[("lighting", &["dim"])]),
                market("KR", &["ko-KR"], &[("lighting", &["dim"])]),
            ],
        );
        assert!(c.assessable);
        assert!(
            c.reason
                .as_deref()
                .unwrap()
                .starts_with("no validation manifest has a locale column")
        );
        assert_eq!(c.markets[0].covered, Some(true));
        assert_eq!(c.markets[1].covered, None);
        assert_eq!(
            c.markets[1].verdict,
            "not assessable — locales: no validation manifest has a locale column; met: lighting dim 30 (need 30 each)"
        );
    }

    #[test]
    fn locale_only_markets_read_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest(dir.path(), "v", &[("", "dim", 30)], false);
        let (c, _) = assess_one(m, &Market::defaults());
        assert!(!c.assessable && c.attributes.is_empty());
        assert!(
            c.markets
                .iter()
                .all(|m| m.verdict == "not assessable" && m.attributes.is_empty())
        );
        let json = serde_json::to_string(&c.markets[0]).unwrap();
        assert!(!json.contains("attributes"), "{json}");
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("\"attributes\""), "{json}");
    }
}
