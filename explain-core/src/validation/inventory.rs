//! Training and validation data inventories for an export review: what data a model was
//! trained and validated on, where it came from, and whether the validation data covers the
//! target markets.
//!
//! An inventory is built from one or more manifests (see [`crate::validation::manifest`]), each with a
//! [`Role`], and an optional [`Datasheet`] (a TOML file describing origin, licence, legal basis
//! and so on). For each manifest it records counts and shares of every attribute value, missing
//! values, the language coverage, and the datasheet fields that apply to it, with every field
//! the datasheet leaves out listed as a gap. For the whole inventory it records totals by role
//! and the **target-market coverage**: for each market, the locales it requires, how many
//! validation items each has, and whether the market is covered.
//!
//! # Missing values
//!
//! A cell is missing when it is empty or reads `NA`, `n/a` or `null` (any case). Missing cells
//! are counted per attribute and are in no value's count. Shares are of all the manifest's
//! items, so the value shares and the missing share of an attribute add up to 1.
//!
//! # Locales
//!
//! Locale values are compared case-insensitively, with `_` read as `-`, and are reported in
//! the usual casing (`en_us` → `en-US`, `zh-hant-tw` → `zh-Hant-TW`). A value counts for a
//! required locale when it equals it or is a more specific tag of it: `en-US-nyc` counts for
//! `en-US`, and every `fr-*` value counts for a required `fr`.
//!
//! # Target markets
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
//!
//! # Datasheet format
//!
//! ```toml
//! # Top-level fields apply to every manifest of the inventory.
//! name = "Speech VAD validation windows"
//! origin = "Asterisk IVR prompts (Debian asterisk-core-sounds 1.6.1) and espeak-ng speech"
//! collection_period = "2003-2012"
//! collection_geography = ["US", "MX", "CA", "IT", "RU"]
//! licence = "CC BY-SA 3.0 / CC BY 3.0"
//! legal_basis = "consent of the voice actors (recording contracts)"
//! labelling = "by construction: highest-energy window of a prompt = speech"
//! data_category = "voice recordings"
//! security_grade = "public"
//! cross_border_transfer_assessed = true
//! cross_border_notes = "public data, no transfer restrictions"  # optional
//! contains_personal_data = true                                 # optional
//! known_gaps = ["no ja-JP or ko-KR speech"]
//!
//! # Optional per-manifest entries: `manifest` is matched against the manifest path as given,
//! # the path relative to this file, or (for a bare name) the manifest's file name; `role`,
//! # when given, must match the manifest's role too. Their fields override the top-level
//! # ones, except `known_gaps`, which adds to them.
//! [[dataset]]
//! manifest = "manifest.csv"
//! role = "validation"
//! name = "Speech VAD validation windows, 519 items"
//!
//! # Optional: replaces the default markets entirely (market name -> required locales).
//! [markets]
//! JP = ["ja-JP"]
//! DACH = ["de-DE", "de-AT", "de-CH"]
//!
//! # Optional: the locale column and the minimum number of validation items per locale.
//! [coverage]
//! column = "locale"
//! min_n = 30
//! ```
//!
//! Every field is optional. A field left out is not an error; it is listed under the dataset's
//! `gaps` ("licence not stated"). An unknown key is an error naming the key and the file.
//! `cross_border_notes` and `contains_personal_data` are never gaps; `known_gaps = []` says
//! that no gaps are known, while leaving `known_gaps` out is a gap.
//!
//! # Precedence
//!
//! [`Options`] (the CLI flags) override the datasheet's `[coverage]`, which overrides the
//! defaults (`min_n` 30; locale column: the first of `locale`, `lang_locale`; language column:
//! the first of `language`, `lang`, `locale`).

pub use crate::artifact::inventory::{
    AttributeCounts, Coverage, Dataset, DatasheetFields, Inventory, LanguageCount,
    LanguageCoverage, LocaleCount, LocaleCoverage, MarketCoverage, Role, RoleTotal, SCHEMA, Totals,
    Truncated, ValueCount,
};
use crate::artifact::inventory::{list_locales, plural};
use crate::attribution::explainer::FileRef;
use crate::util::provenance::{Tool, sha256_hex};
use crate::validation::manifest::{self, Manifest, is_missing};
use crate::{Result, bad_input};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Validation items a required locale needs, unless configured otherwise.
pub const DEFAULT_MIN_N: usize = crate::artifact::spec::defaults::MIN_N;
/// Columns tried, in order, for the locale when none is named.
pub const LOCALE_COLUMNS: [&str; 2] = ["locale", "lang_locale"];
/// Columns tried, in order, for the language when none is named.
pub const LANGUAGE_COLUMNS: [&str; 3] = ["language", "lang", "locale"];
/// An attribute with more distinct values than this is summarised.
pub const MAX_LISTED_VALUES: usize = 50;
/// How many values a summarised attribute lists (the most frequent).
pub const SUMMARY_TOP: usize = 20;

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

// ---------------------------------------------------------------------------------------------
// Roles and sources

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

// ---------------------------------------------------------------------------------------------
// Datasheet

/// Declares a serde struct with the datasheet fields plus the given ones, unknown keys denied,
/// and `take_fields` to move the datasheet fields out.
macro_rules! with_datasheet_fields {
    ($name:ident { $($(#[$fattr:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $name {
            $($(#[$fattr])* $field: $ty,)*
            name: Option<String>,
            origin: Option<String>,
            collection_period: Option<String>,
            collection_geography: Option<Vec<String>>,
            licence: Option<String>,
            legal_basis: Option<String>,
            labelling: Option<String>,
            data_category: Option<String>,
            security_grade: Option<String>,
            cross_border_transfer_assessed: Option<bool>,
            cross_border_notes: Option<String>,
            contains_personal_data: Option<bool>,
            known_gaps: Option<Vec<String>>,
        }

        impl $name {
            fn take_fields(&mut self) -> DatasheetFields {
                DatasheetFields {
                    name: self.name.take(),
                    origin: self.origin.take(),
                    collection_period: self.collection_period.take(),
                    collection_geography: self.collection_geography.take(),
                    licence: self.licence.take(),
                    legal_basis: self.legal_basis.take(),
                    labelling: self.labelling.take(),
                    data_category: self.data_category.take(),
                    security_grade: self.security_grade.take(),
                    cross_border_transfer_assessed: self.cross_border_transfer_assessed.take(),
                    cross_border_notes: self.cross_border_notes.take(),
                    contains_personal_data: self.contains_personal_data.take(),
                    known_gaps: self.known_gaps.take(),
                }
                .tidy()
            }
        }
    };
}

with_datasheet_fields!(RawDatasheet {
    #[serde(default)]
    dataset: Vec<RawDataset>,
    markets: Option<BTreeMap<String, toml::Spanned<Vec<String>>>>,
    coverage: Option<CoverageConfig>,
});

with_datasheet_fields!(RawDataset {
    manifest: String,
    role: Option<Role>,
});

/// A `[[dataset]]` entry: fields for the manifests it matches.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetEntry {
    /// A manifest path as given, relative to the datasheet, or a bare file name.
    pub manifest: String,
    /// When set, only a manifest with this role matches.
    pub role: Option<Role>,
    pub fields: DatasheetFields,
}

/// The `[coverage]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageConfig {
    /// The locale column of the validation manifests.
    pub column: Option<String>,
    /// Validation items each required locale needs.
    pub min_n: Option<usize>,
}

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

/// A datasheet file, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Datasheet {
    /// The file, as given.
    pub path: PathBuf,
    pub sha256: String,
    /// The top-level fields, which apply to every manifest.
    pub fields: DatasheetFields,
    pub datasets: Vec<DatasetEntry>,
    /// `[markets]`, in file order; `None` means the defaults.
    pub markets: Option<Vec<Market>>,
    pub coverage: CoverageConfig,
}

impl Datasheet {
    /// Reads and checks a datasheet TOML file (format in the module documentation).
    pub fn read(path: &Path) -> Result<Datasheet> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => bad_input!("cannot read datasheet {}: {e}", path.display()),
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => bad_input!("datasheet {} is not UTF-8 text", path.display()),
        };
        Datasheet::parse(&text, path)
    }

    /// Parses datasheet TOML text; `path` names it in messages and in the inventory.
    pub fn parse(text: &str, path: &Path) -> Result<Datasheet> {
        let p = path.display();
        // One line, with the line number; the file's text is not echoed.
        let mut raw: RawDatasheet = crate::util::toml::parse(text, &format!("datasheet {p}"), "")?;
        let fields = raw.take_fields();
        let mut datasets = Vec::new();
        for (i, mut d) in std::mem::take(&mut raw.dataset).into_iter().enumerate() {
            let manifest = d.manifest.trim().to_string();
            if manifest.is_empty() {
                bad_input!(
                    "datasheet {p}: [[dataset]] entry {} has an empty 'manifest'",
                    i + 1
                );
            }
            if datasets
                .iter()
                .any(|e: &DatasetEntry| e.manifest == manifest && e.role == d.role)
            {
                bad_input!(
                    "datasheet {p}: two [[dataset]] entries for manifest '{manifest}'{}",
                    d.role
                        .map(|r| format!(" with role {r}"))
                        .unwrap_or_default()
                );
            }
            datasets.push(DatasetEntry {
                manifest,
                role: d.role,
                fields: d.take_fields(),
            });
        }
        let markets = match raw.markets.take() {
            None => None,
            Some(table) => {
                if table.is_empty() {
                    bad_input!(
                        "datasheet {p}: [markets] is empty; list each market's required locales, or leave the table out for the defaults"
                    );
                }
                let mut in_order: Vec<(usize, Market)> = Vec::new();
                for (name, locales) in table {
                    let start = locales.span().start;
                    let locales = locales.into_inner();
                    if name.trim().is_empty() {
                        bad_input!("datasheet {p}: [markets] has a market with an empty name");
                    }
                    if locales.is_empty() {
                        bad_input!("datasheet {p}: market '{name}' lists no locales");
                    }
                    let mut norm: Vec<String> = Vec::new();
                    for l in &locales {
                        if !is_locale_tag(l) {
                            bad_input!(
                                "datasheet {p}: market '{name}': '{l}' is not a locale (expected a language tag such as fr-CA or ja_JP)"
                            );
                        }
                        let n = normalize_locale(l);
                        if norm.contains(&n) {
                            bad_input!("datasheet {p}: market '{name}' lists {n} twice");
                        }
                        norm.push(n);
                    }
                    in_order.push((
                        start,
                        Market {
                            name,
                            locales: norm,
                        },
                    ));
                }
                in_order.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
                Some(in_order.into_iter().map(|(_, m)| m).collect())
            }
        };
        let coverage = raw.coverage.take().unwrap_or_default();
        if coverage.min_n == Some(0) {
            bad_input!("datasheet {p}: [coverage] min_n must be at least 1");
        }
        if coverage
            .column
            .as_deref()
            .is_some_and(|c| c.trim().is_empty())
        {
            bad_input!("datasheet {p}: [coverage] column is empty");
        }
        Ok(Datasheet {
            path: path.to_path_buf(),
            sha256: sha256_hex(text.as_bytes()),
            fields,
            datasets,
            markets,
            coverage,
        })
    }

    /// The `[[dataset]]` entry (its index) for a manifest with this role, if any. Entries that
    /// name the manifest but another role do not apply; if only such entries exist, that is an
    /// error (the datasheet and the command line disagree).
    fn entry_for(&self, manifest: &Path, role: Role) -> Result<Option<usize>> {
        let dir = self.path.parent().unwrap_or(Path::new(""));
        let named: Vec<usize> = (0..self.datasets.len())
            .filter(|&i| path_matches(&self.datasets[i].manifest, manifest, dir))
            .collect();
        let fitting: Vec<usize> = named
            .iter()
            .copied()
            .filter(|&i| self.datasets[i].role.is_none_or(|r| r == role))
            .collect();
        match fitting.as_slice() {
            [] => match named.first() {
                None => Ok(None),
                Some(&i) => bad_input!(
                    "datasheet {} describes manifest '{}' as {} data, but {} was given as {role} (give it as {}={})",
                    self.path.display(),
                    self.datasets[i].manifest,
                    self.datasets[i].role.map(Role::as_str).unwrap_or("?"),
                    manifest.display(),
                    self.datasets[i].role.map(Role::as_str).unwrap_or("?"),
                    manifest.display()
                ),
            },
            [i] => Ok(Some(*i)),
            [a, b, ..] => {
                // A role-specific entry is more specific than one without a role.
                let with_role: Vec<usize> = fitting
                    .iter()
                    .copied()
                    .filter(|&i| self.datasets[i].role.is_some())
                    .collect();
                if with_role.len() == 1 {
                    return Ok(Some(with_role[0]));
                }
                bad_input!(
                    "datasheet {}: [[dataset]] entries '{}' and '{}' both match manifest {} ({role}); name it by its path to tell them apart",
                    self.path.display(),
                    self.datasets[*a].manifest,
                    self.datasets[*b].manifest,
                    manifest.display()
                )
            }
        }
    }
}

/// Whether a `[[dataset]]` `manifest` value names this manifest path: the same path as given,
/// the same file relative to the datasheet's folder, or (a bare name) the same file name.
fn path_matches(entry: &str, manifest: &Path, datasheet_dir: &Path) -> bool {
    let e = Path::new(entry);
    if e == manifest {
        return true;
    }
    if e.components().count() == 1 && manifest.file_name() == e.file_name() {
        return true;
    }
    match (
        datasheet_dir.join(e).canonicalize(),
        manifest.canonicalize(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Locales

/// Whether `text` looks like a language tag: subtags of 1–8 ASCII letters or digits, joined by
/// `-` or `_`, the first 2–8 letters.
pub fn is_locale_tag(text: &str) -> bool {
    let t = text.trim();
    let mut parts = t.split(['-', '_']);
    let Some(first) = parts.next() else {
        return false;
    };
    (2..=8).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A locale in the usual casing, `_` read as `-`: `en_us` → `en-US`, `ZH-HANT-tw` →
/// `zh-Hant-TW`, `en-gb-X-RP` → `en-GB-x-rp`. Never fails; text that is no tag is only
/// lower-cased.
pub fn normalize_locale(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut private = false;
    for (i, part) in text
        .trim()
        .split(['-', '_'])
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        let alpha = part.chars().all(|c| c.is_ascii_alphabetic());
        let s = if i == 0 || private {
            part.to_ascii_lowercase()
        } else if part.len() == 1 {
            private = true;
            part.to_ascii_lowercase()
        } else if part.len() == 2 && alpha {
            part.to_ascii_uppercase()
        } else if part.len() == 4 && alpha {
            let lower = part.to_ascii_lowercase();
            lower[..1].to_ascii_uppercase() + &lower[1..]
        } else {
            part.to_ascii_lowercase()
        };
        out.push(s);
    }
    out.join("-")
}

/// The primary language subtag of a locale, lower case: `fr_CA` → `fr`.
pub fn language_of(locale: &str) -> String {
    normalize_locale(locale)
        .split('-')
        .next()
        .unwrap_or("")
        .to_string()
}

/// Whether an observed locale counts for a required one: equal, or a more specific tag of it
/// (case-insensitive, `_` as `-`).
pub fn locale_matches(required: &str, observed: &str) -> bool {
    let r = normalize_locale(required).to_ascii_lowercase();
    let o = normalize_locale(observed).to_ascii_lowercase();
    !r.is_empty() && (o == r || (o.starts_with(&r) && o.as_bytes().get(r.len()) == Some(&b'-')))
}

// ---------------------------------------------------------------------------------------------
// Options and output

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

// ---------------------------------------------------------------------------------------------
// Building

fn share(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64
    }
}

/// Sorted most frequent first, then by key.
fn by_count<K: Ord + Clone>(counts: &BTreeMap<K, usize>) -> Vec<(K, usize)> {
    let mut v: Vec<(K, usize)> = counts.iter().map(|(k, c)| (k.clone(), *c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn attribute_counts(m: &Manifest, col: usize) -> AttributeCounts {
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
fn pick_column<'a>(m: &'a Manifest, requested: Option<&str>, defaults: &[&str]) -> Option<&'a str> {
    let name = match requested {
        Some(r) => m.columns.iter().find(|c| *c == r)?,
        None => defaults
            .iter()
            .find_map(|d| m.columns.iter().find(|c| c == d))?,
    };
    Some(name.as_str())
}

fn language_coverage(
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

fn coverage(
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
    let coverage = coverage(
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

// ---------------------------------------------------------------------------------------------
// Terminal summary

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

    #[test]
    fn locales_normalise_and_match() {
        assert_eq!(normalize_locale("en_us"), "en-US");
        assert_eq!(normalize_locale(" ZH-hant-tw "), "zh-Hant-TW");
        assert_eq!(normalize_locale("en-gb-X-RP"), "en-GB-x-rp");
        assert_eq!(normalize_locale("es-419"), "es-419");
        assert_eq!(normalize_locale("EN-us-NYC"), "en-US-nyc");
        assert!(locale_matches("en-US", "en_us"));
        assert!(locale_matches("en-US", "en-US-nyc"));
        assert!(locale_matches("fr", "fr-CA"));
        assert!(!locale_matches("en-US", "en-USA"));
        assert!(!locale_matches("en-US", "en"));
        assert!(!locale_matches("fr-FR", "fr-CA"));
        assert_eq!(language_of("FR_ca"), "fr");
        assert!(is_locale_tag("ja_JP") && is_locale_tag("es-419") && is_locale_tag("fr"));
        assert!(
            !is_locale_tag("Japanese (Japan)") && !is_locale_tag("j") && !is_locale_tag("en--US")
        );
    }

    #[test]
    fn missing_markers() {
        for m in ["", " ", "NA", "na", "N/A", "n/a", "NULL", "Null"] {
            assert!(is_missing(m), "{m:?}");
        }
        for v in ["none", "0", "nan", "n.a."] {
            assert!(!is_missing(v), "{v:?}");
        }
    }

    #[test]
    fn entry_fields_override_and_known_gaps_add() {
        let top = DatasheetFields {
            licence: Some("CC0".into()),
            origin: Some("lab".into()),
            known_gaps: Some(vec!["a".into()]),
            ..Default::default()
        };
        let entry = DatasheetFields {
            licence: Some("MIT".into()),
            known_gaps: Some(vec!["b".into()]),
            ..Default::default()
        };
        let f = top.overridden_by(&entry);
        assert_eq!(f.licence.as_deref(), Some("MIT"));
        assert_eq!(f.origin.as_deref(), Some("lab"));
        assert_eq!(f.known_gaps, Some(vec!["a".to_string(), "b".to_string()]));
    }

    #[test]
    fn markets_keep_file_order_and_reject_bad_locales() {
        let d = Datasheet::parse(
            "[markets]\nUS = [\"en_us\"]\nDACH = [\"de-DE\", \"de-AT\"]\nAU = [\"en-AU\"]\n",
            Path::new("d.toml"),
        )
        .unwrap();
        let m = d.markets.unwrap();
        let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["US", "DACH", "AU"]);
        assert_eq!(m[0].locales, ["en-US"]);
        let e = Datasheet::parse("[markets]\nJP = [\"ja JP\"]\n", Path::new("d.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("d.toml") && e.contains("'ja JP' is not a locale"),
            "{e}"
        );
        let e = Datasheet::parse("[markets]\nJP = []\n", Path::new("d.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("market 'JP' lists no locales"), "{e}");
        let e = Datasheet::parse(
            "[markets]\nJP = [\"ja-JP\", \"ja_jp\"]\n",
            Path::new("d.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("lists ja-JP twice"), "{e}");
    }
}
