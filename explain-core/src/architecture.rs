//! The crate's shape, checked: the folders form the one-way order written in the crate docs,
//! and no two files depend on each other, directly or through others.
//!
//! A file's dependencies are the `crate::…`, `super::…` and child-module paths it names
//! outside comments. Each path is resolved to the file of the deepest module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The folders of `src/` in dependency order: a file may use its own folder and the ones
/// before it. Files at the root (`lib.rs`, `error.rs`) come before everything.
const ORDER: [&str; 10] = [
    "util",
    "math",
    "model",
    "input",
    "artifact",
    "attribution",
    "validation",
    "render",
    "report",
    "check",
];

/// A source file's module path (`["attribution", "estimators", "kernel"]`).
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The file holding module `path` (or its deepest existing ancestor), relative to `src`.
fn file_of(src: &Path, path: &[String]) -> Option<PathBuf> {
    for n in (0..=path.len()).rev() {
        let dir: PathBuf = path[..n].iter().collect();
        let candidates = if n == 0 {
            vec![PathBuf::from("lib.rs")]
        } else {
            vec![dir.with_extension("rs"), dir.join("mod.rs")]
        };
        if let Some(f) = candidates.into_iter().find(|c| src.join(c).is_file()) {
            return Some(f);
        }
    }
    None
}

/// The source without comments and string literals (so that doc links and messages naming
/// paths do not count).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path of the use-tree starting at `s` (just after `prefix::`), e.g.
/// `{a::{b, c}, d}` → `a::b`, `a::c`, `d`.
fn use_tree(s: &str) -> Vec<Vec<String>> {
    fn tree(s: &[char], i: &mut usize) -> Vec<Vec<String>> {
        let mut head = Vec::new();
        loop {
            while *i < s.len() && s[*i].is_whitespace() {
                *i += 1;
            }
            if *i < s.len() && s[*i] == '{' {
                *i += 1;
                let mut all = Vec::new();
                loop {
                    for t in tree(s, i) {
                        all.push(head.iter().cloned().chain(t).collect());
                    }
                    while *i < s.len() && s[*i].is_whitespace() {
                        *i += 1;
                    }
                    match s.get(*i) {
                        Some(',') => *i += 1,
                        Some('}') => {
                            *i += 1;
                            break;
                        }
                        _ => break,
                    }
                    while *i < s.len() && s[*i].is_whitespace() {
                        *i += 1;
                    }
                    if s.get(*i) == Some(&'}') {
                        *i += 1;
                        break;
                    }
                }
                return all;
            }
            let start = *i;
            while *i < s.len() && is_ident(s[*i]) {
                *i += 1;
            }
            if start == *i {
                return vec![head];
            }
            head.push(s[start..*i].iter().collect());
            if s.get(*i) == Some(&':') && s.get(*i + 1) == Some(&':') {
                *i += 2;
            } else {
                return vec![head];
            }
        }
    }
    let chars: Vec<char> = s.chars().collect();
    tree(&chars, &mut 0)
}

/// The module paths `code` (the text of the file of module `me`) names, absolute.
fn named_paths(code: &str, me: &[String], children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let text: String = bytes.iter().collect();
    for (pos, _) in text.match_indices("::") {
        // The identifier just before `::`, if it starts the path.
        let mut start = pos;
        while start > 0 && is_ident(text[..start].chars().last().unwrap()) {
            start -= text[..start].chars().last().unwrap().len_utf8();
        }
        let word = &text[start..pos];
        let before = text[..start].chars().last();
        if word.is_empty() || before.is_some_and(|c| c == ':' || is_ident(c) || c == '$') {
            continue;
        }
        let base: Vec<String> = match word {
            "crate" => Vec::new(),
            "super" => me[..me.len().saturating_sub(1)].to_vec(),
            "self" => me.to_vec(),
            w if children.contains(w) => {
                let mut b = me.to_vec();
                b.push(w.to_string());
                b
            }
            _ => continue,
        };
        for p in use_tree(&text[pos + 2..]) {
            out.push(base.iter().cloned().chain(p).collect());
        }
    }
    out
}

fn rank(file: &Path) -> Option<usize> {
    let top = file.iter().next()?.to_str()?;
    ORDER.iter().position(|f| *f == top)
}

/// file → the files it depends on, for every `.rs` file under `src`.
fn graph(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(src, &mut files);
    let mut g = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(src).unwrap().to_path_buf();
        let code = code_only(&std::fs::read_to_string(&f).unwrap());
        // Test modules may reach anywhere.
        let code = match code.find("#[cfg(test)]\nmod tests") {
            Some(i) => code[..i].to_string(),
            None => code,
        };
        let me = module_of(&rel);
        let children: BTreeSet<String> = code
            .lines()
            .filter_map(|l| {
                let l = l
                    .trim()
                    .trim_start_matches("pub ")
                    .trim_start_matches("pub(crate) ");
                l.strip_prefix("mod ")?
                    .strip_suffix(';')
                    .map(str::to_string)
            })
            .collect();
        let deps: BTreeSet<PathBuf> = named_paths(&code, &me, &children)
            .into_iter()
            .filter_map(|p| file_of(src, &p))
            .filter(|d| *d != rel && *d != Path::new("lib.rs"))
            .collect();
        g.insert(rel, deps);
    }
    g
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn folders_depend_only_on_earlier_folders() {
    let g = graph(&src());
    let mut wrong = Vec::new();
    for (file, deps) in &g {
        let Some(r) = rank(file) else { continue };
        for d in deps {
            if rank(d).is_some_and(|rd| rd > r) {
                wrong.push(format!("{} uses {}", file.display(), d.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "dependencies against the order {ORDER:?}:\n{}",
        wrong.join("\n")
    );
    // The order is the one the crate docs state.
    let docs = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    assert!(
        docs.contains(&ORDER.join(" → ")),
        "lib.rs docs must state {}",
        ORDER.join(" → ")
    );
}

#[test]
fn no_two_files_depend_on_each_other() {
    let g = graph(&src());
    // Tarjan-free: a file is in a cycle when it reaches itself.
    let mut cycles = BTreeSet::new();
    for start in g.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(PathBuf, Vec<PathBuf>)> = vec![(start.clone(), vec![start.clone()])];
        while let Some((f, trail)) = stack.pop() {
            for d in g.get(&f).into_iter().flatten() {
                if d == start {
                    let mut c: Vec<String> =
                        trail.iter().map(|p| p.display().to_string()).collect();
                    let min = c
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, s)| (*s).clone())
                        .unwrap()
                        .0;
                    c.rotate_left(min);
                    cycles.insert(c.join(" → "));
                } else if seen.insert(d.clone()) {
                    let mut t = trail.clone();
                    t.push(d.clone());
                    stack.push((d.clone(), t));
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles:\n{}",
        cycles.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_checker_sees_paths_and_cycles() {
    let me = vec!["input".to_string(), "masker".to_string()];
    let children = BTreeSet::new();
    let code = code_only(
        "use crate::{a::{b, c}, d};\n// crate::x\nlet s = \"crate::y\"; super::e::f(); crate::g::h();",
    );
    let got: Vec<String> = named_paths(&code, &me, &children)
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(got, ["a::b", "a::c", "d", "input::e::f", "g::h"]);
    let g = graph(&src());
    // A known edge is seen.
    assert!(g[Path::new("attribution/quality.rs")].contains(Path::new("attribution/explainer.rs")));
}
