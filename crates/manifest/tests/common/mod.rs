//! Shared helpers: load a fixture, and make a broken variant of one by
//! editing it at a JSON pointer.

#![allow(dead_code, clippy::unwrap_used)]

use serde_json::Value;

/// The bytes of `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One change to a fixture.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Set the value at a JSON pointer (its parent must exist).
    Set(&'static str, Value),
    /// Remove the value at a JSON pointer.
    Remove(&'static str),
}

/// The fixture with the edit applied, re-serialized.
pub fn edited(name: &str, edit: &Edit) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(&fixture(name)).unwrap();
    let pointer = match edit {
        Edit::Set(p, _) | Edit::Remove(p) => *p,
    };
    let (parent, last) = pointer.rsplit_once('/').unwrap();
    let last = last.replace("~1", "/").replace("~0", "~");
    let parent = doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{name}: no {parent}"));
    match (edit, parent) {
        (Edit::Set(_, v), Value::Object(map)) => {
            map.insert(last, v.clone());
        }
        (Edit::Set(_, v), Value::Array(items)) => {
            items[last.parse::<usize>().unwrap()] = v.clone();
        }
        (Edit::Remove(_), Value::Object(map)) => {
            map.remove(&last)
                .unwrap_or_else(|| panic!("{name}: no {pointer}"));
        }
        (Edit::Remove(_), Value::Array(items)) => {
            items.remove(last.parse::<usize>().unwrap());
        }
        (_, other) => panic!("{name}: {pointer}'s parent is {other}"),
    }
    serde_json::to_vec_pretty(&doc).unwrap()
}
