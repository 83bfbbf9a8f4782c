//! The four documents are types: the committed JSON Schemas are the ones generated from the
//! types, and every committed document validates against its schema and reads back into its
//! type to the same bytes (so no field is left untyped).

use explain_core::artifact::{self, attributions::Attributions, inventory::Inventory};
use explain_core::artifact::{report::Report, slices::Document};
use serde::{Serialize, de::DeserializeOwned};
use std::path::{Path, PathBuf};

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

#[test]
fn committed_schemas_are_the_generated_ones() {
    let update = std::env::var_os("EXPLAIN_UPDATE_SCHEMAS").is_some();
    for (name, schema) in artifact::schemas() {
        let path = repo("schemas").join(name);
        let text = artifact::schema_text(&schema);
        if update {
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "{} differs from the schema generated from the types: run \
             EXPLAIN_UPDATE_SCHEMAS=1 cargo test -p explain-core --test integration documents",
            path.display()
        );
    }
}

fn validator(name: &str) -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo("schemas").join(name)).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// `path` validates against schema `name`, and reads into `T` and writes back to the same
/// JSON text (as a value: key order and spacing aside).
fn check<T: DeserializeOwned + Serialize>(path: &Path, name: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let v = validator(name);
    let errors: Vec<String> = v
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{} against {name}:\n{}",
        path.display(),
        errors.join("\n")
    );
    let typed: T = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} does not read as its type: {e}", path.display()));
    // Through text, as the files are written: f32 fields (detection boxes) print as their
    // shortest f32 form, which `to_value` would widen to f64 digits.
    let back: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&typed).unwrap()).unwrap();
    assert!(
        back == value,
        "{} changes when read into its type and written back",
        path.display()
    );
}

#[test]
fn every_committed_document_validates_and_reads_into_its_type() {
    let mut seen = 0;
    for task in ["camera", "detector", "inspection", "speech"] {
        let dir = repo("reports").join(task);
        check::<Report>(&dir.join("report.json"), "explain.report-1.schema.json");
        check::<Document>(&dir.join("slices.json"), "explain.slices-1.schema.json");
        check::<Inventory>(
            &dir.join("inventory.json"),
            "explain.inventory-1.schema.json",
        );
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("attributions-") && name.ends_with(".json") {
                check::<Attributions>(&p, "explain.attributions-1.schema.json");
                seen += 1;
            }
        }
    }
    assert!(seen >= 6, "attribution files found: {seen}");
}

#[test]
fn the_schemas_reject_what_the_types_reject() {
    let v = validator("explain.report-1.schema.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo("reports/camera/report.json")).unwrap())
            .unwrap();
    doc["summary"]["verdict"] = 3.into();
    assert!(!v.is_valid(&doc));
    let v = validator("explain.attributions-1.schema.json");
    let mut doc: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo("reports/camera/attributions-kernel.json")).unwrap(),
    )
    .unwrap();
    doc["method"] = "shapley".into();
    assert!(!v.is_valid(&doc));
}
