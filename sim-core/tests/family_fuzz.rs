//! No input panics the family's readers and checkers: the hand-written
//! histories, cut and spliced with the characters that matter to EDN,
//! JSON and Plume, are read as every model and format. Each answer is a
//! verdict or an error naming the file.

use proptest::prelude::*;
use sim_core::checker::family::{judge, FamilyFormat, FamilyModel, Options};
use sim_core::checker::Budget;

/// Each history with its own model: most cases read a file as what it is,
/// so the mutations reach the checkers and not only the readers.
const SEEDS: &[(&str, &str)] = &[
    (
        include_str!("../../tests/histories/list-append-g-single.edn"),
        "list-append",
    ),
    (
        include_str!("../../tests/histories/list-append-g2.json"),
        "list-append",
    ),
    (
        include_str!("../../tests/histories/list-append-ok.edn"),
        "list-append",
    ),
    (
        include_str!("../../tests/histories/rw-register-g1c.edn"),
        "rw-register",
    ),
    (
        include_str!("../../tests/histories/plume-causal.txt"),
        "rw-register",
    ),
    (
        include_str!("../../tests/histories/plume-ok.txt"),
        "rw-register",
    ),
    (include_str!("../../tests/histories/bank-bad.edn"), "bank"),
    (include_str!("../../tests/histories/bank-ok.json"), "bank"),
    (
        include_str!("../../tests/histories/counter-bad.edn"),
        "counter",
    ),
    (include_str!("../../tests/histories/set-lost.edn"), "set"),
    (
        include_str!("../../tests/histories/set-full-stale.edn"),
        "set-full",
    ),
    (
        include_str!("../../tests/histories/long-fork.edn"),
        "long-fork",
    ),
    (include_str!("../../tests/histories/mutex-bad.edn"), "mutex"),
];

const MODELS: &[&str] = &[
    "list-append",
    "rw-register",
    "bank",
    "counter",
    "set",
    "set-full",
    "long-fork",
    "mutex",
];
const FORMATS: &[FamilyFormat] = &[
    FamilyFormat::Auto,
    FamilyFormat::Edn,
    FamilyFormat::Json,
    FamilyFormat::Jsonl,
    FamilyFormat::Plume,
];
const PIECES: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    ":",
    "\"",
    "nil",
    "-1",
    "0",
    "9223372036854775807",
    "-9223372036854775808",
    ":append",
    ":r",
    ":w",
    ":ok",
    ":info",
    ":fail",
    ":invoke",
    "#{",
    "\n",
    " ",
    "r(",
    "w(",
    "{\"",
    "null",
    "[]",
];

fn mutate(
    text: &str,
    edits: &[(
        prop::sample::Index,
        u8,
        prop::sample::Index,
        prop::sample::Index,
    )],
) -> String {
    let mut bytes: Vec<char> = text.chars().collect();
    for (at, how, piece, len) in edits {
        if bytes.is_empty() {
            bytes.extend("[".chars());
        }
        let i = at.index(bytes.len());
        match how % 3 {
            0 => {
                let n = len.index(8).min(bytes.len() - i);
                bytes.drain(i..i + n);
            }
            1 => {
                let p: Vec<char> = PIECES[piece.index(PIECES.len())].chars().collect();
                for (k, c) in p.into_iter().enumerate() {
                    bytes.insert(i + k, c);
                }
            }
            _ => {
                let j = len.index(bytes.len());
                bytes.swap(i, j);
            }
        }
    }
    bytes.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, .. ProptestConfig::default() })]

    #[test]
    fn no_input_panics(
        seed in prop::sample::select(SEEDS),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..6),
        other_model in prop::sample::select(MODELS),
        format in prop::sample::select(FORMATS),
        own in 0u8..4,
    ) {
        let (seed, own_model) = seed;
        let (model, format) = if own > 0 { (own_model, FamilyFormat::Auto) } else { (other_model, format) };
        let edits = if own == 3 { &edits[..0] } else { &edits[..] };
        let text = mutate(seed, edits);
        let options = Options {
            model: FamilyModel::parse(model).expect("known"),
            format,
            consistency_models: None,
            negative_balances: false,
            bank_total: None,
            budget: Budget { steps_max: 10_000, ..Budget::default() },
            memory_bytes_max: 1 << 24,
            named_only: false,
        };
        match judge(&text, "fuzz.txt", &options) {
            Ok(_) => {}
            Err(e) => prop_assert!(e.to_string().starts_with("fuzz.txt"), "{e}"),
        }
    }
}
