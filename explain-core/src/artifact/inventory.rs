//! `explain.inventory/1`: where the data came from (datasheet fields per dataset), counts by
//! attribute and language, and target-market coverage of the validation data.

use crate::util::provenance::{FileRef, Tool};
use crate::{Result, bad_input};
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write as _};

/// The `schema` field of an inventory document.
pub const SCHEMA: &str = "explain.inventory/1";

/// What a manifest's data was used for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Train,
    Validation,
    Test,
    Background,
}

impl Role {
    /// Every role, in the order totals are reported.
    pub const ALL: [Role; 4] = [Role::Train, Role::Validation, Role::Test, Role::Background];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Train => "train",
            Role::Validation => "validation",
            Role::Test => "test",
            Role::Background => "background",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = crate::Error;

    /// `train`, `validation`, `test` or `background`, in any case.
    fn from_str(text: &str) -> Result<Role> {
        let t = text.trim();
        match Role::ALL
            .iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(t))
        {
            Some(r) => Ok(*r),
            None => bad_input!(
                "unknown data role '{t}' (roles: {})",
                Role::ALL.map(Role::as_str).join(", ")
            ),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a datasheet says about a dataset. Every field is optional; see the module
/// documentation for the TOML format. Serialised as is, `null` where not stated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DatasheetFields {
    pub name: Option<String>,
    /// Where the data comes from.
    pub origin: Option<String>,
    pub collection_period: Option<String>,
    /// Where the data was collected (countries or regions).
    pub collection_geography: Option<Vec<String>>,
    pub licence: Option<String>,
    /// Consent or other legal basis for using the data.
    pub legal_basis: Option<String>,
    /// How the labels were made.
    pub labelling: Option<String>,
    /// For example "biometric (face images)".
    pub data_category: Option<String>,
    pub security_grade: Option<String>,
    pub cross_border_transfer_assessed: Option<bool>,
    pub cross_border_notes: Option<String>,
    pub contains_personal_data: Option<bool>,
    /// Limitations the data's makers know of.
    pub known_gaps: Option<Vec<String>>,
}

/// How often one value occurs; `share` is of all the manifest's items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ValueCount {
    pub value: String,
    pub count: usize,
    pub share: f64,
}

/// Set when an attribute has more than `validation::inventory::MAX_LISTED_VALUES` distinct values and only the
/// `SUMMARY_TOP` most frequent are listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Truncated {
    pub listed: usize,
    /// Distinct values not listed, and the items that have them.
    pub other_values: usize,
    pub other_items: usize,
    pub other_share: f64,
    pub note: String,
}

/// The values of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttributeCounts {
    pub name: String,
    /// Distinct non-missing values.
    pub distinct: usize,
    pub missing: usize,
    pub missing_share: f64,
    /// By count, most frequent first, then by value.
    pub values: Vec<ValueCount>,
    pub truncated: Option<Truncated>,
}

/// A locale and its number of items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LocaleCount {
    pub locale: String,
    pub count: usize,
}

/// Items of one language (primary subtag), with the locales they carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LanguageCount {
    pub language: String,
    pub count: usize,
    pub share: f64,
    /// Regional locales of these items (from the locale column, or the language column when
    /// its values carry a region), most frequent first.
    pub locales: Vec<LocaleCount>,
}

/// The languages of one manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LanguageCoverage {
    pub column: String,
    pub locale_column: Option<String>,
    /// Items with no language value.
    pub missing: usize,
    pub languages: Vec<LanguageCount>,
}

/// One manifest's inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Dataset {
    /// The manifest path as given.
    pub manifest: String,
    pub sha256: String,
    pub role: Role,
    pub items: usize,
    pub columns: Vec<String>,
    /// The `label` column's values (class balance), when there is one.
    pub label: Option<AttributeCounts>,
    /// Every column but `input` and `label`, in file order.
    pub attributes: Vec<AttributeCounts>,
    pub language_coverage: Option<LanguageCoverage>,
    /// The `manifest` value of the `[[dataset]]` entry that applied, if any.
    pub datasheet_entry: Option<String>,
    /// The datasheet fields that apply (top level, overridden by the entry).
    pub datasheet: DatasheetFields,
    /// Fields the datasheet does not state ("licence not stated").
    pub gaps: Vec<String>,
}

/// Manifests and items of one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RoleTotal {
    pub role: Role,
    pub manifests: usize,
    pub items: usize,
}

/// Totals over all manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Totals {
    pub manifests: usize,
    pub items: usize,
    /// In the order train, validation, test, background; roles with no manifest left out.
    pub by_role: Vec<RoleTotal>,
}

/// One required locale of a market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LocaleCoverage {
    pub locale: String,
    /// Validation items with this locale (or a more specific tag of it).
    pub n: usize,
    /// `n >= min_n`.
    pub sufficient: bool,
    /// Other locales of the same language in the validation data.
    pub same_language: Vec<LocaleCount>,
    /// For a person: "fr-FR missing; fr present as fr-CA (80)".
    pub note: String,
}

/// One required value of an attribute requirement of a market.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ValueCoverage {
    /// The value as the datasheet spells it.
    pub value: String,
    /// Validation items with this value (trimmed, compared without case).
    pub n: usize,
    /// `n >= min_n`.
    pub sufficient: bool,
    /// For a person: "lighting=bright: only 12 (need 30)", "lighting=dusk missing; present
    /// values: dim, normal, bright".
    pub note: String,
}

/// One attribute requirement of a market (`[requirements.EU] lighting = [...]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttributeCoverage {
    /// The attribute (the manifest column).
    pub attribute: String,
    /// The values the market requires, in datasheet order.
    pub required: Vec<String>,
    /// Whether every required value has `min_n` items; `None` when not assessable.
    pub covered: Option<bool>,
    /// One entry per required value (empty when not assessable).
    pub values: Vec<ValueCoverage>,
    /// Why the requirement is not assessable ("no validation manifest has a `skin_tone`
    /// column").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One target market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MarketCoverage {
    pub market: String,
    /// The required locales; empty means no language requirement.
    pub required: Vec<String>,
    /// `true` when every requirement (locales and attribute values) is met, `false` when any
    /// is not, `None` when the market cannot be judged (nothing is assessable, or everything
    /// assessable is met while some requirement is not assessable).
    pub covered: Option<bool>,
    /// One entry per required locale (empty when locales are not assessable).
    pub locales: Vec<LocaleCoverage>,
    /// The market's attribute requirements, in datasheet order (left out when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttributeCoverage>,
    /// "covered — …", "NOT COVERED — …" or "not assessable" (the reason is
    /// [`Coverage::reason`]), "not assessable — …" with what could not be assessed.
    pub verdict: String,
}

/// A value of a required attribute and its number of validation items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ObservedValue {
    /// The value as first spelt in the data (trimmed).
    pub value: String,
    pub count: usize,
}

/// The values of one attribute that some market requires, counted over the validation
/// manifests that have its column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttributeTally {
    pub attribute: String,
    /// Whether some validation manifest has the column.
    pub assessable: bool,
    /// Why not ("no validation manifest has a `skin_tone` column").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The validation manifests whose items were counted.
    pub manifests: Vec<String>,
    /// Items counted, and those among them with no value.
    pub items: usize,
    pub missing: usize,
    /// Every value present, most frequent first, then by value.
    pub values: Vec<ObservedValue>,
}

/// Target-market coverage of the validation data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Coverage {
    /// Whether any market requirement (locales or attribute values) could be assessed.
    pub assessable: bool,
    /// Why coverage is not assessable; when it is (by attribute values), why the markets'
    /// locale requirements are not.
    pub reason: Option<String>,
    /// The locale column(s) read.
    pub columns: Vec<String>,
    pub min_n: usize,
    /// "default" or the datasheet's path.
    pub markets_from: String,
    /// The validation manifests whose items were counted.
    pub manifests: Vec<String>,
    /// Items counted, and those among them with no locale value.
    pub items: usize,
    pub missing: usize,
    /// Every locale in the counted validation data, most frequent first.
    pub locales: Vec<LocaleCount>,
    pub markets: Vec<MarketCoverage>,
    /// Names of markets not covered (empty when not assessable).
    pub not_covered: Vec<String>,
    /// The attributes that the markets' `[requirements]` name, in first-named order, with
    /// their values in the validation data (left out when no market has any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttributeTally>,
}

/// The inventory document (`schema` [`SCHEMA`]). Serialises to byte-for-byte the same JSON
/// for the same inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Inventory {
    pub schema: String,
    pub tool: Tool,
    pub datasheet: Option<FileRef>,
    pub datasets: Vec<Dataset>,
    pub totals: Totals,
    pub coverage: Coverage,
    /// Things a reviewer should know that are no error: train/validation overlap, datasheet
    /// entries that match no manifest, manifests without a locale column.
    pub notes: Vec<String>,
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn top_values(a: &AttributeCounts, k: usize) -> String {
    let mut parts: Vec<String> = a
        .values
        .iter()
        .take(k)
        .map(|v| format!("{} {} ({})", v.value, v.count, percent(v.share)))
        .collect();
    if a.distinct > k {
        parts.push("…".into());
    }
    parts.join(", ")
}

impl Inventory {
    /// A short text table for the terminal: each manifest with its class balance, languages,
    /// attributes and datasheet gaps; totals; and one line per target market, with a plain
    /// "NOT COVERED — …" for each market that is not covered.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Data inventory ({})", self.schema);
        match &self.datasheet {
            Some(d) => {
                let _ = writeln!(s, "Datasheet: {}", d.path);
            }
            None => {
                let _ = writeln!(s, "Datasheet: none given");
            }
        }
        for d in &self.datasets {
            let _ = writeln!(
                s,
                "\n{}  {}  {}  sha256 {}",
                d.role,
                d.manifest,
                plural(d.items, "item", "items"),
                &d.sha256[..d.sha256.len().min(12)]
            );
            if let Some(name) = &d.datasheet.name {
                let _ = writeln!(s, "  name: {name}");
            }
            if let Some(l) = &d.label {
                let _ = writeln!(s, "  label: {}", top_values(l, 6));
            }
            if let Some(lc) = &d.language_coverage {
                let langs: Vec<String> = lc
                    .languages
                    .iter()
                    .map(|l| {
                        let mut t = format!("{} {} ({})", l.language, l.count, percent(l.share));
                        if !l.locales.is_empty() {
                            let _ = write!(t, " [{}]", list_locales(&l.locales));
                        }
                        t
                    })
                    .collect();
                let _ = writeln!(s, "  languages ('{}'): {}", lc.column, langs.join(", "));
            }
            if !d.attributes.is_empty() {
                let width = d
                    .attributes
                    .iter()
                    .map(|a| a.name.len())
                    .max()
                    .unwrap_or(0)
                    .max(9);
                let _ = writeln!(
                    s,
                    "  {:width$}  values  missing  most frequent",
                    "attribute"
                );
                for a in &d.attributes {
                    let _ = writeln!(
                        s,
                        "  {:width$}  {:>6}  {:>7}  {}",
                        a.name,
                        a.distinct,
                        a.missing,
                        top_values(a, 3)
                    );
                }
            }
            if d.gaps.is_empty() {
                let _ = writeln!(s, "  datasheet gaps: none");
            } else {
                let _ = writeln!(s, "  datasheet gaps: {}", d.gaps.join("; "));
            }
            if let Some(k) = &d.datasheet.known_gaps {
                for g in k {
                    let _ = writeln!(s, "  known gap: {g}");
                }
            }
        }
        let roles: Vec<String> = self
            .totals
            .by_role
            .iter()
            .map(|r| {
                format!(
                    "{} {}, {}",
                    r.role,
                    plural(r.manifests, "manifest", "manifests"),
                    plural(r.items, "item", "items")
                )
            })
            .collect();
        let _ = writeln!(s, "\nTotals: {}", roles.join("; "));
        let c = &self.coverage;
        if c.assessable && c.columns.is_empty() {
            // Assessed by attribute values alone.
            let _ = writeln!(
                s,
                "\nTarget-market coverage: at least {} validation items per required value (markets: {})",
                c.min_n, c.markets_from
            );
            if let Some(r) = &c.reason {
                let _ = writeln!(s, "  locales NOT ASSESSABLE — {r}");
            }
        } else if c.assessable {
            let _ = writeln!(
                s,
                "\nTarget-market coverage: {} validation items by {}, at least {} per required locale (markets: {})",
                c.items,
                c.columns
                    .iter()
                    .map(|c| format!("'{c}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                c.min_n,
                c.markets_from
            );
        } else {
            let _ = writeln!(
                s,
                "\nTarget-market coverage: NOT ASSESSABLE — {} (markets: {})",
                c.reason.as_deref().unwrap_or("unknown reason"),
                c.markets_from
            );
        }
        for t in &c.attributes {
            if t.assessable {
                let values: Vec<String> = t
                    .values
                    .iter()
                    .map(|v| format!("{} {}", v.value, v.count))
                    .collect();
                let _ = writeln!(
                    s,
                    "  `{}` in {}: {}{}",
                    t.attribute,
                    plural(t.items, "validation item", "validation items"),
                    if values.is_empty() {
                        "no values".to_string()
                    } else {
                        values.join(", ")
                    },
                    if t.missing > 0 {
                        format!(" ({} missing)", t.missing)
                    } else {
                        String::new()
                    }
                );
            } else {
                let _ = writeln!(
                    s,
                    "  `{}`: NOT ASSESSABLE — {}",
                    t.attribute,
                    t.reason.as_deref().unwrap_or("unknown reason")
                );
            }
        }
        for m in &c.markets {
            let mut what = if m.required.is_empty() {
                "no language requirement".to_string()
            } else {
                m.required.join(", ")
            };
            for a in &m.attributes {
                let _ = write!(what, "; {} {}", a.attribute, a.required.join("/"));
            }
            let _ = writeln!(s, "  {} ({what}): {}", m.market, m.verdict);
        }
        if c.assessable {
            let unjudged: Vec<&str> = (c.markets.iter())
                .filter(|m| m.covered.is_none())
                .map(|m| m.market.as_str())
                .collect();
            if c.not_covered.is_empty() && unjudged.is_empty() {
                let _ = writeln!(s, "All target markets covered.");
            }
            if !c.not_covered.is_empty() {
                let _ = writeln!(s, "Markets not covered: {}", c.not_covered.join(", "));
            }
            if !unjudged.is_empty() {
                let _ = writeln!(s, "Markets not assessable: {}", unjudged.join(", "));
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        s
    }
}

pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(crate) fn list_locales(locales: &[LocaleCount]) -> String {
    locales
        .iter()
        .map(|l| format!("{} ({})", l.locale, l.count))
        .collect::<Vec<_>>()
        .join(", ")
}
