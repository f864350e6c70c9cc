//! The stored layout of a whole sled database as deterministic text: every tree (by name),
//! every entry's key shape and value (empty, a raw value, or a versioned record with its
//! version byte, its type and its fields). The store says what each entry is (a describer,
//! usually beside its `check.rs`); this module walks the database and renders it.
//!
//! What changes run to run is normalised so the text only changes when the layout does: ids
//! (ULIDs, in keys, values and text) become `<ulid>`, non-zero `*_ms` fields `<ms>`, byte
//! arrays of 16 or 32 (hashes, fingerprints, raw ids) `<16 bytes>`/`<32 bytes>`, 64 hex
//! digits `<hex64>`. Entries are sorted by their rendering within each tree, since the order of
//! random ids is not stable either.

use super::Codec;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What one stored value is, as its store describes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    /// No value (index entries).
    Empty,
    /// A raw value, rendered (`u64 3`, `<ms>`, `<ulid>`, ...).
    Raw(String),
    /// A versioned record: its version byte, its type, and the record as JSON.
    Record {
        version: u8,
        type_name: &'static str,
        json: Value,
    },
}

/// Shows a record of `tree` as type `V`, with the tree's own codec.
pub fn tree_record<V: DeserializeOwned + Serialize>(
    tree: impl super::TreeSet,
    type_name: &'static str,
    bytes: &[u8],
) -> Result<Shown, String> {
    record::<V>(tree.codec(), type_name, bytes)
}

/// Shows a record of `codec`'s tree as type `V`: its version byte and its fields.
pub fn record<V: DeserializeOwned + Serialize>(
    codec: Codec,
    type_name: &'static str,
    bytes: &[u8],
) -> Result<Shown, String> {
    let value: V = codec.decode(bytes).map_err(|e| e.to_string())?;
    let json = serde_json::to_value(&value).map_err(|e| e.to_string())?;
    Ok(Shown::Record {
        version: codec.version,
        type_name,
        json,
    })
}

/// Renders a key part by part (`KeyShape::new(key).text_nul().ulid().finish()`), the
/// volatile parts normalised; an error if the key is shorter or longer than its shape.
pub struct KeyShape<'a> {
    rest: &'a [u8],
    parts: Vec<String>,
    short: bool,
}

impl<'a> KeyShape<'a> {
    pub fn new(key: &'a [u8]) -> Self {
        Self {
            rest: key,
            parts: Vec::new(),
            short: false,
        }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            self.short = true;
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }

    /// The rest of the key as text (a name, a fixed key).
    pub fn text(mut self) -> Self {
        let text = String::from_utf8_lossy(self.rest).into_owned();
        self.rest = &[];
        self.parts.push(format!("{:?}", normalise_text(&text)));
        self
    }

    /// Text up to a 0x00 separator, and the separator.
    pub fn text_nul(mut self) -> Self {
        match self.rest.iter().position(|b| *b == 0) {
            Some(end) => {
                let text = String::from_utf8_lossy(&self.rest[..end]).into_owned();
                self.rest = &self.rest[end + 1..];
                self.parts.push(format!("{:?}", normalise_text(&text)));
                self.parts.push("00".into());
            }
            None => self.short = true,
        }
        self
    }

    /// A 16-byte id.
    pub fn ulid(mut self) -> Self {
        if self.take(16).is_some() {
            self.parts.push("<ulid>".into());
        }
        self
    }

    /// A u64 BE whose value is part of the layout (a sequence number).
    pub fn u64(mut self, what: &str) -> Self {
        if let Some(raw) = self.take(8) {
            let mut be = [0; 8];
            be.copy_from_slice(raw);
            self.parts
                .push(format!("{what} {}", u64::from_be_bytes(be)));
        }
        self
    }

    /// A u64 BE of milliseconds.
    pub fn ms(mut self) -> Self {
        if self.take(8).is_some() {
            self.parts.push("<ms>".into());
        }
        self
    }

    /// `n` bytes of a hash, fingerprint or other opaque id.
    pub fn opaque(mut self, n: usize) -> Self {
        if self.take(n).is_some() {
            self.parts.push(format!("<{n} bytes>"));
        }
        self
    }

    /// One byte whose value is part of the layout (a status code).
    pub fn byte(mut self, what: &str) -> Self {
        if let Some(raw) = self.take(1) {
            self.parts.push(format!("{what} {}", raw[0]));
        }
        self
    }

    pub fn finish(self) -> Result<String, String> {
        if self.short {
            return Err(format!(
                "key shorter than its shape ({})",
                self.parts.join(" ++ ")
            ));
        }
        if !self.rest.is_empty() {
            return Err(format!(
                "{} bytes left after its shape ({})",
                self.rest.len(),
                self.parts.join(" ++ ")
            ));
        }
        Ok(self.parts.join(" ++ "))
    }
}

/// A describer: what an entry of a tree is (its key shape and its value), or why it is not
/// one of the store's.
pub type Describe<'a> = dyn Fn(&str, &[u8], &[u8]) -> Result<(String, Shown), String> + 'a;

/// The whole database as text: `title`, then every tree by name with its entries. sled's
/// default tree is listed only when something is in it.
pub fn render(db: &sled::Db, title: &str, describe: &Describe) -> Result<String, sled::Error> {
    let mut names: Vec<String> = db
        .tree_names()
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    names.sort();
    let mut out = format!("# {title}\n");
    for name in names {
        let tree = db.open_tree(&name)?;
        if name == "__sled__default" && tree.is_empty() {
            continue;
        }
        let mut entries = Vec::new();
        for entry in tree.iter() {
            let (key, value) = entry?;
            entries.push(render_entry(&name, &key, &value, describe));
        }
        entries.sort();
        out.push_str(&format!("\n## {name}: {} entries\n", entries.len()));
        for entry in entries {
            out.push_str(&entry);
        }
    }
    Ok(out)
}

fn render_entry(tree: &str, key: &[u8], value: &[u8], describe: &Describe) -> String {
    match describe(tree, key, value) {
        Ok((key, Shown::Empty)) => format!("{key}\n  = empty\n"),
        Ok((key, Shown::Raw(raw))) => format!("{key}\n  = {raw}\n"),
        Ok((
            key,
            Shown::Record {
                version,
                type_name,
                json,
            },
        )) => {
            let json = serde_json::to_string_pretty(&normalise(json)).unwrap_or_default();
            let body = json.replace('\n', "\n    ");
            format!("{key}\n  = v{version} {type_name}\n    {body}\n")
        }
        Err(problem) => format!(
            "!! {} bytes of key, {} of value: {problem}\n",
            key.len(),
            value.len()
        ),
    }
}

/// A record's fields with what changes run to run replaced (see the module docs).
pub fn normalise(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::Number(n) if k.ends_with("_ms") && n.as_f64() != Some(0.0) => {
                            Value::String("<ms>".into())
                        }
                        other => normalise(other),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) if matches!(items.len(), 16 | 32) && items.iter().all(is_byte) => {
            Value::String(format!("<{} bytes>", items.len()))
        }
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        Value::String(s) => Value::String(normalise_text(&s)),
        other => other,
    }
}

fn is_byte(value: &Value) -> bool {
    value.as_u64().is_some_and(|n| n <= 255)
}

/// `text` with every ULID (26 Crockford base-32 digits) made `<ulid>` and every run of 64 hex
/// digits `<hex64>`, each only where it stands as a word of its own.
pub fn normalise_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            out.push_str(&normalise_word(&word));
            word.clear();
            out.push(c);
        }
    }
    out.push_str(&normalise_word(&word));
    out
}

fn normalise_word(word: &str) -> String {
    let crockford = |c: char| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"ILOU".contains(c));
    if word.len() == 26 && word.chars().all(crockford) && word.starts_with(|c: char| c <= '7') {
        "<ulid>".into()
    } else if word.len() == 64 && word.chars().all(|c| c.is_ascii_hexdigit()) {
        "<hex64>".into()
    } else {
        word.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::Demo;
    use super::super::{TreeSet, Trees};
    use super::*;

    #[test]
    fn volatile_parts_are_normalised_and_the_rest_kept() {
        let json = serde_json::json!({
            "id": "01HZX3N8Q6V5Y2J9K7M4P1R0ST",
            "title": "INC-01HZX3N8Q6V5Y2J9K7M4P1R0ST beacon",
            "at_ms": 1_700_000_000_000u64,
            "watch_until_ms": 0,
            "hash": vec![7u8; 32],
            "hosts": ["web-1"],
            "count": 3,
        });
        let normal = normalise(json);
        assert_eq!(normal["id"], "<ulid>");
        assert_eq!(normal["title"], "INC-<ulid> beacon");
        assert_eq!(normal["at_ms"], "<ms>");
        assert_eq!(normal["watch_until_ms"], 0);
        assert_eq!(normal["hash"], "<32 bytes>");
        assert_eq!(normal["hosts"][0], "web-1");
        assert_eq!(normal["count"], 3);
        assert_eq!(normalise_text(&"ab".repeat(32)), "<hex64>");
    }

    #[test]
    fn keys_render_by_shape_and_a_wrong_length_is_named() {
        let mut key = b"alice\0".to_vec();
        key.extend_from_slice(&[1; 16]);
        assert_eq!(
            KeyShape::new(&key).text_nul().ulid().finish(),
            Ok("\"alice\" ++ 00 ++ <ulid>".to_string())
        );
        assert!(KeyShape::new(&key).text_nul().finish().is_err());
        assert!(
            KeyShape::new(&key[..10])
                .text_nul()
                .ulid()
                .finish()
                .is_err()
        );
        let seq = 5u64.to_be_bytes();
        assert_eq!(KeyShape::new(&seq).u64("seq").finish(), Ok("seq 5".into()));
    }

    #[test]
    fn the_rendering_is_sorted_per_tree_and_shows_what_it_cannot_read() -> anyhow::Result<()> {
        let db = sled::Config::new().temporary(true).open()?;
        let trees = Trees::<Demo>::open(&db)?;
        let items = Demo::Items.codec();
        for id in [[9; 16], [1; 16]] {
            trees
                .tree(Demo::Items)
                .insert(id, items.encode(&"thing".to_string())?)?;
        }
        trees.tree(Demo::Meta).insert("bad", vec![1, 2])?;
        let describe = |tree: &str, key: &[u8], value: &[u8]| match Demo::by_name(tree) {
            Some(Demo::Items) => Ok((
                KeyShape::new(key).ulid().finish()?,
                record::<String>(items, "String", value)?,
            )),
            _ => Err(format!("not described: {tree}")),
        };
        let text = render(&db, "demo", &describe)?;
        assert_eq!(
            text,
            "# demo\n\n## index: 0 entries\n\n## items: 2 entries\n\
             <ulid>\n  = v2 String\n    \"thing\"\n<ulid>\n  = v2 String\n    \"thing\"\n\
             \n## meta: 1 entries\n!! 3 bytes of key, 2 of value: not described: meta\n"
        );
        Ok(())
    }
}
