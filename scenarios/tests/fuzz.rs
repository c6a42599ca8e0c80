//! The loader never panics: random bytes, and curated files mutated by
//! byte flips, deletions, insertions and truncation, give Ok or Err.

use proptest::prelude::*;

fn seeds() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    texts.sort();
    texts
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, String),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop::sample::select(vec![
        "(",
        ")",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "-",
        "1e400",
        "Some(",
        "\"-5s\"",
        "\"99999h\"",
        "Count(4294967295)",
        "n9",
        "1.5",
        "Partition([[\"n1\"],[\"n1\"]])",
        "NaN",
        "inf",
        "//",
        "/*",
        "r#\"",
        "'",
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), tokens).prop_map(|(i, t)| Mutation::Insert(i, t.to_string())),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Flip(i, b) => {
                if !bytes.is_empty() {
                    let i = i % bytes.len();
                    bytes[i] = *b;
                }
            }
            Mutation::Delete(i, n) => {
                let start = i % len;
                let end = (start + n).min(bytes.len());
                if start < end {
                    bytes.drain(start..end);
                }
            }
            Mutation::Insert(i, t) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, t.bytes());
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_never_panic(which in any::<prop::sample::Index>(), mutations in prop::collection::vec(mutation(), 1..6)) {
        let texts = seeds();
        let bytes = apply(&texts[which.index(texts.len())], &mutations);
        let text = String::from_utf8_lossy(&bytes);
        // Validated scenarios must also resolve and build without panicking.
        if let Ok(scenario) = scenarios::load_str(&text, "mutated.ron") {
            let resolved = scenarios::resolve(&scenario, 3);
            prop_assert!(scenarios::run::sim_config(&resolved).is_ok());
        }
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,400}") {
        let _ = scenarios::load_str(&text, "random.ron");
    }

    #[test]
    fn random_set_assignments_never_panic(path in "[a-z_.\\[\\]0-9]{0,30}", value in "\\PC{0,20}") {
        let scenario = scenarios::load_str(&texts_first(), "base.ron").unwrap();
        if let Ok((field, values)) = scenarios::set::parse_assignment(&format!("{path}={value}")) {
            for v in values {
                let _ = scenarios::set::apply(&scenario, &field, v);
            }
        }
    }
}

fn texts_first() -> String {
    seeds()
        .into_iter()
        .find(|t| t.contains("quickstart"))
        .unwrap()
}
