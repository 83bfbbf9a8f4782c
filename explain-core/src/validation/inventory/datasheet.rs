//! Datasheets: the TOML file that says where a dataset comes from, under what licence and
//! legal basis, how it was labelled and what it is known to lack, read and checked. Its
//! fields are declared once, in the `datasheet_fields!` list below, which gives the TOML
//! reading, the `[[dataset]]` override, the tidying and the gaps.
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
//! # Optional: replaces the default markets entirely (market name -> required locales; an
//! # empty list means no language requirement, for a market judged on attributes alone).
//! [markets]
//! JP = ["ja-JP"]
//! DACH = ["de-DE", "de-AT", "de-CH"]
//! CA = []
//!
//! # Optional: attribute values each market requires (market -> column -> values). "*"
//! # applies to every market in force; a market's own entry for the same column replaces it.
//! [requirements."*"]
//! lighting = ["dim", "normal", "bright"]
//! [requirements.CA]
//! site = ["plant-A", "plant-B"]
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
//! `[markets]`, when given, names at least one market. `[requirements]` names markets in
//! force (the defaults, or `[markets]`) or `"*"`; each names at least one column, each column
//! at least one value; values are non-empty and none is listed twice (trimmed, without case).
//! Errors name the datasheet and the line: `datasheet d.toml, line 7: [requirements.BR]:
//! no market 'BR' (markets: EU, US, CA, JP, KR, the defaults)`.

use super::coverage::{DEFAULT_MARKETS, Market};
use super::locale::{is_locale_tag, normalize_locale};
use super::requirements::{Requirement, value_key};
use crate::artifact::inventory::{DatasheetFields, Role};
use crate::util::provenance::sha256_hex;
use crate::{Result, bad_input};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a datasheet field of one kind is read: its value, how it is tidied (what is left empty
/// reads as not stated) and how a `[[dataset]]` entry's value combines with the top level's
/// (by default the entry's replaces it).
trait Kind {
    type Value: Clone;
    fn tidy(_: &mut Option<Self::Value>) {}
    fn merge(top: &Option<Self::Value>, entry: &Option<Self::Value>) -> Option<Self::Value> {
        entry.clone().or_else(|| top.clone())
    }
}

/// Free text, trimmed.
struct Text;
/// A list of names (the collection geography): blank names are dropped, and a list left empty
/// is not stated.
struct Names;
/// A list of notes (the known gaps): blank notes are dropped, an entry's notes add to the top
/// level's, and an empty list states that there are none.
struct Notes;
/// Yes or no.
struct Flag;

impl Kind for Text {
    type Value = String;
    fn tidy(v: &mut Option<String>) {
        if let Some(s) = v {
            let t = s.trim();
            if t.is_empty() {
                *v = None;
            } else if t.len() != s.len() {
                *v = Some(t.to_string());
            }
        }
    }
}

/// Drops blank items and trims the others.
fn tidy_list(list: &mut Vec<String>) {
    list.retain(|s| !s.trim().is_empty());
    for s in list.iter_mut() {
        *s = s.trim().to_string();
    }
}

impl Kind for Names {
    type Value = Vec<String>;
    fn tidy(v: &mut Option<Vec<String>>) {
        if let Some(l) = v {
            tidy_list(l);
        }
        if v.as_ref().is_some_and(Vec::is_empty) {
            *v = None;
        }
    }
}

impl Kind for Notes {
    type Value = Vec<String>;
    fn tidy(v: &mut Option<Vec<String>>) {
        if let Some(l) = v {
            tidy_list(l);
        }
    }
    fn merge(top: &Option<Vec<String>>, entry: &Option<Vec<String>>) -> Option<Vec<String>> {
        match (top, entry) {
            (Some(a), Some(b)) => Some(a.iter().chain(b).cloned().collect()),
            _ => entry.clone().or_else(|| top.clone()),
        }
    }
}

impl Kind for Flag {
    type Value = bool;
}

/// Declares the datasheet fields once. `fields { key: Kind = "gap", ... }` lists them in the
/// order of the record and of its gaps; a field with a gap text is one a reviewer expects, and
/// leaving it out reads "GAP not stated". Each `struct` before the list is a serde struct that
/// reads its own keys, then these fields, unknown keys denied, with `take_fields` to move the
/// fields out, tidied. The list also gives [`DatasheetFields`]' `overridden_by`, `tidy` and
/// `unstated`; the record's struct literal makes the compiler check it against the list.
macro_rules! datasheet_fields {
    ($($(#[$attr:meta])* struct $raw:ident $own:tt)* fields $fields:tt) => {
        $(datasheet_fields!(@raw $(#[$attr])* $raw $own $fields);)*
        datasheet_fields!(@record $fields);
    };
    (@raw $(#[$attr:meta])* $raw:ident
        { $($(#[$oattr:meta])* $own:ident : $ty:ty),* $(,)? }
        { $($field:ident : $kind:ident $(= $gap:literal)?),* $(,)? }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $raw {
            $($(#[$oattr])* $own: $ty,)*
            $($field: Option<<$kind as Kind>::Value>,)*
        }

        impl $raw {
            /// Moves the datasheet fields out, tidied.
            fn take_fields(&mut self) -> DatasheetFields {
                DatasheetFields { $($field: self.$field.take(),)* }.tidy()
            }
        }
    };
    (@record { $($field:ident : $kind:ident $(= $gap:literal)?),* $(,)? }) => {
        impl DatasheetFields {
            /// `self`, with every field that `over` states replaced by `over`'s; `known_gaps`
            /// are concatenated (`self`'s first).
            pub(crate) fn overridden_by(&self, over: &DatasheetFields) -> DatasheetFields {
                DatasheetFields { $($field: <$kind as Kind>::merge(&self.$field, &over.$field),)* }
            }

            /// Empty strings and empty lists (other than `known_gaps`) are read as not stated.
            pub(crate) fn tidy(mut self) -> DatasheetFields {
                $(<$kind as Kind>::tidy(&mut self.$field);)*
                self
            }

            /// The fields a reviewer expects that are not stated, by their gap text.
            fn unstated(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $($(if self.$field.is_none() {
                    out.push($gap);
                })?)*
                out
            }
        }
    };
}

datasheet_fields! {
    /// A datasheet's top level.
    struct RawDatasheet {
        #[serde(default)]
        dataset: Vec<RawDataset>,
        markets: Option<BTreeMap<String, toml::Spanned<Vec<String>>>>,
        requirements: Option<BTreeMap<String, toml::Spanned<RawRequirements>>>,
        coverage: Option<CoverageConfig>,
    }
    /// A `[[dataset]]` entry.
    struct RawDataset {
        manifest: String,
        role: Option<Role>,
    }
    fields {
        name: Text = "name",
        origin: Text = "origin",
        collection_period: Text = "collection period",
        collection_geography: Names = "collection geography",
        licence: Text = "licence",
        legal_basis: Text = "legal basis (consent)",
        labelling: Text = "labelling procedure",
        data_category: Text = "data category",
        security_grade: Text = "security grade",
        cross_border_transfer_assessed: Flag = "cross-border transfer assessment",
        cross_border_notes: Text,
        contains_personal_data: Flag,
        known_gaps: Notes = "known gaps",
    }
}

impl DatasheetFields {
    /// One line per field a reviewer expects and this datasheet does not state ("licence not
    /// stated"); a missing legal basis says so when the data contains personal data.
    pub fn gaps(&self) -> Vec<String> {
        let personal = self.contains_personal_data == Some(true);
        self.unstated()
            .into_iter()
            .map(|what| {
                if personal && what.starts_with("legal basis") {
                    format!("{what} not stated although the data contains personal data")
                } else {
                    format!("{what} not stated")
                }
            })
            .collect()
    }
}

/// One market's `[requirements.MARKET]` table: column -> required values.
type RawRequirements = BTreeMap<String, toml::Spanned<Vec<toml::Spanned<String>>>>;

/// The market name of `[requirements."*"]`, which applies to every market in force.
pub const ALL_MARKETS: &str = "*";

/// A `[[dataset]]` entry: fields for the manifests it matches.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetEntry {
    /// A manifest path as given, relative to the datasheet, or a bare file name.
    pub manifest: String,
    /// When set, only a manifest with this role matches.
    pub role: Option<Role>,
    /// Its fields, tidied; they override the top level's.
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

/// A datasheet file, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Datasheet {
    /// The file, as given.
    pub path: PathBuf,
    /// SHA-256 of the file's text.
    pub sha256: String,
    /// The top-level fields, which apply to every manifest.
    pub fields: DatasheetFields,
    /// The `[[dataset]]` entries, in file order.
    pub datasets: Vec<DatasetEntry>,
    /// `[markets]`, in file order; `None` means the defaults. Their `requirements` are empty;
    /// [`Datasheet::requirements`] holds those.
    pub markets: Option<Vec<Market>>,
    /// `[requirements]`: for each market named (or [`ALL_MARKETS`]), its attribute
    /// requirements, in file order. Every market named is in force.
    pub requirements: Vec<(String, Vec<Requirement>)>,
    /// The `[coverage]` table (empty when left out).
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
        let markets = raw
            .markets
            .take()
            .map(|t| markets(t, text, path))
            .transpose()?;
        let in_force: Vec<String> = match &markets {
            Some(m) => m.iter().map(|m| m.name.clone()).collect(),
            None => DEFAULT_MARKETS.iter().map(|(n, _)| n.to_string()).collect(),
        };
        let requirements = match raw.requirements.take() {
            None => Vec::new(),
            Some(t) => requirements(t, &in_force, markets.is_some(), text, path)?,
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
            requirements,
            coverage,
        })
    }

    /// `markets` (the markets in force) with this datasheet's `[requirements]`: those of
    /// `"*"` first, then the market's own, which replace a `"*"` requirement on the same
    /// column in its place.
    pub fn with_requirements(&self, mut markets: Vec<Market>) -> Vec<Market> {
        let of = |name: &str| {
            self.requirements
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, r)| r.as_slice())
                .unwrap_or(&[])
        };
        for m in &mut markets {
            let mut reqs: Vec<Requirement> = of(ALL_MARKETS).to_vec();
            for r in of(&m.name) {
                match reqs.iter_mut().find(|x| x.attribute == r.attribute) {
                    Some(x) => *x = r.clone(),
                    None => reqs.push(r.clone()),
                }
            }
            m.requirements = reqs;
        }
        markets
    }

    /// The `[[dataset]]` entry (its index) for a manifest with this role, if any. Entries that
    /// name the manifest but another role do not apply; if only such entries exist, that is an
    /// error (the datasheet and the command line disagree).
    pub(super) fn entry_for(&self, manifest: &Path, role: Role) -> Result<Option<usize>> {
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

/// The `[markets]` table: each market's locales, checked and normalised, in file order.
fn markets(
    table: BTreeMap<String, toml::Spanned<Vec<String>>>,
    text: &str,
    path: &Path,
) -> Result<Vec<Market>> {
    let p = path.display();
    if table.is_empty() {
        bad_input!(
            "datasheet {p}: [markets] is empty; list each market's required locales, or leave the table out for the defaults"
        );
    }
    let mut in_order: Vec<(usize, Market)> = Vec::new();
    for (name, locales) in table {
        let start = locales.span().start;
        let line = line_at(text, start);
        let locales = locales.into_inner();
        if name.trim().is_empty() {
            bad_input!("datasheet {p}, line {line}: [markets] has a market with an empty name");
        }
        if name == ALL_MARKETS {
            bad_input!(
                "datasheet {p}, line {line}: [markets]: '{ALL_MARKETS}' is no market name (it stands for every market in [requirements])"
            );
        }
        let mut norm: Vec<String> = Vec::new();
        for l in &locales {
            if !is_locale_tag(l) {
                bad_input!(
                    "datasheet {p}, line {line}: market '{name}': '{l}' is not a locale (expected a language tag such as fr-CA or ja_JP)"
                );
            }
            let n = normalize_locale(l);
            if norm.contains(&n) {
                bad_input!("datasheet {p}, line {line}: market '{name}' lists {n} twice");
            }
            norm.push(n);
        }
        in_order.push((
            start,
            Market {
                name,
                locales: norm,
                requirements: Vec::new(),
            },
        ));
    }
    in_order.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    Ok(in_order.into_iter().map(|(_, m)| m).collect())
}

/// The 1-based line of byte offset `at` of `text`.
fn line_at(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The `[requirements]` table, checked: each market named is in force (`in_force`, from
/// `[markets]` when `own_markets`) or `"*"`; each names a column, each column values, none
/// empty or twice. Markets in file order, their columns in file order.
fn requirements(
    table: BTreeMap<String, toml::Spanned<RawRequirements>>,
    in_force: &[String],
    own_markets: bool,
    text: &str,
    path: &Path,
) -> Result<Vec<(String, Vec<Requirement>)>> {
    let p = path.display();
    let mut out: Vec<(usize, String, Vec<Requirement>)> = Vec::new();
    for (market, columns) in table {
        let start = columns.span().start;
        let columns = columns.into_inner();
        // A header table's own span may lie elsewhere; its first column's line is in it.
        let first = columns
            .values()
            .map(|v| v.span().start)
            .min()
            .unwrap_or(start);
        let line = line_at(text, first);
        let section = format!("[requirements.{market}]");
        if market != ALL_MARKETS && !in_force.contains(&market) {
            bad_input!(
                "datasheet {p}, line {line}: {section}: no market '{market}' (markets: {}, {}); name a market in force or \"{ALL_MARKETS}\" for all",
                in_force.join(", "),
                if own_markets {
                    "from [markets]"
                } else {
                    "the defaults"
                }
            );
        }
        if columns.is_empty() {
            bad_input!(
                "datasheet {p}, line {line}: {section} requires nothing; list a column's values (lighting = [\"dim\", \"bright\"]) or leave the table out"
            );
        }
        let mut reqs: Vec<(usize, Requirement)> = Vec::new();
        for (attribute, values) in columns {
            let vstart = values.span().start;
            let line = line_at(text, vstart);
            if attribute.trim().is_empty() {
                bad_input!("datasheet {p}, line {line}: {section} has an empty column name");
            }
            let values = values.into_inner();
            if values.is_empty() {
                bad_input!(
                    "datasheet {p}, line {line}: {section} {attribute}: lists no values; list the required values or leave the column out"
                );
            }
            let mut kept: Vec<String> = Vec::new();
            for v in values {
                let line = line_at(text, v.span().start);
                let v = v.into_inner();
                let t = v.trim();
                if t.is_empty() {
                    bad_input!("datasheet {p}, line {line}: {section} {attribute}: empty value");
                }
                if kept.iter().any(|k| value_key(k) == value_key(t)) {
                    bad_input!(
                        "datasheet {p}, line {line}: {section} {attribute}: lists '{t}' twice (values are compared trimmed, without case)"
                    );
                }
                kept.push(t.to_string());
            }
            reqs.push((
                vstart,
                Requirement {
                    attribute,
                    values: kept,
                },
            ));
        }
        reqs.sort_by_key(|(at, _)| *at);
        out.push((first, market, reqs.into_iter().map(|(_, r)| r).collect()));
    }
    out.sort_by_key(|(at, _, _)| *at);
    Ok(out.into_iter().map(|(_, m, r)| (m, r)).collect())
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn blanks_are_not_stated_and_gaps_follow_the_fields() {
        let f = DatasheetFields {
            name: Some("  padded ".into()),
            origin: Some(" ".into()),
            collection_geography: Some(vec![" ".into()]),
            known_gaps: Some(vec![" ".into(), " b ".into()]),
            contains_personal_data: Some(true),
            ..Default::default()
        }
        .tidy();
        assert_eq!(f.name.as_deref(), Some("padded"));
        assert!(f.origin.is_none() && f.collection_geography.is_none());
        assert_eq!(f.known_gaps, Some(vec!["b".to_string()]));
        let g = DatasheetFields {
            known_gaps: Some(Vec::new()),
            ..f.clone()
        }
        .tidy();
        assert_eq!(g.known_gaps, Some(Vec::new()));
        assert_eq!(
            f.gaps(),
            [
                "origin not stated",
                "collection period not stated",
                "collection geography not stated",
                "licence not stated",
                "legal basis (consent) not stated although the data contains personal data",
                "labelling procedure not stated",
                "data category not stated",
                "security grade not stated",
                "cross-border transfer assessment not stated",
            ]
        );
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
        let d = Datasheet::parse("[markets]\nJP = []\n", Path::new("d.toml")).unwrap();
        assert!(d.markets.unwrap()[0].locales.is_empty());
        let e = Datasheet::parse("[markets]\n", Path::new("d.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("d.toml: [markets] is empty"), "{e}");
        let e = Datasheet::parse(
            "[markets]\nJP = [\"ja-JP\", \"ja_jp\"]\n",
            Path::new("d.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("lists ja-JP twice"), "{e}");
    }

    #[test]
    fn requirements_apply_to_markets_in_force_in_file_order() {
        let d = Datasheet::parse(
            "[markets]\nEU = []\nJP = [\"ja-JP\"]\n\n[requirements.\"*\"]\nlighting = [\"dim\", \" bright \"]\n\n[requirements.EU]\nsite = [\"plant-B\", \"plant-A\"]\nlighting = [\"normal\"]\n",
            Path::new("d.toml"),
        )
        .unwrap();
        assert_eq!(d.requirements.len(), 2);
        assert_eq!(d.requirements[0].0, "*");
        assert_eq!(d.requirements[0].1[0].values, ["dim", "bright"]);
        // File order, not alphabetical: site before lighting.
        let eu: Vec<&str> = d.requirements[1]
            .1
            .iter()
            .map(|r| r.attribute.as_str())
            .collect();
        assert_eq!(eu, ["site", "lighting"]);
        let m = d.with_requirements(d.markets.clone().unwrap());
        // EU: "*"'s lighting replaced in its place by EU's own, then site.
        let eu: Vec<(&str, &[String])> = m[0]
            .requirements
            .iter()
            .map(|r| (r.attribute.as_str(), r.values.as_slice()))
            .collect();
        assert_eq!(eu[0].0, "lighting");
        assert_eq!(eu[0].1, ["normal"]);
        assert_eq!(eu[1].0, "site");
        assert_eq!(m[1].requirements.len(), 1);
        assert_eq!(m[1].requirements[0].values, ["dim", "bright"]);
        // With the default markets.
        let d =
            Datasheet::parse("[requirements.KR]\nsite = [\"a\"]\n", Path::new("d.toml")).unwrap();
        assert!(d.markets.is_none());
        let m = d.with_requirements(Market::defaults());
        assert_eq!(m[4].name, "KR");
        assert_eq!(m[4].requirements[0].attribute, "site");
        assert!(m[0].requirements.is_empty());
    }

    #[test]
    fn bad_requirements_name_the_datasheet_and_line() {
        let err = |text: &str| {
            Datasheet::parse(text, Path::new("sheets/d.toml"))
                .unwrap_err()
                .to_string()
        };
        let e = err("licence = \"x\"\n[requirements.BR]\nlighting = [\"dim\"]\n");
        assert_eq!(
            e,
            "datasheet sheets/d.toml, line 3: [requirements.BR]: no market 'BR' (markets: EU, US, CA, JP, KR, the defaults); name a market in force or \"*\" for all"
        );
        let e = err("[markets]\nJP = []\n[requirements.EU]\nlighting = [\"dim\"]\n");
        assert!(
            e.starts_with("datasheet sheets/d.toml, line 4: [requirements.EU]: no market 'EU' (markets: JP, from [markets])"),
            "{e}"
        );
        let e = err("[requirements.EU]\n\nlighting = []\n");
        assert_eq!(
            e,
            "datasheet sheets/d.toml, line 3: [requirements.EU] lighting: lists no values; list the required values or leave the column out"
        );
        let e = err("[requirements.US]\nlighting = [\n  \"dim\",\n  \"  \",\n]\n");
        assert_eq!(
            e,
            "datasheet sheets/d.toml, line 4: [requirements.US] lighting: empty value"
        );
        let e = err("[requirements.US]\nsite = [\"plant-A\", \"Plant-A \"]\n");
        assert!(
            e.starts_with(
                "datasheet sheets/d.toml, line 2: [requirements.US] site: lists 'Plant-A' twice"
            ),
            "{e}"
        );
        let e = err("[requirements.US]\nsite = [\"a\", 3]\n");
        assert!(e.starts_with("datasheet sheets/d.toml, line 2: "), "{e}");
        let e = err("[requirements.US]\n");
        assert!(e.contains("[requirements.US] requires nothing"), "{e}");
        let e = err("[markets]\n\"*\" = [\"en-US\"]\n");
        assert!(
            e.contains("line 2: [markets]: '*' is no market name"),
            "{e}"
        );
    }
}
