//! What `faultline list` (and the syntax hints) say of a protocol, read
//! off its plug-in: the summary, and each param with its default and its
//! meaning. The meanings are the params type's doc comments, through its
//! JSON schema; the defaults are its `Default`, written as RON. Nothing
//! here is written by hand per protocol.

use crate::protocol::ProtocolEntry;
use serde::Serialize;
use serde_json::Value as Json;

/// What `faultline list` says about a protocol.
#[derive(Clone, Debug, Serialize)]
pub struct ProtocolInfo {
    pub name: &'static str,
    pub summary: &'static str,
    /// (param, default as RON, meaning), in the params type's order.
    pub params: Vec<(String, String, String)>,
    /// Params that switch on a known bug (their meaning says "BUG SWITCH").
    pub bug_switches: Vec<String>,
    pub serves_clients: bool,
    /// What it offers a scenario (clients, leader, conditional writes,
    /// transactions, trade-off).
    pub capabilities: protocols::plugin::Capabilities,
    pub invariants: Vec<&'static str>,
    /// Its kinds of message, which a link's `kinds` may give latencies.
    pub message_kinds: Vec<&'static str>,
}

/// The doc comment that marks a bug switch starts with this.
pub const BUG_SWITCH: &str = "BUG SWITCH";

/// Every registered protocol, for `faultline list`.
pub fn protocols() -> Vec<ProtocolInfo> {
    crate::registry::entries().into_iter().map(info).collect()
}

/// What `list` says of one protocol.
pub fn info(entry: &'static dyn ProtocolEntry) -> ProtocolInfo {
    let schema = entry.schema();
    let properties = schema
        .get("properties")
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    let meaning = |field: &str| {
        properties
            .get(field)
            .and_then(|p| p.get("description"))
            .and_then(Json::as_str)
            .unwrap_or("")
            // A doc comment's line breaks are the source's, not the text's.
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Fields a default writes out, in declaration order; then those it
    // leaves out (off switches, empty lists, derived values).
    let written = ron_fields(&crate::to_ron_inline(&entry.default_spec()));
    let mut params: Vec<(String, String, String)> = written
        .into_iter()
        .filter(|(field, _)| properties.contains_key(field))
        .map(|(field, default)| {
            let text = meaning(&field);
            (field, spaced(&default), text)
        })
        .collect();
    let mut unwritten: Vec<(String, String, String)> = properties
        .iter()
        .filter(|(field, _)| !params.iter().any(|(p, _, _)| p == *field))
        .map(|(field, schema)| (field.clone(), left_out_default(schema), meaning(field)))
        .collect();
    unwritten.sort_by_key(|(_, _, meaning)| meaning.starts_with(BUG_SWITCH));
    params.extend(unwritten);
    let bug_switches = params
        .iter()
        .filter(|(_, _, meaning)| meaning.starts_with(BUG_SWITCH))
        .map(|(field, _, _)| field.clone())
        .collect();
    ProtocolInfo {
        name: entry.name(),
        summary: entry.summary(),
        params,
        bug_switches,
        serves_clients: entry.clients() != protocols::plugin::Clients::None,
        capabilities: entry.capabilities(),
        invariants: entry.invariants().to_vec(),
        message_kinds: entry.message_kinds(),
    }
}

/// A field the default leaves out of the RON: an off switch, an empty
/// list, or an unset option (whose meaning says what it defaults to).
fn left_out_default(schema: &Json) -> String {
    let types: Vec<&str> = match schema.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"boolean") {
        "false".into()
    } else if types.contains(&"array") {
        "[]".into()
    } else {
        "unset".into()
    }
}

/// The characters of RON text that lie outside string literals, with
/// their byte offsets (a string's quotes and contents are skipped whole).
fn outside_strings(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let (mut in_string, mut escaped) = (false, false);
    text.char_indices().filter(move |&(_, c)| {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            return false;
        }
        in_string = c == '"';
        !in_string
    })
}

/// RON as people write it: a space after each comma outside strings.
fn spaced(ron: &str) -> String {
    let commas: Vec<usize> = outside_strings(ron)
        .filter(|&(_, c)| c == ',')
        .map(|(i, _)| i)
        .collect();
    let mut out = String::with_capacity(ron.len() + commas.len());
    let mut start = 0;
    for at in commas {
        out.push_str(&ron[start..=at]);
        out.push(' ');
        start = at + 1;
    }
    out.push_str(&ron[start..]);
    out
}

/// The top-level fields of `Name(a: 1, b: (2, 3))`, as (name, value) text.
/// Enough of RON for what `to_ron_inline` writes: strings are skipped
/// over whole, brackets nest.
fn ron_fields(text: &str) -> Vec<(String, String)> {
    let Some(open) = text.find('(') else {
        return Vec::new();
    };
    let body = text[open + 1..].trim_end().strip_suffix(')').unwrap_or("");
    let mut depth = 0usize;
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in outside_strings(body) {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    parts
        .into_iter()
        .filter_map(|part| part.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_in_strings_are_left_alone() {
        assert_eq!(spaced(r#"("a,b",1,[2,3])"#), r#"("a,b", 1, [2, 3])"#);
        assert_eq!(spaced(r#"("q\",",2)"#), r#"("q\",", 2)"#);
    }

    #[test]
    fn ron_fields_split_at_the_top_level_only() {
        let fields = ron_fields(
            r#"Raft(election_timeout:("150ms","300ms"),note:"a, b",ids:Explicit([1,2]))"#,
        );
        assert_eq!(
            fields,
            vec![
                ("election_timeout".into(), r#"("150ms","300ms")"#.into()),
                ("note".into(), r#""a, b""#.into()),
                ("ids".into(), "Explicit([1,2])".into()),
            ]
        );
    }

    #[test]
    fn every_builtin_param_has_a_meaning_and_bug_switches_are_marked() {
        for info in protocols() {
            assert!(
                !info.params.is_empty() || info.name == "Nothing",
                "{}",
                info.name
            );
            for (field, default, meaning) in &info.params {
                assert!(
                    !meaning.is_empty(),
                    "{}.{field} has no doc comment",
                    info.name
                );
                assert!(!default.is_empty(), "{}.{field}", info.name);
            }
        }
        let raft = protocols().into_iter().find(|p| p.name == "Raft").unwrap();
        // Off switches are left out of the default's RON, so they come
        // in the schema's (alphabetical) order, after the other params.
        assert_eq!(
            raft.bug_switches,
            [
                "commit_previous_terms",
                "lease_without_drift_bound",
                "vote_without_log_check",
                "vote_without_persist",
            ]
        );
        let last: Vec<&str> = raft.params[raft.params.len() - 4..]
            .iter()
            .map(|p| p.0.as_str())
            .collect();
        assert_eq!(last, raft.bug_switches);
        let timeout = raft
            .params
            .iter()
            .find(|p| p.0 == "election_timeout")
            .unwrap();
        assert_eq!(timeout.1, r#"("150ms", "300ms")"#);
    }
}
