//! A small JSON Patch (RFC 6902) applier: `add`, `remove`, `replace`, `move`, `copy` and
//! `test` on JSON Pointers (RFC 6901). Object members keep their order (serde_json with
//! `preserve_order`); an added member goes last, so `move` of a member onto itself puts it
//! at the end (a remove followed by an add, as RFC 6902 section 4.4 defines it).

use serde_json::Value;

/// Applies every operation of `patch` (a JSON array) to `doc`, in order; on the first
/// failure `doc` may be partly patched and the error names the operation.
pub fn apply(doc: &mut Value, patch: &Value) -> Result<(), String> {
    let ops = patch.as_array().ok_or("a patch is a JSON array")?;
    for (i, op) in ops.iter().enumerate() {
        apply_one(doc, op).map_err(|e| format!("operation {i} ({op}): {e}"))?;
    }
    Ok(())
}

fn apply_one(doc: &mut Value, op: &Value) -> Result<(), String> {
    let text = |key: &str| {
        op.get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no string `{key}`"))
    };
    let value = || op.get("value").cloned().ok_or("no `value`".to_owned());
    let path = text("path")?;
    match text("op")? {
        "add" => add(doc, path, value()?),
        "remove" => remove(doc, path).map(drop),
        "replace" => {
            let new = value()?;
            let old = doc
                .pointer_mut(path)
                .ok_or_else(|| format!("{path} does not exist"))?;
            *old = new;
            Ok(())
        }
        "move" => {
            let from = text("from")?;
            if path.starts_with(&format!("{from}/")) {
                return Err("cannot move a value into itself".into());
            }
            let moved = remove(doc, from)?;
            add(doc, path, moved)
        }
        "copy" => {
            let copied = get(doc, text("from")?)?.clone();
            add(doc, path, copied)
        }
        "test" => {
            if *get(doc, path)? == value()? {
                Ok(())
            } else {
                Err(format!("{path} is not the tested value"))
            }
        }
        other => Err(format!("unknown op {other:?}")),
    }
}

/// The reference tokens of a JSON Pointer (`~1` is `/`, `~0` is `~`).
fn tokens(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let rest = pointer
        .strip_prefix('/')
        .ok_or_else(|| format!("{pointer:?} does not start with /"))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn get<'v>(doc: &'v Value, pointer: &str) -> Result<&'v Value, String> {
    doc.pointer(pointer)
        .ok_or_else(|| format!("{pointer} does not exist"))
}

/// The parent container of `pointer` and its last token.
fn parent<'v>(doc: &'v mut Value, pointer: &str) -> Result<(&'v mut Value, String), String> {
    let mut tokens = tokens(pointer)?;
    let last = tokens
        .pop()
        .ok_or("the whole document cannot be the target")?;
    let parent_pointer: String = tokens
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect();
    let parent = doc
        .pointer_mut(&parent_pointer)
        .ok_or_else(|| format!("{parent_pointer} does not exist"))?;
    Ok((parent, last))
}

fn index(token: &str, len: usize) -> Result<usize, String> {
    token
        .parse::<usize>()
        .ok()
        .filter(|&i| i < len && (token == "0" || !token.starts_with('0')))
        .ok_or_else(|| format!("{token:?} is not an index below {len}"))
}

fn add(doc: &mut Value, pointer: &str, value: Value) -> Result<(), String> {
    if pointer.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = parent(doc, pointer)?;
    match parent {
        Value::Object(map) => {
            map.shift_remove(&last);
            map.insert(last, value);
            Ok(())
        }
        Value::Array(items) => {
            let at = if last == "-" {
                items.len()
            } else {
                index(&last, items.len() + 1)?
            };
            items.insert(at, value);
            Ok(())
        }
        _ => Err(format!("the parent of {pointer} is not a container")),
    }
}

fn remove(doc: &mut Value, pointer: &str) -> Result<Value, String> {
    let (parent, last) = parent(doc, pointer)?;
    match parent {
        Value::Object(map) => map
            .shift_remove(&last)
            .ok_or_else(|| format!("{pointer} does not exist")),
        Value::Array(items) => {
            let at = index(&last, items.len())?;
            Ok(items.remove(at))
        }
        _ => Err(format!("the parent of {pointer} is not a container")),
    }
}

#[cfg(test)]
mod tests {
    use super::apply;
    use serde_json::json;

    #[test]
    fn every_operation_and_member_order() {
        let mut doc = json!({"a": 1, "b": {"c": [1, 2]}, "z": 0});
        let patch = json!([
            {"op": "add", "path": "/n", "value": true},
            {"op": "move", "from": "/z", "path": "/z"},
            {"op": "add", "path": "/b/c/1", "value": 9},
            {"op": "add", "path": "/b/c/-", "value": 3},
            {"op": "replace", "path": "/a", "value": "x"},
            {"op": "copy", "from": "/b/c", "path": "/d~1e"},
            {"op": "remove", "path": "/b/c/0"},
            {"op": "test", "path": "/d~1e/1", "value": 9}
        ]);
        apply(&mut doc, &patch).unwrap();
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            r#"{"a":"x","b":{"c":[9,2,3]},"n":true,"z":0,"d/e":[1,9,2,3]}"#
        );
        let failing = json!([{"op": "test", "path": "/a", "value": "y"}]);
        assert!(
            apply(&mut doc, &failing)
                .unwrap_err()
                .contains("operation 0")
        );
        let missing = json!([{"op": "remove", "path": "/nope/x"}]);
        assert!(apply(&mut doc, &missing).is_err());
    }
}
