//! Hints for syntax errors that teach the right shape.
//!
//! The RON parser says what it expected at a position ("Expected string",
//! "Expected opening `(`", "Expected identifier"); a user needs to see what
//! to write instead. This reads the text around the error: which field was
//! being written, what token stands there, and which bracket is still open,
//! and turns that into an example (`duration: "6s"`,
//! `election_timeout: ("150ms", "300ms")`) or a pointer to the bracket that
//! was likely never closed.

use crate::protocol_info::{self, ProtocolInfo};

/// What the text says about the point of an error.
#[derive(Debug, Default, PartialEq)]
struct Around {
    /// The field whose value was being read: the last `name:` before the error.
    field: Option<String>,
    /// The token at the error (up to a delimiter).
    token: String,
    /// The innermost bracket still open at the error: (bracket, line,
    /// column, the field it opened, if any).
    open: Option<(char, usize, usize, Option<String>)>,
    /// The protocol named before the error (`protocol: Raft(`), if any.
    protocol: Option<String>,
}

/// A hint for a syntax error at `line`:`column` (1-based) of `text`, where
/// the parser said `message`; `None` when nothing useful can be said.
pub fn hint(text: &str, line: usize, column: usize, message: &str) -> Option<String> {
    let around = read_around(text, line, column);
    let field = around.field.as_deref();
    // A protocol param written in the wrong shape: show its default.
    if let Some(field) = field {
        if message.starts_with("Expected") {
            if let Some((protocol, default)) = param_default(field, around.protocol.as_deref()) {
                return Some(format!(
                    "{protocol}'s `{field}` is written like `{field}: {default}` (its default)"
                ));
            }
        }
    }
    if message == "Expected string" && is_number(&around.token) {
        let field = field.unwrap_or("the field");
        let example = if field == "memory" {
            format!("\"{}MiB\"", around.token)
        } else {
            format!("\"{}s\"", around.token)
        };
        return Some(format!(
            "`{field}` takes a string with a unit: `{field}: {example}` (durations: \"150ms\", \"6s\", \"2m\"; sizes: \"512MiB\", \"1GiB\")"
        ));
    }
    if message.starts_with("Unexpected field named") {
        let (bracket_line, owner) = match &around.open {
            Some((_, line, _, owner)) => (*line, owner.clone()),
            None => return None,
        };
        let found = message.split('`').nth(1).unwrap_or("");
        if scenario_fields().contains(&found) && owner.as_deref() != Some("Scenario") {
            let owner = owner.unwrap_or_else(|| "the value".into());
            return Some(format!(
                "`{found}` is a field of the scenario itself: is the `)` that closes `{owner}: (` (line {bracket_line}) missing?"
            ));
        }
        return None;
    }
    if message.starts_with("Expected") || message.contains("end of") {
        if let Some((bracket, line, column, owner)) = &around.open {
            let closer = match bracket {
                '(' => ')',
                '[' => ']',
                _ => '}',
            };
            let what = owner
                .as_ref()
                .map(|o| format!("`{o}: {bracket}`"))
                .unwrap_or_else(|| format!("`{bracket}`"));
            return Some(format!(
                "inside {what} opened at {line}:{column}: is a `{closer}` or a `,` missing before here?"
            ));
        }
    }
    None
}

/// The fields of a scenario's top level, from the schema itself (an
/// unknown field's error lists them), so the list cannot drift.
fn scenario_fields() -> Vec<&'static str> {
    use std::sync::OnceLock;
    static FIELDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    FIELDS
        .get_or_init(|| {
            match ron::from_str::<crate::scenario::Scenario>("Scenario(not_a_field: 0)") {
                Err(error) => match error.code {
                    ron::error::Error::NoSuchStructField { expected, .. } => expected.to_vec(),
                    _ => Vec::new(),
                },
                Ok(_) => Vec::new(),
            }
        })
        .clone()
}

/// (protocol, default) of a param called `field`: of `protocol` if it has
/// one, else of the first protocol that does.
fn param_default(field: &str, protocol: Option<&str>) -> Option<(&'static str, String)> {
    let all = protocol_info::protocols();
    let of = |info: &ProtocolInfo| {
        info.params
            .iter()
            .find(|(name, default, _)| *name == field && default.starts_with(['(', '"', '[']))
            .map(|(_, default, _)| (info.name, default.clone()))
    };
    all.iter()
        .filter(|info| Some(info.name) == protocol)
        .find_map(of)
        .or_else(|| all.iter().find_map(of))
}

fn is_number(token: &str) -> bool {
    !token.is_empty() && token.parse::<f64>().is_ok()
}

/// Scans `text` up to the error, skipping strings and comments.
fn read_around(text: &str, line: usize, column: usize) -> Around {
    let mut around = Around::default();
    let mut stack: Vec<(char, usize, usize, Option<String>)> = Vec::new();
    let (mut l, mut c) = (1usize, 1usize);
    let mut last_ident = String::new();
    let mut ident = String::new();
    let mut last_field: Option<String> = None;
    // Whether the last thing before this point was an identifier.
    let mut after_ident = false;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() && (l, c) < (line, column) {
        let ch = chars[i];
        let next = chars.get(i + 1).copied();
        // Steps one character; at the end of the text (an unterminated
        // string or comment) it stays put.
        let step = |i: &mut usize, l: &mut usize, c: &mut usize| {
            let Some(&ch) = chars.get(*i) else {
                return;
            };
            if ch == '\n' {
                *l += 1;
                *c = 1;
            } else {
                *c += 1;
            }
            *i += 1;
        };
        if ch == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                step(&mut i, &mut l, &mut c);
            }
            continue;
        }
        if ch == '/' && next == Some('*') {
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                step(&mut i, &mut l, &mut c);
            }
            step(&mut i, &mut l, &mut c);
            step(&mut i, &mut l, &mut c);
            continue;
        }
        if ch == '"' {
            step(&mut i, &mut l, &mut c);
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    step(&mut i, &mut l, &mut c);
                }
                step(&mut i, &mut l, &mut c);
            }
            step(&mut i, &mut l, &mut c);
            ident.clear();
            after_ident = false;
            continue;
        }
        if ch.is_alphanumeric() || ch == '_' || ch == '@' {
            ident.push(ch);
            after_ident = true;
        } else {
            if !ch.is_whitespace() && ch != '(' {
                after_ident = false;
            }
            if !ident.is_empty() {
                last_ident = std::mem::take(&mut ident);
            }
            match ch {
                ':' => last_field = Some(last_ident.clone()),
                '(' | '[' | '{' => {
                    // `field: (` opens under `field`; `Name(` under Name.
                    let owner = last_field
                        .clone()
                        .or_else(|| after_ident.then(|| last_ident.clone()));
                    if last_field.as_deref() == Some("protocol") && after_ident {
                        around.protocol = Some(last_ident.clone());
                    }
                    stack.push((ch, l, c, owner));
                    last_field = None;
                }
                ')' | ']' | '}' => {
                    stack.pop();
                    last_field = None;
                }
                ',' => last_field = None,
                _ => {}
            }
        }
        if matches!(ch, '(' | '[' | '{') {
            after_ident = false;
        }
        step(&mut i, &mut l, &mut c);
    }
    around.field = last_field.filter(|f| !f.is_empty());
    around.token = chars[i.min(chars.len())..]
        .iter()
        .take_while(|ch| !matches!(ch, ',' | ')' | ']' | '\n' | ' '))
        .collect();
    around.open = stack.pop();
    around
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_token_and_open_bracket_are_read() {
        let text = "Scenario(\n    workload: (\n        clients: 6,\n        keys: x";
        let around = read_around(text, 4, 15);
        assert_eq!(around.field.as_deref(), Some("keys"));
        assert_eq!(around.token, "x");
        assert_eq!(around.open, Some(('(', 2, 15, Some("workload".into()))));
        // Strings and comments hide their brackets.
        let text = "Scenario(\n  // a ( here\n  name: \"(\",\n  duration: 6";
        let around = read_around(text, 4, 13);
        assert_eq!(around.open, Some(('(', 1, 9, Some("Scenario".into()))));
        assert_eq!(
            (around.field.as_deref(), around.token.as_str()),
            (Some("duration"), "6")
        );
    }

    #[test]
    fn unterminated_strings_and_comments_end_the_scan() {
        for text in [
            "Scenario(name: \"ab",
            "Scenario(/* open",
            "Scenario(name: \"a\\",
            "(\"",
            "/*",
            "\\",
        ] {
            for column in 1..12 {
                let _ = hint(text, 1, column, "Expected string");
                let _ = hint(text, 2, 1, "Expected identifier");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_and_position_give_a_hint_or_none(text in "[ -~\n]{0,80}", line in 0usize..6, column in 0usize..40) {
            let _ = hint(&text, line, column, "Expected string");
            let _ = hint(&text, line, column, "Unexpected field named `faults` in `X`");
        }
    }

    #[test]
    fn scenario_fields_come_from_the_schema() {
        let fields = scenario_fields();
        assert!(
            fields.contains(&"faults") && fields.contains(&"workload"),
            "{fields:?}"
        );
    }
}
