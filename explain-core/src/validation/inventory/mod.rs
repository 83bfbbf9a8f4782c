//! Training and validation data inventories for an export review: what data a model was
//! trained and validated on, where it came from, and whether the validation data covers the
//! target markets.
//!
//! An inventory is built from one or more manifests (see [`crate::validation::manifest`]), each with a
//! [`Role`], and an optional [`Datasheet`] (a TOML file describing origin, licence, legal basis
//! and so on). For each manifest it records counts and shares of every attribute value, missing
//! values, the language coverage, and the datasheet fields that apply to it, with every field
//! the datasheet leaves out listed as a gap. For the whole inventory it records totals by role
//! and the **target-market coverage**: for each market, the locales and attribute values
//! (lighting, skin-tone group, site, …) it requires, how many validation items each has, and
//! whether the market is covered.
//!
//! Its parts: [`counts`] (attribute values, missing values and languages of one manifest),
//! [`locale`] (locale tags and matching), [`datasheet`] (the datasheet's format, reading and
//! fields), [`requirements`] (attribute requirements of markets and their counts) and
//! [`coverage`] (target markets and their coverage). This module builds the
//! inventory from them.
//!
//! # Precedence
//!
//! [`Options`] (the CLI flags) override the datasheet's `[coverage]`, which overrides the
//! defaults (`min_n` 30; locale column: the first of `locale`, `lang_locale`; language column:
//! the first of `language`, `lang`, `locale`).

pub mod counts;
pub mod coverage;
pub mod datasheet;
pub mod locale;
pub mod requirements;

pub use crate::artifact::inventory::{
    AttributeCounts, AttributeCoverage, AttributeTally, Coverage, Dataset, DatasheetFields,
    Inventory, LanguageCount, LanguageCoverage, LocaleCount, LocaleCoverage, MarketCoverage,
    ObservedValue, Role, RoleTotal, SCHEMA, Totals, Truncated, ValueCount, ValueCoverage,
};
pub use counts::{LANGUAGE_COLUMNS, LOCALE_COLUMNS, MAX_LISTED_VALUES, SUMMARY_TOP};
pub use coverage::{DEFAULT_MARKETS, Market};
pub use datasheet::{ALL_MARKETS, CoverageConfig, DatasetEntry, Datasheet};
pub use locale::{is_locale_tag, language_of, locale_matches, normalize_locale};
pub use requirements::Requirement;

use crate::artifact::inventory::plural;
use crate::attribution::explainer::FileRef;
use crate::util::provenance::Tool;
use crate::validation::manifest::{self, Manifest};
use crate::{Result, bad_input};
use counts::{attribute_counts, language_coverage, pick_column};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::str::FromStr;

/// Validation items a required locale needs, unless configured otherwise.
pub const DEFAULT_MIN_N: usize = crate::artifact::spec::defaults::MIN_N;

/// Parses a manifest argument of the CLI: `ROLE=PATH` or `PATH` (role `validation`).
///
/// A path that itself contains `=` is written `./a=b.csv`: text before the first `=` that looks
/// like a word but is no role is an error, so that a misspelt role is not read as a path.
///
/// ```
/// use explain_core::validation::inventory::{Role, parse_source_arg};
/// assert_eq!(parse_source_arg("train=data/train.csv").unwrap(), (Role::Train, "data/train.csv".into()));
/// assert_eq!(parse_source_arg("val.csv").unwrap(), (Role::Validation, "val.csv".into()));
/// assert!(parse_source_arg("trian=data/train.csv").is_err());
/// ```
pub fn parse_source_arg(arg: &str) -> Result<(Role, PathBuf)> {
    if arg.trim().is_empty() {
        bad_input!("empty manifest argument: give PATH or ROLE=PATH");
    }
    if let Some((prefix, rest)) = arg.split_once('=') {
        if let Ok(role) = Role::from_str(prefix) {
            if rest.trim().is_empty() {
                bad_input!("manifest argument '{arg}': no path after '{prefix}='");
            }
            return Ok((role, PathBuf::from(rest)));
        }
        let wordy = !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if wordy {
            bad_input!(
                "manifest argument '{arg}': unknown data role '{prefix}' (roles: {}); write ROLE=PATH, or ./{arg} for a path that contains '='",
                Role::ALL.map(Role::as_str).join(", ")
            );
        }
    }
    Ok((Role::Validation, PathBuf::from(arg)))
}

/// Parses a CLI manifest argument (see [`parse_source_arg`]) and reads the manifest.
pub fn read_source(arg: &str) -> Result<(Role, Manifest)> {
    let (role, path) = parse_source_arg(arg)?;
    Ok((role, Manifest::read(&path)?))
}

/// Settings that the CLI flags set; `None` falls back to the datasheet's `[coverage]`, then to
/// the defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// Validation items each required locale needs (at least 1). Default
    /// [`DEFAULT_MIN_N`].
    pub min_n: Option<usize>,
    /// The locale column. Default: the first of [`LOCALE_COLUMNS`] that a manifest has.
    pub locale_column: Option<String>,
    /// The language column. Default: the first of [`LANGUAGE_COLUMNS`] that a manifest has.
    pub language_column: Option<String>,
}

/// Notes on manifests given twice and on item files shared between manifests (for example
/// validation items that are also training items).
fn overlap_notes(sources: &[(Role, Manifest)], notes: &mut Vec<String>) {
    let canon = |p: PathBuf| p.canonicalize().unwrap_or(p);
    let items: Vec<BTreeSet<PathBuf>> = sources
        .iter()
        .map(|(_, m)| m.input_paths().into_iter().map(canon).collect())
        .collect();
    let files: Vec<PathBuf> = sources.iter().map(|(_, m)| canon(m.path.clone())).collect();
    for j in 0..sources.len() {
        for i in 0..j {
            let (ri, mi) = (&sources[i].0, &sources[i].1);
            let (rj, mj) = (&sources[j].0, &sources[j].1);
            if files[i] == files[j] {
                notes.push(format!(
                    "manifest {} is given twice (as {ri} and as {rj})",
                    mj.path.display()
                ));
                continue;
            }
            let shared = items[i].intersection(&items[j]).count();
            if shared > 0 {
                notes.push(format!(
                    "{} of {rj} manifest {} also in {ri} manifest {}",
                    plural(shared, "item file", "item files"),
                    mj.path.display(),
                    mi.path.display()
                ));
            }
        }
    }
}

/// Builds the inventory of `sources` (each manifest with its role), with the datasheet's
/// fields, for the given options. Every manifest's item files must exist.
///
/// Fails on a missing item file (listing them all), on a locale or language column that was
/// asked for but is in no manifest, and on a datasheet that gives a manifest another role.
///
/// ```
/// use explain_core::validation::inventory::{build, Datasheet, Options, Role};
/// use explain_core::validation::manifest::Manifest;
/// let dir = tempfile::tempdir().unwrap();
/// let mut csv = String::from("input,label,locale\n");
/// for i in 0..40 {
///     let name = format!("{i}.wav");
///     std::fs::write(dir.path().join(&name), b"").unwrap();
///     csv += &format!("{name},1,{}\n", if i < 32 { "ja_JP" } else { "ko-KR" });
/// }
/// std::fs::write(dir.path().join("val.csv"), csv).unwrap();
/// let manifest = Manifest::read(&dir.path().join("val.csv")).unwrap();
/// let sheet = Datasheet::parse("licence = \"CC0\"\n[markets]\nJP = [\"ja-JP\"]\nKR = [\"ko-KR\"]\n",
///     "datasheet.toml".as_ref()).unwrap();
/// let inv = build(&[(Role::Validation, manifest)], Some(&sheet), &Options::default()).unwrap();
/// assert_eq!(inv.coverage.markets[0].covered, Some(true));   // JP: 32 ja-JP items >= 30
/// assert_eq!(inv.coverage.markets[1].covered, Some(false));  // KR: 8 ko-KR items
/// assert_eq!(inv.coverage.not_covered, vec!["KR"]);
/// assert!(inv.datasets[0].gaps.contains(&"origin not stated".to_string()));
/// assert!(inv.summary().contains("KR (ko-KR): NOT COVERED — 8 validation items for ko-KR (need 30)"));
/// ```
pub fn build(
    sources: &[(Role, Manifest)],
    datasheet: Option<&Datasheet>,
    options: &Options,
) -> Result<Inventory> {
    if sources.is_empty() {
        bad_input!("no manifest given: the inventory needs at least one");
    }
    for (_, m) in sources {
        m.check_files()?;
    }
    let min_n = options
        .min_n
        .or(datasheet.and_then(|d| d.coverage.min_n))
        .unwrap_or(DEFAULT_MIN_N);
    if min_n == 0 {
        bad_input!("the minimum number of validation items per locale (min_n) must be at least 1");
    }
    let locale_request: Option<&str> = options
        .locale_column
        .as_deref()
        .or(datasheet.and_then(|d| d.coverage.column.as_deref()));
    let language_request = options.language_column.as_deref();
    let all_columns = || {
        sources
            .iter()
            .map(|(_, m)| format!("{}: {}", m.path.display(), m.columns.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if let Some(c) = locale_request {
        let validation = sources.iter().filter(|(r, _)| *r == Role::Validation);
        if sources.iter().any(|(r, _)| *r == Role::Validation)
            && !validation.clone().any(|(_, m)| m.column(c).is_some())
        {
            let from = if options.locale_column.is_some() {
                "the locale column".to_string()
            } else {
                format!(
                    "[coverage] column of datasheet {}",
                    datasheet
                        .map(|d| d.path.display().to_string())
                        .unwrap_or_default()
                )
            };
            bad_input!(
                "{from} '{c}' is in no validation manifest (columns: {})",
                validation
                    .map(|(_, m)| format!("{}: {}", m.path.display(), m.columns.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
    }
    if let Some(c) = language_request
        && !sources.iter().any(|(_, m)| m.column(c).is_some())
    {
        bad_input!(
            "the language column '{c}' is in no manifest (columns: {})",
            all_columns()
        );
    }

    let mut notes = Vec::new();
    let mut used_entries = vec![false; datasheet.map_or(0, |d| d.datasets.len())];
    let mut datasets = Vec::new();
    for (role, m) in sources {
        let (fields, entry) = match datasheet {
            None => (DatasheetFields::default(), None),
            Some(d) => match d.entry_for(&m.path, *role)? {
                None => (d.fields.clone(), None),
                Some(i) => {
                    used_entries[i] = true;
                    (
                        d.fields.overridden_by(&d.datasets[i].fields),
                        Some(d.datasets[i].manifest.clone()),
                    )
                }
            },
        };
        let label = m.column(manifest::LABEL).map(|c| attribute_counts(m, c));
        let attributes = m
            .attributes()
            .iter()
            .map(|a| attribute_counts(m, m.column(a).expect("listed by the manifest")))
            .collect();
        let language_coverage = pick_column(m, language_request, &LANGUAGE_COLUMNS).map(|lc| {
            let loc = pick_column(m, locale_request, &LOCALE_COLUMNS);
            language_coverage(m, lc, loc)
        });
        if language_coverage.is_none() && language_request.is_some() {
            notes.push(format!(
                "manifest {} has no '{}' column; its languages are not reported",
                m.path.display(),
                language_request.unwrap_or_default()
            ));
        }
        let mut gaps = fields.gaps();
        if datasheet.is_none() {
            gaps.insert(0, "no datasheet given".into());
        }
        datasets.push(Dataset {
            manifest: m.path.display().to_string(),
            sha256: m.sha256.clone(),
            role: *role,
            items: m.len(),
            columns: m.columns.clone(),
            label,
            attributes,
            language_coverage,
            datasheet_entry: entry,
            datasheet: fields,
            gaps,
        });
    }
    if let Some(d) = datasheet {
        for (e, used) in d.datasets.iter().zip(&used_entries) {
            if !used {
                notes.push(format!(
                    "datasheet {}: [[dataset]] entry for '{}'{} matches none of the manifests given",
                    d.path.display(),
                    e.manifest,
                    e.role.map(|r| format!(" ({r})")).unwrap_or_default()
                ));
            }
        }
    }
    overlap_notes(sources, &mut notes);

    let by_role = Role::ALL
        .iter()
        .filter_map(|&role| {
            let of: Vec<&Manifest> = sources
                .iter()
                .filter(|(r, _)| *r == role)
                .map(|(_, m)| m)
                .collect();
            (!of.is_empty()).then(|| RoleTotal {
                role,
                manifests: of.len(),
                items: of.iter().map(|m| m.len()).sum(),
            })
        })
        .collect();
    let totals = Totals {
        manifests: sources.len(),
        items: sources.iter().map(|(_, m)| m.len()).sum(),
        by_role,
    };

    let (markets, markets_from) = match datasheet.and_then(|d| d.markets.clone().map(|m| (m, d))) {
        Some((m, d)) => (m, d.path.display().to_string()),
        None => (Market::defaults(), "default".to_string()),
    };
    let markets = match datasheet {
        Some(d) => d.with_requirements(markets),
        None => markets,
    };
    let coverage = coverage::assess(
        sources,
        locale_request,
        &markets,
        min_n,
        markets_from,
        &mut notes,
    );

    Ok(Inventory {
        schema: SCHEMA.into(),
        tool: Tool::current(),
        datasheet: datasheet.map(|d| FileRef {
            path: d.path.display().to_string(),
            sha256: d.sha256.clone(),
            rows: None,
        }),
        datasets,
        totals,
        coverage,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_in_any_case_and_name_the_choices() {
        assert_eq!(Role::from_str("Train").unwrap(), Role::Train);
        assert_eq!(Role::from_str(" background ").unwrap(), Role::Background);
        let e = Role::from_str("training").unwrap_err().to_string();
        assert!(
            e.contains("'training'") && e.contains("train, validation, test, background"),
            "{e}"
        );
    }

    #[test]
    fn source_arguments() {
        assert_eq!(
            parse_source_arg("TEST=t.csv").unwrap(),
            (Role::Test, "t.csv".into())
        );
        assert_eq!(
            parse_source_arg("./a=b.csv").unwrap(),
            (Role::Validation, "./a=b.csv".into())
        );
        assert_eq!(
            parse_source_arg("dir/a=b.csv").unwrap(),
            (Role::Validation, "dir/a=b.csv".into())
        );
        let e = parse_source_arg("valid=v.csv").unwrap_err().to_string();
        assert!(e.contains("unknown data role 'valid'"), "{e}");
        assert!(
            parse_source_arg("train=")
                .unwrap_err()
                .to_string()
                .contains("no path")
        );
        assert!(parse_source_arg("  ").is_err());
    }
}
