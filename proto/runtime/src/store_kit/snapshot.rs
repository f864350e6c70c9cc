//! A rendered layout ([`super::layout`]) compared with the snapshot committed beside the
//! store's tests. A difference fails with the changed lines and what to do: a layout change is
//! a schema change, so it comes with a schema version bump (and an upgrade step for stores
//! already written), and the snapshot is then rewritten ("blessed") with
//! `SOCFED_BLESS=1`.

use std::path::Path;

/// Set to `1` to rewrite the snapshot with what the store holds now.
pub const BLESS_VAR: &str = "SOCFED_BLESS";

/// Most changed lines shown in a failure.
const MAX_SHOWN: usize = 120;

/// What [`check`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// The layout is the committed one.
    Same,
    /// The snapshot was (re)written because [`BLESS_VAR`] is `1`.
    Blessed,
}

/// Compares `actual` with the snapshot at `path`, or rewrites it when [`BLESS_VAR`] is `1`.
/// For the failure message: `schema` names where the store's schema version is, `test` the
/// command that runs this check.
pub fn check(path: &Path, actual: &str, schema: &str, test: &str) -> Result<Checked, String> {
    if std::env::var(BLESS_VAR).is_ok_and(|v| v == "1") {
        std::fs::write(path, actual)
            .map_err(|e| format!("cannot write the snapshot {}: {e}", path.display()))?;
        return Ok(Checked::Blessed);
    }
    let expected = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            return Err(format!(
                "no layout snapshot at {} ({e}); write it with `{BLESS_VAR}=1 {test}` and commit it",
                path.display()
            ));
        }
    };
    if expected == actual {
        return Ok(Checked::Same);
    }
    Err(format!(
        "the stored layout differs from the snapshot {} (- snapshot, + now):\n{}\n\
         A layout change is a schema change: bump the schema version in {schema} (with an \
         upgrade step for stores already written, or a note why none is needed), then rewrite \
         the snapshot with `{BLESS_VAR}=1 {test}` and commit both.",
        path.display(),
        diff(&expected, actual)
    ))
}

/// The changed lines between `old` and `new` (a longest-common-subsequence diff), each under
/// the last `##` heading before it, at most [`MAX_SHOWN`].
pub fn diff(old: &str, new: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out: Vec<String> = Vec::new();
    let (mut i, mut j) = (0, 0);
    // The heading of the section being walked, and of the last one shown.
    let (mut heading, mut shown) = ("", "");
    while i < a.len() || j < b.len() {
        let line = if i < a.len() && j < b.len() && a[i] == b[j] {
            if a[i].starts_with("## ") {
                heading = a[i];
            }
            i += 1;
            j += 1;
            continue;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            i += 1;
            format!("- {}", a[i - 1])
        } else {
            j += 1;
            format!("+ {}", b[j - 1])
        };
        if heading != shown {
            out.push(format!("  {heading}"));
            shown = heading;
        }
        out.push(line);
        if out.len() > MAX_SHOWN {
            out.truncate(MAX_SHOWN);
            out.push("  ...".into());
            break;
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_names_the_changed_lines_and_the_way_out() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("layout.txt");
        let old = "# s\n\n## a: 1 entries\nk\n  = u64 1\n";
        std::fs::write(&path, old)?;
        let test = "cargo test store::layout";
        assert_eq!(check(&path, old, "schema.rs", test), Ok(Checked::Same));
        let new = "# s\n\n## a: 1 entries\nk\n  = u64 2\n";
        let err = check(&path, new, "schema.rs", test).expect_err("differs");
        assert!(err.contains("- snapshot, + now"), "{err}");
        assert!(
            err.contains("  ## a: 1 entries\n-   = u64 1\n+   = u64 2"),
            "{err}"
        );
        assert!(
            err.contains("`SOCFED_BLESS=1 cargo test store::layout`"),
            "{err}"
        );
        assert!(err.contains("schema.rs"), "{err}");
        let missing = check(&dir.path().join("none.txt"), new, "schema.rs", test);
        assert!(missing.is_err_and(|e| e.contains("SOCFED_BLESS=1")));
        Ok(())
    }
}
