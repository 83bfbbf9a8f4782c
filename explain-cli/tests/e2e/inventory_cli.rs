//! `explain inventory` from the command line: the speech sample with its datasheet, and bad
//! input (exit 2, message, nothing written).

use crate::common;

use common::{assert_exit, cli, run_ok, sample};

#[test]
fn speech_inventory_names_the_uncovered_markets() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("inventory.json");
    let args = [
        "inventory",
        &sample("speech/manifest.csv"),
        &format!("background={}", sample("camera/manifest.csv")),
        "--datasheet",
        &sample("speech/datasheet.toml"),
        "--out",
        out.to_str().unwrap(),
    ];
    let doc = run_ok(&args);
    assert_eq!(doc["schema"], "explain.inventory/1");
    assert_eq!(doc["datasets"][0]["role"], "validation");
    assert_eq!(doc["datasets"][0]["items"], 519);
    assert_eq!(doc["datasets"][1]["role"], "background");
    let markets = doc["coverage"]["markets"].as_array().unwrap();
    let covered: Vec<(&str, bool)> = markets
        .iter()
        .map(|m| {
            (
                m["market"].as_str().unwrap(),
                m["covered"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        covered,
        [
            ("EU", false),
            ("US", false),
            ("CA", false),
            ("JP", false),
            ("KR", false)
        ]
    );
    let stdout = String::from_utf8(cli(&args).stdout).unwrap();
    assert!(
        stdout.contains("JP (ja-JP): NOT COVERED") && stdout.contains("en-CA"),
        "{stdout}"
    );
    // Only the en-US locale is required: covered with 104 items.
    let sheet = dir.path().join("us.toml");
    std::fs::write(&sheet, "[markets]\nUS = [\"en_us\"]\n").unwrap();
    let doc = run_ok(&[
        "inventory",
        &sample("speech/manifest.csv"),
        "--datasheet",
        sheet.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(doc["coverage"]["markets"][0]["covered"], true);
    assert_eq!(doc["coverage"]["markets"][0]["locales"][0]["n"], 104);
}

#[test]
fn bad_inventory_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("inventory.json");
    let sheet = dir.path().join("bad.toml");
    std::fs::write(&sheet, "licence = \"MIT\"\nlicense = \"typo\"\n").unwrap();
    let manifest = dir.path().join("m.csv");
    std::fs::write(&manifest, "input,label,locale\ngone.wav,1,ja-JP\n").unwrap();
    let speech = sample("speech/manifest.csv");
    let misspelt = format!("trian={speech}");
    let cases: [(Vec<&str>, Vec<&str>); 3] = [
        (
            vec![&speech, "--datasheet", sheet.to_str().unwrap()],
            vec!["bad.toml", "license"],
        ),
        (
            vec![manifest.to_str().unwrap()],
            vec!["m.csv", "gone.wav (line 2)"],
        ),
        (vec![&misspelt], vec!["unknown data role 'trian'"]),
    ];
    for (extra, expect) in cases {
        let mut args = vec!["inventory"];
        args.extend(extra);
        args.extend(["--out", out.to_str().unwrap()]);
        assert_exit(&cli(&args), 2, &expect);
        assert!(!out.exists());
    }
}

/// A camera-like validation manifest (no locale column) and a datasheet that requires
/// lighting values in every market, sites in EU and skin-tone groups in US.
#[test]
fn attribute_requirements_judge_markets_without_locales() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("input,label,lighting,site\n");
    let rows = [
        ("dim", "plant-A", 32),
        ("normal", "plant-B", 40),
        ("bright", "plant-A", 12),
    ];
    let mut i = 0;
    for (lighting, site, n) in rows {
        for _ in 0..n {
            let name = format!("{i}.png");
            std::fs::write(dir.path().join(&name), b"").unwrap();
            csv += &format!("{name},1,{lighting},{site}\n");
            i += 1;
        }
    }
    let manifest = dir.path().join("val.csv");
    std::fs::write(&manifest, csv).unwrap();
    let sheet = dir.path().join("datasheet.toml");
    std::fs::write(
        &sheet,
        "licence = \"CC0\"\n\n[markets]\nEU = []\nUS = []\nJP = []\n\n\
         [requirements.\"*\"]\nlighting = [\"dim\", \"normal\"]\n\n\
         [requirements.EU]\nsite = [\"plant-A\", \"plant-B\"]\n\n\
         [requirements.US]\nlighting = [\"dim\", \"normal\", \"bright\"]\nskin_tone = [\"I-II\", \"V-VI\"]\n",
    )
    .unwrap();
    let out = dir.path().join("inventory.json");
    let args = [
        "inventory",
        manifest.to_str().unwrap(),
        "--datasheet",
        sheet.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let doc = run_ok(&args);
    let c = &doc["coverage"];
    assert_eq!(c["assessable"], true);
    assert!(c["reason"].is_null(), "{c}");
    let m = &c["markets"];
    assert_eq!(m[0]["market"], "EU");
    assert_eq!(m[0]["required"], serde_json::json!([]));
    assert_eq!(m[0]["covered"], true);
    assert_eq!(
        m[0]["verdict"],
        "covered — lighting dim 32, normal 40; site plant-A 44, plant-B 40 (need 30 each)"
    );
    assert_eq!(m[1]["covered"], false);
    let us = m[1]["verdict"].as_str().unwrap();
    assert!(
        us.starts_with("NOT COVERED — lighting=bright: only 12 (need 30); not assessable — skin_tone: no validation manifest has a `skin_tone` column"),
        "{us}"
    );
    assert_eq!(m[1]["attributes"][1]["attribute"], "skin_tone");
    assert!(m[1]["attributes"][1]["covered"].is_null());
    assert_eq!(m[2]["covered"], true);
    assert_eq!(c["not_covered"], serde_json::json!(["US"]));
    let tallies: Vec<&str> = (c["attributes"].as_array().unwrap().iter())
        .map(|t| t["attribute"].as_str().unwrap())
        .collect();
    assert_eq!(tallies, ["lighting", "site", "skin_tone"]);
    assert_eq!(c["attributes"][2]["assessable"], false);
    let stdout = String::from_utf8(cli(&args).stdout).unwrap();
    assert!(
        stdout.contains(
            "EU (no language requirement; lighting dim/normal; site plant-A/plant-B): covered"
        ) && stdout.contains(
            "`skin_tone`: NOT ASSESSABLE — no validation manifest has a `skin_tone` column"
        ) && stdout.contains("Markets not covered: US\n"),
        "{stdout}"
    );

    // A requirement for a market not in force: exit 2, naming the datasheet and its line.
    std::fs::write(
        &sheet,
        "[markets]\nJP = []\n\n[requirements.KR]\nlighting = [\"dim\"]\n",
    )
    .unwrap();
    std::fs::remove_file(&out).unwrap();
    assert_exit(
        &cli(&args),
        2,
        &[
            "datasheet.toml, line 5: [requirements.KR]: no market 'KR' (markets: JP, from [markets])",
        ],
    );
    assert!(!out.exists());
}
