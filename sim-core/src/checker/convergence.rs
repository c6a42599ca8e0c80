//! Eventual consistency as convergence: once the last fault has healed and
//! the system has been quiet for a while, every live replica holds the same
//! data. Judged on the replicas' final states, which the runner collects.

use serde::Serialize;
use std::collections::BTreeMap;

/// One replica's final data.
pub struct Replica<'a> {
    pub name: &'a str,
    pub data: &'a BTreeMap<String, String>,
    /// Whether it is meant to hold a key; `None`: every key. A store that
    /// places each key on some servers only (a leaderless ring) is compared
    /// key by key among the servers that should hold it.
    pub holds: Option<&'a dyn Fn(&str) -> bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Divergence {
    pub key: String,
    /// (replica, its value or None when it lacks the key), for the replicas that differ.
    pub values: Vec<(String, Option<String>)>,
}

/// The first key (in key order) on which the replicas differ, if any.
pub fn diverging_key(replicas: &[Replica<'_>]) -> Option<Divergence> {
    let mut keys: Vec<&String> = replicas.iter().flat_map(|r| r.data.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let values: Vec<(String, Option<String>)> = replicas
            .iter()
            .filter(|r| r.holds.is_none_or(|holds| holds(key)))
            .map(|r| (r.name.to_string(), r.data.get(key).cloned()))
            .collect();
        if values.windows(2).any(|pair| pair[0].1 != pair[1].1) {
            return Some(Divergence {
                key: key.clone(),
                values,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreeing_replicas_converge_and_the_first_difference_is_named() {
        let a: BTreeMap<String, String> =
            [("k1".into(), "x".into()), ("k2".into(), "y".into())].into();
        let b = a.clone();
        let mut c = a.clone();
        c.remove("k1");
        let same = [
            Replica {
                name: "n1",
                data: &a,
                holds: None,
            },
            Replica {
                name: "n2",
                data: &b,
                holds: None,
            },
        ];
        assert_eq!(diverging_key(&same), None);
        let differ = [
            Replica {
                name: "n1",
                data: &a,
                holds: None,
            },
            Replica {
                name: "n3",
                data: &c,
                holds: None,
            },
        ];
        let divergence = diverging_key(&differ).unwrap();
        assert_eq!(divergence.key, "k1");
        assert_eq!(divergence.values[1], ("n3".to_string(), None));
        // A replica not meant to hold k1 is left out of k1's comparison.
        let not_k1 = |key: &str| key != "k1";
        let placed = [
            Replica {
                name: "n1",
                data: &a,
                holds: None,
            },
            Replica {
                name: "n3",
                data: &c,
                holds: Some(&not_k1),
            },
        ];
        assert_eq!(diverging_key(&placed), None);
    }
}
