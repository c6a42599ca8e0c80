//! Setting one field of a scenario by path, for `--set path=v1,v2` and the
//! `sweep` section: "network.default.loss", "faults.schedule[0].at",
//! "protocol.ack_before_sync" (a protocol's params may skip its name).
//!
//! The scenario is turned into a JSON tree, the field is replaced, and the
//! tree is read back, so the new value gets the same type checks as a file.

use crate::scenario::Scenario;
use serde_json::Value as Json;

/// Path segments at most (paths come from users).
const PATH_SEGMENTS_MAX: usize = 32;

/// A copy of `scenario` with the field at `path` set to `value`.
pub fn apply(scenario: &Scenario, path: &str, value: ron::Value) -> Result<Scenario, String> {
    let mut tree = serde_json::to_value(scenario).map_err(|e| e.to_string())?;
    let new = serde_json::to_value(&value).map_err(|e| format!("value cannot be used: {e}"))?;
    let slot = locate(&mut tree, path)?;
    *slot = new;
    serde_json::from_value::<Scenario>(tree).map_err(|e| {
        format!(
            "cannot set `{path}` to {}: {}",
            render(&value),
            with_suggestion(&e.to_string())
        )
    })
}

/// serde's "unknown field `x`, expected `a` or `b`" (or variant), with a
/// "did you mean" when one of the expected names is close to `x`.
fn with_suggestion(message: &str) -> String {
    let named = message.starts_with("unknown field `") || message.starts_with("unknown variant `");
    let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    match (named, quoted.split_first()) {
        (true, Some((found, expected))) => {
            match crate::error::closest(found, expected.iter().copied()) {
                Some(best) => format!("{message}; did you mean `{best}`?"),
                None => message.to_string(),
            }
        }
        _ => message.to_string(),
    }
}

/// Renders a value as RON text, for messages and group labels.
pub fn render(value: &ron::Value) -> String {
    ron::to_string(value).unwrap_or_else(|_| format!("{value:?}"))
}

/// Parses a `--set` argument "path=v1,v2,..." into the path and its values.
/// A value that is not valid RON is taken as a string, so `duration=5s` works.
pub fn parse_assignment(text: &str) -> Result<(String, Vec<ron::Value>), String> {
    let (path, values) = text
        .split_once('=')
        .ok_or_else(|| format!("--set \"{text}\": write path=value or path=v1,v2,... (e.g. network.default.loss=0,0.1)"))?;
    let path = path.trim();
    if path.is_empty() {
        return Err(format!("--set \"{text}\": the path is empty"));
    }
    let parsed = split_top_level(values)
        .into_iter()
        .map(|v| parse_value(v.trim()))
        .collect::<Vec<_>>();
    if parsed.is_empty() {
        return Err(format!("--set \"{text}\": give at least one value"));
    }
    Ok((path.to_string(), parsed))
}

/// One value: RON, except that a bare word (`Fifo`, `5s`) is a string, which
/// is how unit enum variants and durations are read back. A variant with
/// data is written as a map: `{"PowerLoss": "n1"}`.
fn parse_value(text: &str) -> ron::Value {
    let bare_word = text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(text, "true" | "false");
    if bare_word {
        return ron::Value::String(text.to_string());
    }
    crate::dialect::ron_options()
        .from_str::<ron::Value>(text)
        .unwrap_or_else(|_| ron::Value::String(text.to_string()))
}

/// Splits at commas outside brackets and quotes.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    for (index, ch) in text.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            '(' | '[' | '{' if !quoted => depth += 1,
            ')' | ']' | '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn locate<'a>(tree: &'a mut Json, path: &str) -> Result<&'a mut Json, String> {
    let segments: Vec<&str> = path.split('.').collect();
    if segments.len() > PATH_SEGMENTS_MAX || segments.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "`{path}` is not a field path; write e.g. network.default.loss"
        ));
    }
    let mut node = tree;
    let last = segments.len() - 1;
    for (position, segment) in segments.into_iter().enumerate() {
        let (name, indices) = split_indices(segment)
            .ok_or_else(|| format!("bad index in `{segment}`; write e.g. schedule[0]"))?;
        let siblings = field_names(node);
        let (found, absent) = descend(node, name, path)?;
        if absent && (position < last || !indices.is_empty()) {
            // Only a field left at its default may be absent, and such a
            // field's value is never walked into: this one is misspelled.
            let hint = match crate::error::closest(name, siblings.iter().map(String::as_str)) {
                Some(best) => format!("; did you mean `{best}`?"),
                None if siblings.is_empty() => String::new(),
                None => format!("; the fields here are {}", siblings.join(", ")),
            };
            return Err(format!("`{path}`: there is no field `{name}` here{hint}"));
        }
        node = found;
        for index in indices {
            let len = node.as_array().map(Vec::len);
            node = match (node, len) {
                (Json::Array(items), Some(len)) if index < len => &mut items[index],
                (_, Some(len)) => {
                    return Err(format!(
                        "`{path}`: index {index} is out of range ({len} entries)"
                    ))
                }
                _ => return Err(format!("`{path}`: `{name}` is not a list")),
            };
        }
    }
    Ok(node)
}

/// The field names of an object, and, for a one-key object (which may be
/// an enum tag), the names inside it: the names a path may go on with.
fn field_names(node: &Json) -> Vec<String> {
    let Json::Object(map) = node else {
        return Vec::new();
    };
    let mut names: Vec<String> = map.keys().cloned().collect();
    if let (1, Some(Json::Object(inner))) = (map.len(), map.values().next()) {
        names.extend(inner.keys().cloned());
    }
    names
}

/// Finds field `name`, looking through an enum tag (a one-key object) if
/// needed; `true` with it when the field was absent and has been added.
fn descend<'a>(node: &'a mut Json, name: &str, path: &str) -> Result<(&'a mut Json, bool), String> {
    let Json::Object(map) = node else {
        return Err(format!(
            "`{path}`: cannot find `{name}` inside a value that has no fields"
        ));
    };
    let direct = map.contains_key(name);
    let through_tag = !direct
        && map.len() == 1
        && map
            .values()
            .next()
            .and_then(Json::as_object)
            .is_some_and(|inner| inner.contains_key(name));
    if direct {
        return Ok((map.get_mut(name).expect("checked"), false));
    }
    if through_tag {
        let inner = map
            .values_mut()
            .next()
            .and_then(Json::as_object_mut)
            .expect("checked");
        return Ok((inner.get_mut(name).expect("checked"), false));
    }
    // A field left at its default may be absent from the tree: add it here
    // and let deserialisation judge whether such a field exists.
    Ok((map.entry(name.to_string()).or_insert(Json::Null), true))
}

fn split_indices(segment: &str) -> Option<(&str, Vec<usize>)> {
    let name_end = segment.find('[').unwrap_or(segment.len());
    let (name, mut rest) = segment.split_at(name_end);
    let mut indices = Vec::new();
    while !rest.is_empty() {
        let close = rest.find(']')?;
        if !rest.starts_with('[') {
            return None;
        }
        indices.push(rest[1..close].parse().ok()?);
        rest = &rest[close + 1..];
    }
    Some((name, indices))
}
