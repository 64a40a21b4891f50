//! Sensitive values: what the spec gets from `${env:…}` and from variables
//! marked `sensitive: true`. The plan masks them by place (see
//! [`crate::plan::sensitive`]); this module is the net under everything
//! else agentform prints — errors, progress, logs, diagnostics — which passes
//! through [`redact`] and shows `(sensitive value)` wherever one appears.
//!
//! The set is process-wide: it is filled while the spec is interpolated, so
//! every line printed after loading starts (even a load error's) is covered.

use std::borrow::Cow;
use std::sync::RwLock;

/// How a sensitive value is shown.
pub const MASK: &str = "(sensitive value)";

/// Values shorter than this are not searched for in free text: they would
/// match everywhere and hide nothing worth hiding. (The plan still masks
/// them by place.)
pub const MIN_FREE_TEXT: usize = 4;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds a value to the set (no-op for empty ones).
pub fn add(value: &str) {
    if value.is_empty() {
        return;
    }
    if let Ok(mut s) = SECRETS.write()
        && !s.iter().any(|x| x == value)
    {
        s.push(value.to_string());
        // Longest first, so a secret containing another is masked whole.
        s.sort_by_key(|x| std::cmp::Reverse(x.len()));
    }
}

/// The sensitive values known so far.
pub fn values() -> Vec<String> {
    SECRETS.read().map(|s| s.clone()).unwrap_or_default()
}

/// `text` with every sensitive value replaced by [`MASK`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let Ok(secrets) = SECRETS.read() else {
        return Cow::Borrowed(text);
    };
    let hits: Vec<&String> = secrets
        .iter()
        .filter(|s| s.len() >= MIN_FREE_TEXT && text.contains(s.as_str()))
        .collect();
    if hits.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for s in hits {
        out = out.replace(s.as_str(), MASK);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_longest_first_and_leaves_short_values() {
        add("tok-123456");
        add("tok-123456-extended");
        add("ab");
        let text = "a tok-123456 and tok-123456-extended, ab";
        assert_eq!(
            redact(text),
            "a (sensitive value) and (sensitive value), ab"
        );
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
    }
}
