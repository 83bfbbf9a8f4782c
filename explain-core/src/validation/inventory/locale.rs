//! Locale tags: whether a value looks like one, the usual casing (`en_us` → `en-US`), its
//! language, and whether an observed locale counts for a required one.
//!
//! Locale values are compared case-insensitively, with `_` read as `-`, and are reported in
//! the usual casing (`en_us` → `en-US`, `zh-hant-tw` → `zh-Hant-TW`). A value counts for a
//! required locale when it equals it or is a more specific tag of it: `en-US-nyc` counts for
//! `en-US`, and every `fr-*` value counts for a required `fr`.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
