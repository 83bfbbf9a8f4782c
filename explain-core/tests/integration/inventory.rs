//! Data inventories: counts, missing values, datasheets, target-market coverage, and the real
//! sample manifests.

use explain_core::validation::inventory::{
    self, Datasheet, Inventory, LocaleCount, Options, Role, build, parse_source_arg,
};
use explain_core::validation::manifest::Manifest;
use std::path::{Path, PathBuf};

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models-sample")
        .join(rel)
}

/// Writes a manifest `name` in `dir` with the given header and rows; the item file of each row
/// (its first cell) is created unless it starts with "gone".
fn write_manifest(dir: &Path, name: &str, header: &str, rows: &[String]) -> Manifest {
    let mut text = format!("{header}\n");
    for r in rows {
        let item = r.split(',').next().unwrap();
        if !item.starts_with("gone") {
            std::fs::write(dir.join(item), b"x").unwrap();
        }
        text += r;
        text.push('\n');
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    Manifest::read(&path).unwrap()
}

/// `n` rows `prefix{i}.wav,1,{locale}`.
fn rows(prefix: &str, locale: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}{i}.wav,1,{locale}"))
        .collect()
}

fn sheet(text: &str, dir: &Path) -> Datasheet {
    let path = dir.join("datasheet.toml");
    std::fs::write(&path, text).unwrap();
    Datasheet::read(&path).unwrap()
}

fn market<'a>(inv: &'a Inventory, name: &str) -> &'a inventory::MarketCoverage {
    inv.coverage
        .markets
        .iter()
        .find(|m| m.market == name)
        .unwrap_or_else(|| panic!("no market {name}"))
}

fn locale<'a>(inv: &'a Inventory, market_name: &str, loc: &str) -> &'a inventory::LocaleCoverage {
    market(inv, market_name)
        .locales
        .iter()
        .find(|l| l.locale == loc)
        .unwrap_or_else(|| panic!("no locale {loc} in {market_name}"))
}

fn lc(locale: &str, count: usize) -> LocaleCount {
    LocaleCount {
        locale: locale.into(),
        count,
    }
}

#[test]
fn counts_shares_and_missing_values_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let cells = ["b", "a", "NA", "a", "", "n/a", "a", "NULL", "c", "b"];
    let rows: Vec<String> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{i}.png,{},{c},x", i % 2))
        .collect();
    let m = write_manifest(dir.path(), "m.csv", "input,label,site,constant", &rows);
    let inv = build(&[(Role::Train, m)], None, &Options::default()).unwrap();
    let d = &inv.datasets[0];
    assert_eq!(d.items, 10);
    assert_eq!(d.role, Role::Train);
    assert_eq!(d.columns, ["input", "label", "site", "constant"]);
    let site = &d.attributes[0];
    assert_eq!(site.name, "site");
    assert_eq!(site.distinct, 3);
    assert_eq!(site.missing, 4);
    assert_eq!(site.missing_share, 0.4);
    let got: Vec<(&str, usize, f64)> = site
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.count, v.share))
        .collect();
    assert_eq!(got, [("a", 3, 0.3), ("b", 2, 0.2), ("c", 1, 0.1)]);
    assert!(site.truncated.is_none());
    assert_eq!(d.attributes[1].values[0].count, 10);
    assert_eq!(d.attributes[1].values[0].share, 1.0);
    // Ties are broken by value: labels 0 and 1 have 5 each.
    let label = d.label.as_ref().unwrap();
    let got: Vec<(&str, usize)> = label
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.count))
        .collect();
    assert_eq!(got, [("0", 5), ("1", 5)]);
    assert!(d.language_coverage.is_none());
    assert_eq!(inv.totals.items, 10);
    assert_eq!(inv.totals.by_role.len(), 1);
    assert_eq!(inv.totals.by_role[0].role, Role::Train);
    // No datasheet: every field is a gap, and that is said first.
    assert_eq!(d.gaps[0], "no datasheet given");
    assert!(
        d.gaps.contains(&"licence not stated".to_string()),
        "{:?}",
        d.gaps
    );
    assert_eq!(d.gaps.len(), 12, "{:?}", d.gaps);
    // No validation data: coverage is not assessable, not an error.
    assert!(!inv.coverage.assessable);
    assert_eq!(
        inv.coverage.reason.as_deref(),
        Some("no validation manifest was given")
    );
    assert!(inv.coverage.markets.iter().all(|m| m.covered.is_none()));
}

#[test]
fn attributes_with_many_values_are_summarised() {
    let dir = tempfile::tempdir().unwrap();
    // 60 speakers: s00 has 5 items, s01..s59 one each.
    let mut r: Vec<String> = (0..5).map(|i| format!("a{i}.wav,1,s00")).collect();
    r.extend((1..60).map(|i| format!("b{i}.wav,1,s{i:02}")));
    let m = write_manifest(dir.path(), "m.csv", "input,label,speaker", &r);
    let inv = build(&[(Role::Validation, m)], None, &Options::default()).unwrap();
    let a = &inv.datasets[0].attributes[0];
    assert_eq!(a.distinct, 60);
    assert_eq!(a.values.len(), 20);
    assert_eq!((a.values[0].value.as_str(), a.values[0].count), ("s00", 5));
    assert_eq!(a.values[1].value, "s01");
    assert_eq!(a.values[19].value, "s19");
    let t = a.truncated.as_ref().unwrap();
    assert_eq!((t.listed, t.other_values, t.other_items), (20, 40, 40));
    assert_eq!(t.other_share, 40.0 / 64.0);
    assert!(t.note.contains("60 distinct values"), "{}", t.note);
}

#[test]
fn default_markets_with_normalised_locales_and_notes() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rows("us", "en_us", 20);
    r.extend(rows("nyc", "EN-US-nyc", 10)); // counts for en-US
    r.extend(rows("es", "es-us", 29));
    r.extend(rows("fc", "fr-ca", 40));
    r.extend(rows("ec", "en-CA", 30));
    r.extend(rows("jp", "JA_jp", 30));
    r.extend(rows("na", "NA", 3)); // missing locale
    let m = write_manifest(dir.path(), "val.csv", "input,label,locale", &r);
    let inv = build(&[(Role::Validation, m)], None, &Options::default()).unwrap();
    let c = &inv.coverage;
    assert!(c.assessable);
    assert_eq!(c.columns, ["locale"]);
    assert_eq!(c.min_n, 30);
    assert_eq!(c.markets_from, "default");
    assert_eq!((c.items, c.missing), (162, 3));
    assert_eq!(
        c.locales,
        [
            lc("fr-CA", 40),
            lc("en-CA", 30),
            lc("ja-JP", 30),
            lc("es-US", 29),
            lc("en-US", 20),
            lc("en-US-nyc", 10)
        ]
    );
    let names: Vec<&str> = c.markets.iter().map(|m| m.market.as_str()).collect();
    assert_eq!(names, ["EU", "US", "CA", "JP", "KR"]);
    assert_eq!(
        market(&inv, "EU").required,
        ["de-DE", "fr-FR", "es-ES", "it-IT", "nl-NL", "pl-PL"]
    );
    // US: en-US 20 + 10 (en-US-nyc) = 30 is enough, es-US 29 is not.
    assert_eq!(locale(&inv, "US", "en-US").n, 30);
    assert!(locale(&inv, "US", "en-US").sufficient);
    assert_eq!(locale(&inv, "US", "es-US").n, 29);
    assert!(!locale(&inv, "US", "es-US").sufficient);
    assert_eq!(market(&inv, "US").covered, Some(false));
    assert_eq!(
        market(&inv, "US").verdict,
        "NOT COVERED — 29 validation items for es-US (need 30)"
    );
    assert_eq!(market(&inv, "CA").covered, Some(true));
    assert_eq!(
        market(&inv, "CA").verdict,
        "covered — en-CA 30, fr-CA 40 (need 30 each)"
    );
    assert_eq!(market(&inv, "JP").covered, Some(true));
    assert_eq!(market(&inv, "KR").covered, Some(false));
    assert_eq!(
        locale(&inv, "KR", "ko-KR").note,
        "ko-KR missing; no ko items"
    );
    // The language present under another locale.
    let fr = locale(&inv, "EU", "fr-FR");
    assert_eq!(fr.n, 0);
    assert_eq!(fr.same_language, [lc("fr-CA", 40)]);
    assert_eq!(fr.note, "fr-FR missing; fr present as fr-CA (40)");
    assert_eq!(
        locale(&inv, "EU", "es-ES").note,
        "es-ES missing; es present as es-US (29)"
    );
    assert_eq!(c.not_covered, ["EU", "US", "KR"]);
    let s = inv.summary();
    assert!(
        s.contains("KR (ko-KR): NOT COVERED — 0 validation items for ko-KR (need 30)\n"),
        "{s}"
    );
    assert!(
        s.contains("JP (ja-JP): covered — ja-JP 30 (need 30 each)"),
        "{s}"
    );
    assert!(s.contains("Markets not covered: EU, US, KR"), "{s}");
    assert!(
        inv.notes.contains(
            &"3 of 162 validation items have no locale value and count for no market".to_string()
        ),
        "{:?}",
        inv.notes
    );
    // Language coverage falls back to the locale column.
    let lang = inv.datasets[0].language_coverage.as_ref().unwrap();
    assert_eq!(lang.column, "locale");
    assert_eq!(lang.missing, 3);
    let en = &lang.languages[0];
    assert_eq!((en.language.as_str(), en.count), ("en", 60));
    assert_eq!(en.share, 60.0 / 162.0);
    assert_eq!(
        en.locales,
        [lc("en-CA", 30), lc("en-US", 20), lc("en-US-nyc", 10)]
    );
}

#[test]
fn datasheet_markets_and_coverage_override_defaults_and_options_override_the_datasheet() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rows("d", "de_DE", 12);
    r.extend(rows("a", "de-at", 9));
    r.extend(rows("f", "fr-BE", 15));
    let m = write_manifest(dir.path(), "val.csv", "input,label,lang_tag", &r);
    let ds = sheet(
        "[markets]\nDACH = [\"de-DE\", \"de-AT\"]\nBE = [\"fr-BE\", \"nl-BE\"]\nFR = [\"fr\"]\n\
         [coverage]\ncolumn = \"lang_tag\"\nmin_n = 10\n",
        dir.path(),
    );
    let sources = [(Role::Validation, m)];
    let inv = build(&sources, Some(&ds), &Options::default()).unwrap();
    let c = &inv.coverage;
    assert_eq!(c.columns, ["lang_tag"]);
    assert_eq!(c.min_n, 10);
    assert_eq!(c.markets_from, ds.path.display().to_string());
    let names: Vec<&str> = c.markets.iter().map(|m| m.market.as_str()).collect();
    assert_eq!(names, ["DACH", "BE", "FR"], "file order, defaults replaced");
    assert_eq!(locale(&inv, "DACH", "de-AT").n, 9);
    assert_eq!(
        market(&inv, "DACH").verdict,
        "NOT COVERED — 9 validation items for de-AT (need 10; de also present as de-DE (12))"
    );
    assert_eq!(
        market(&inv, "BE").verdict,
        "NOT COVERED — 0 validation items for nl-BE (need 10)"
    );
    // A bare language counts every locale of it.
    assert_eq!(locale(&inv, "FR", "fr").n, 15);
    assert_eq!(market(&inv, "FR").covered, Some(true));
    assert_eq!(c.not_covered, ["DACH", "BE"]);
    // The CLI's --min-n wins over the datasheet.
    let opts = Options {
        min_n: Some(9),
        ..Options::default()
    };
    let inv = build(&sources, Some(&ds), &opts).unwrap();
    assert_eq!(inv.coverage.min_n, 9);
    assert_eq!(market(&inv, "DACH").covered, Some(true));
    assert_eq!(inv.coverage.not_covered, ["BE"]);
    // A locale column asked for but absent is an error naming it.
    let opts = Options {
        locale_column: Some("region".into()),
        ..Options::default()
    };
    let e = build(&sources, Some(&ds), &opts).unwrap_err().to_string();
    assert!(
        e.contains("'region' is in no validation manifest") && e.contains("input, label, lang_tag"),
        "{e}"
    );
    let opts = Options {
        min_n: Some(0),
        ..Options::default()
    };
    assert!(build(&sources, Some(&ds), &opts).is_err());
    // Without the datasheet, the default columns do not include lang_tag: not assessable.
    let inv = build(&sources, None, &Options::default()).unwrap();
    assert!(!inv.coverage.assessable);
    let reason = inv.coverage.reason.clone().unwrap();
    assert!(
        reason.starts_with(
            "no validation manifest has a locale column (looked for 'locale' or 'lang_locale' in "
        ) && reason.ends_with("val.csv)"),
        "{reason}"
    );
    assert_eq!(market(&inv, "JP").verdict, "not assessable");
    assert!(
        inv.summary().contains(&format!(
            "Target-market coverage: NOT ASSESSABLE — {reason} (markets: default)\n"
        )),
        "{}",
        inv.summary()
    );
}

#[test]
fn datasheet_fields_entries_and_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let train = write_manifest(
        dir.path(),
        "train.csv",
        "input,label,locale",
        &rows("t", "en-US", 3),
    );
    let val = write_manifest(
        dir.path(),
        "val.csv",
        "input,label,locale",
        &rows("v", "en-US", 2),
    );
    let ds = sheet(
        r#"
name = "Voices"
origin = "studio recordings"
licence = "CC BY 4.0"
contains_personal_data = true
known_gaps = ["no children"]
collection_geography = []

[[dataset]]
manifest = "train.csv"
role = "train"
licence = "proprietary"
known_gaps = ["one studio"]

[[dataset]]
manifest = "other.csv"
"#,
        dir.path(),
    );
    let inv = build(
        &[(Role::Train, train), (Role::Validation, val)],
        Some(&ds),
        &Options::default(),
    )
    .unwrap();
    let (t, v) = (&inv.datasets[0], &inv.datasets[1]);
    assert_eq!(t.datasheet_entry.as_deref(), Some("train.csv"));
    assert_eq!(t.datasheet.licence.as_deref(), Some("proprietary"));
    assert_eq!(t.datasheet.name.as_deref(), Some("Voices"));
    assert_eq!(
        t.datasheet.known_gaps,
        Some(vec!["no children".to_string(), "one studio".to_string()])
    );
    assert_eq!(v.datasheet_entry, None);
    assert_eq!(v.datasheet.licence.as_deref(), Some("CC BY 4.0"));
    assert_eq!(
        v.gaps,
        [
            "collection period not stated",
            "collection geography not stated",
            "legal basis (consent) not stated although the data contains personal data",
            "labelling procedure not stated",
            "data category not stated",
            "security grade not stated",
            "cross-border transfer assessment not stated"
        ]
    );
    assert_eq!(
        inv.notes,
        [format!(
            "datasheet {}: [[dataset]] entry for 'other.csv' matches none of the manifests given",
            ds.path.display()
        )]
    );
    assert_eq!(
        inv.datasheet.as_ref().unwrap().sha256.len(),
        64,
        "the datasheet's hash is recorded"
    );
    let roles: Vec<(Role, usize, usize)> = inv
        .totals
        .by_role
        .iter()
        .map(|r| (r.role, r.manifests, r.items))
        .collect();
    assert_eq!(roles, [(Role::Train, 1, 3), (Role::Validation, 1, 2)]);
    assert_eq!((inv.totals.manifests, inv.totals.items), (2, 5));

    // The datasheet says train.csv is training data; giving it as validation is an error.
    let again = Manifest::read(&dir.path().join("train.csv")).unwrap();
    let e = build(&[(Role::Validation, again)], Some(&ds), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("describes manifest 'train.csv' as train data") && e.contains("train="),
        "{e}"
    );
}

#[test]
fn unknown_datasheet_keys_are_errors_naming_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sheet.toml");
    for (text, key) in [
        ("licence = \"MIT\"\nlicense = \"MIT\"\n", "license"),
        (
            "[[dataset]]\nmanifest = \"m.csv\"\norigin_url = \"x\"\n",
            "origin_url",
        ),
        ("[coverage]\nmin_count = 3\n", "min_count"),
    ] {
        std::fs::write(&path, text).unwrap();
        let e = Datasheet::read(&path).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let e = e.to_string();
        assert!(e.contains("sheet.toml") && e.contains(key), "{e}");
    }
    std::fs::write(&path, "cross_border_transfer_assessed = \"yes\"\n").unwrap();
    let e = Datasheet::read(&path).unwrap_err().to_string();
    assert!(
        e.contains("sheet.toml") && e.contains("cross_border_transfer_assessed"),
        "{e}"
    );
    std::fs::write(
        &path,
        "[[dataset]]\nmanifest = \"m.csv\"\nrole = \"training\"\n",
    )
    .unwrap();
    let e = Datasheet::read(&path).unwrap_err().to_string();
    assert!(e.contains("sheet.toml") && e.contains("training"), "{e}");
    std::fs::write(&path, "[coverage]\nmin_n = 0\n").unwrap();
    let e = Datasheet::read(&path).unwrap_err().to_string();
    assert!(
        e.contains("sheet.toml") && e.contains("min_n must be at least 1"),
        "{e}"
    );
    let e = Datasheet::read(&dir.path().join("none.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot read datasheet") && e.contains("none.toml"),
        "{e}"
    );
}

#[test]
fn missing_item_files_are_all_listed() {
    let dir = tempfile::tempdir().unwrap();
    let r = vec![
        "ok.wav,1,en-US".to_string(),
        "gone1.wav,1,en-US".to_string(),
        "gone2.wav,0,en-US".to_string(),
    ];
    let m = write_manifest(dir.path(), "m.csv", "input,label,locale", &r);
    let e = build(&[(Role::Validation, m)], None, &Options::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let e = e.to_string();
    assert!(
        e.contains("m.csv")
            && e.contains("2 of 3")
            && e.contains("gone1.wav (line 3)")
            && e.contains("gone2.wav (line 4)"),
        "{e}"
    );
    assert!(build(&[], None, &Options::default()).is_err());
}

#[test]
fn shared_item_files_between_roles_are_noted() {
    let dir = tempfile::tempdir().unwrap();
    let train = write_manifest(
        dir.path(),
        "train.csv",
        "input,label,locale",
        &rows("x", "en-US", 4),
    );
    let val = write_manifest(
        dir.path(),
        "val.csv",
        "input,label,locale",
        &rows("x", "en-US", 2),
    );
    let inv = build(
        &[
            (Role::Train, train.clone()),
            (Role::Validation, val),
            (Role::Test, train),
        ],
        None,
        &Options::default(),
    )
    .unwrap();
    let t = dir.path().join("train.csv").display().to_string();
    let v = dir.path().join("val.csv").display().to_string();
    assert_eq!(
        inv.notes,
        [
            format!("2 item files of validation manifest {v} also in train manifest {t}"),
            format!("manifest {t} is given twice (as train and as test)"),
            format!("2 item files of test manifest {t} also in validation manifest {v}"),
        ]
    );
}

#[test]
fn json_is_deterministic() {
    let path = sample("speech/manifest.csv");
    let ds = Datasheet::read(&sample("speech/datasheet.toml")).unwrap();
    let run = || {
        let m = Manifest::read(&path).unwrap();
        let inv = build(&[(Role::Validation, m)], Some(&ds), &Options::default()).unwrap();
        serde_json::to_vec_pretty(&inv).unwrap()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(v["schema"], "explain.inventory/1");
    assert_eq!(v["datasets"][0]["role"], "validation");
    assert_eq!(v["coverage"]["markets"][3]["market"], "JP");
    assert_eq!(v["coverage"]["markets"][3]["covered"], false);
}

#[test]
fn speech_sample_inventory() {
    let (role, path) = parse_source_arg(sample("speech/manifest.csv").to_str().unwrap()).unwrap();
    assert_eq!(role, Role::Validation);
    let m = Manifest::read(&path).unwrap();
    let ds = Datasheet::read(&sample("speech/datasheet.toml")).unwrap();
    let inv = build(&[(role, m)], Some(&ds), &Options::default()).unwrap();
    let d = &inv.datasets[0];
    assert_eq!(d.items, 519);
    let label = d.label.as_ref().unwrap();
    assert_eq!(
        (label.values[0].value.as_str(), label.values[0].count),
        ("1", 390)
    );
    assert_eq!(label.values[1].count, 129);
    let kind = d.attributes.iter().find(|a| a.name == "kind").unwrap();
    let got: Vec<(&str, usize)> = kind
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.count))
        .collect();
    assert_eq!(
        got,
        [
            ("speech", 390),
            ("pause", 89),
            ("tone", 20),
            ("chime", 10),
            ("animal", 5),
            ("silence", 5)
        ]
    );
    assert_eq!(kind.values[0].share, 390.0 / 519.0);
    assert!(d.attributes.iter().all(|a| a.missing == 0));
    let clip = d.attributes.iter().find(|a| a.name == "clip").unwrap();
    assert_eq!((clip.distinct, clip.values.len()), (430, 20));
    assert!(clip.truncated.is_some());
    let lang = d.language_coverage.as_ref().unwrap();
    assert_eq!(
        (lang.column.as_str(), lang.locale_column.as_deref()),
        ("language", Some("locale"))
    );
    let langs: Vec<(&str, usize)> = lang
        .languages
        .iter()
        .map(|l| (l.language.as_str(), l.count))
        .collect();
    assert_eq!(
        langs,
        [("en", 176), ("es", 86), ("fr", 86), ("ru", 86), ("it", 85)]
    );
    assert_eq!(
        lang.languages[0].locales,
        [lc("en-US", 104), lc("en-GB", 60), lc("en-029", 12)]
    );
    // The datasheet: stated fields are not gaps, left-out ones are.
    assert!(
        d.datasheet
            .licence
            .as_deref()
            .unwrap()
            .contains("CC BY-SA 3.0")
    );
    assert_eq!(
        d.gaps,
        [
            "collection period not stated",
            "collection geography not stated",
            "legal basis (consent) not stated",
            "security grade not stated",
            "cross-border transfer assessment not stated"
        ]
    );

    let c = &inv.coverage;
    assert!(c.assessable);
    assert_eq!((c.items, c.missing, c.min_n), (519, 0, 30));
    // CA: fr-CA 80 but en-CA 0.
    assert_eq!(locale(&inv, "CA", "fr-CA").n, 80);
    assert_eq!(locale(&inv, "CA", "en-CA").n, 0);
    assert_eq!(
        locale(&inv, "CA", "en-CA").note,
        "en-CA missing; en present as en-US (104), en-GB (60), en-029 (12)"
    );
    assert_eq!(market(&inv, "CA").covered, Some(false));
    // US: en-US 104, es-US 0.
    assert_eq!(locale(&inv, "US", "en-US").n, 104);
    assert_eq!(locale(&inv, "US", "es-US").n, 0);
    assert_eq!(
        market(&inv, "US").verdict,
        "NOT COVERED — 0 validation items for es-US (need 30; es present as es-MX (80), es-419 (6))"
    );
    // EU: it-IT 85 is enough, fr-FR has only 6 (synthetic), de/nl/pl and es-ES none.
    assert_eq!(locale(&inv, "EU", "it-IT").n, 85);
    assert!(locale(&inv, "EU", "it-IT").sufficient);
    assert_eq!(
        locale(&inv, "EU", "fr-FR").note,
        "fr-FR: only 6 (need 30); fr also present as fr-CA (80)"
    );
    assert_eq!(
        locale(&inv, "EU", "de-DE").note,
        "de-DE missing; no de items"
    );
    assert_eq!(market(&inv, "JP").locales[0].n, 0);
    assert_eq!(c.not_covered, ["EU", "US", "CA", "JP", "KR"]);
    let s = inv.summary();
    assert!(
        s.contains("JP (ja-JP): NOT COVERED — 0 validation items for ja-JP (need 30)\n"),
        "{s}"
    );
    assert!(
        s.contains("KR (ko-KR): NOT COVERED — 0 validation items for ko-KR (need 30)\n"),
        "{s}"
    );
    assert!(inv.notes.is_empty(), "{:?}", inv.notes);
}

#[test]
fn camera_sample_markets_are_judged_on_capture_conditions_and_skin_tone_is_not_assessable() {
    let m = Manifest::read(&sample("camera/manifest.csv")).unwrap();
    let ds = Datasheet::read(&sample("camera/datasheet.toml")).unwrap();
    let inv = build(&[(Role::Validation, m)], Some(&ds), &Options::default()).unwrap();
    let d = &inv.datasets[0];
    assert_eq!(d.items, 1400);
    let names: Vec<&str> = d.attributes.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["source", "lighting", "blur", "noise", "condition"]);
    let lighting = &d.attributes[1];
    let got: Vec<(&str, usize)> = lighting
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.count))
        .collect();
    assert_eq!(got, [("normal", 1000), ("bright", 200), ("dim", 200)]);
    assert_eq!(lighting.values[0].share, 1000.0 / 1400.0);
    assert_eq!(d.attributes[4].distinct, 7);
    assert!(d.attributes[4].values.iter().all(|v| v.count == 200));
    assert!(d.language_coverage.is_none());
    assert_eq!(d.label.as_ref().unwrap().values[0].count, 700);
    assert!(
        d.datasheet
            .data_category
            .as_deref()
            .unwrap()
            .starts_with("biometric")
    );
    assert!(
        d.gaps
            .contains(&"legal basis (consent) not stated".to_string())
    );
    assert!(!d.gaps.iter().any(|g| g.starts_with("licence")));
    // The datasheet's markets need no language and require capture conditions, which the
    // data covers, and skin-tone groups, which it has no column for: every market is then
    // not assessable, and nothing is counted as covered.
    let c = &inv.coverage;
    assert!(c.assessable);
    assert_eq!(c.markets.len(), 5);
    assert!(c.not_covered.is_empty());
    for m in &c.markets {
        assert!(m.required.is_empty(), "{}", m.market);
        assert_eq!(m.covered, None, "{}", m.market);
        assert!(
            m.verdict.starts_with(
                "not assessable — skin_tone: no validation manifest has a `skin_tone` column"
            ),
            "{}",
            m.verdict
        );
        assert!(
            m.verdict.contains("noise none 1000, low 200, high 200"),
            "{}",
            m.verdict
        );
    }
    let s = inv.summary();
    assert!(
        s.contains("Markets not assessable: EU, US, CA, JP, KR"),
        "{s}"
    );
}

#[test]
fn inspection_sample_inventory() {
    let m = Manifest::read(&sample("inspection/manifest.csv")).unwrap();
    let ds = Datasheet::read(&sample("inspection/datasheet.toml")).unwrap();
    let inv = build(&[(Role::Validation, m)], Some(&ds), &Options::default()).unwrap();
    let d = &inv.datasets[0];
    assert_eq!(d.items, 480);
    let kinds = d
        .attributes
        .iter()
        .find(|a| a.name == "defect_kind")
        .unwrap();
    let got: Vec<(&str, usize)> = kinds
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.count))
        .collect();
    assert_eq!(
        got,
        [("none", 240), ("scratch", 84), ("spot", 84), ("crack", 72)]
    );
    assert_eq!(kinds.values[3].share, 0.15);
    let site = d.attributes.iter().find(|a| a.name == "site").unwrap();
    assert!(site.values.iter().all(|v| v.count == 160));
    // Every market requires each lighting condition, site and defect kind: all are covered.
    let c = &inv.coverage;
    assert!(c.assessable);
    assert!(c.not_covered.is_empty());
    assert_eq!(c.markets.len(), 5);
    for m in &c.markets {
        assert_eq!(m.covered, Some(true), "{}", m.verdict);
        assert!(
            m.verdict
                .contains("defect_kind scratch 84, spot 84, crack 72"),
            "{}",
            m.verdict
        );
    }
    assert!(inv.summary().contains("All target markets covered."));
    assert_eq!(d.gaps.len(), 5, "{:?}", d.gaps);
}
