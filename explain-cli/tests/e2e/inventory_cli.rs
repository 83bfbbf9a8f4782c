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
