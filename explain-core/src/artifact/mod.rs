//! The documents explain writes, as typed records, and the vocabulary they name.
//!
//! Everything a user consumes is one of four documents: `explain.attributions/1`
//! ([`attributions::Attributions`]), `explain.slices/1`, `explain.inventory/1` and
//! `explain.report/1`. Their record types live here, apart from the computations that fill
//! them, so that the computations (attribution, validation) and the readers (render, report,
//! check) all depend on this folder and never on each other. [`spec`] holds the small
//! vocabulary the records carry (methods, links, budgets, targets, quality settings).

pub mod attributions;
pub mod config;
pub mod inventory;
pub mod report;
pub mod slices;
pub mod spec;

pub mod verdict;

pub use verdict::Verdict;

/// The JSON Schemas of the four documents, generated from their types: `(file name under
/// schemas/, schema)`. `schemas/` holds them as written by [`schema_text`]; a test fails when
/// they differ from these.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    fn of<T: schemars::JsonSchema>(id: &str, title: &str) -> serde_json::Value {
        let mut s = serde_json::to_value(schemars::schema_for!(T)).expect("a schema is JSON");
        s["$id"] = id.into();
        s["title"] = title.into();
        s
    }
    vec![
        (
            "explain.attributions-1.schema.json",
            of::<attributions::Attributions>(attributions::SCHEMA, "An attribution file"),
        ),
        (
            "explain.slices-1.schema.json",
            of::<slices::Document>(slices::SCHEMA, "A validation record (slices.json)"),
        ),
        (
            "explain.inventory-1.schema.json",
            of::<inventory::Inventory>(inventory::SCHEMA, "A data inventory (inventory.json)"),
        ),
        (
            "explain.report-1.schema.json",
            of::<report::Report>(report::SCHEMA, "A report (report.json)"),
        ),
    ]
}

/// A schema as committed: pretty JSON and a final newline.
pub fn schema_text(schema: &serde_json::Value) -> String {
    serde_json::to_string_pretty(schema).expect("a schema is JSON") + "\n"
}
