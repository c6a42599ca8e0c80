//! A sweep's groups: every combination of its axes' values, applied to the
//! scenario, each validated.
//!
//! Axes come first from the scenario's `sweep` section (each with the
//! paths that move in step with it, `with`), then from the caller's
//! assignments (`path=v1,v2,...`); combinations multiply, in that order.
//! Errors name the axis by where it came from: `sweep[1]` in the file, or
//! the caller's assignment, so a message never blames a flag for a line
//! of the file.

use crate::error::{Problem, ScenarioError};
use crate::scenario::Scenario;
use crate::validate::SWEEP_GROUPS_MAX;

/// One combination of swept values.
#[derive(Clone, Debug)]
pub struct Group {
    pub label: String,
    /// The group's short name, from its axes' `names` (joined by ", "),
    /// when any axis has them: what charts and tables call it.
    pub name: Option<String>,
    /// (field path, value as RON text).
    pub sets: Vec<(String, String)>,
    /// The paths in `sets` that move in step with an axis before them (a
    /// sweep axis's `with`): part of the group, not axes of their own.
    pub lockstep: Vec<String>,
    pub scenario: Scenario,
}

/// Where an axis was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxisSource {
    /// The scenario's `sweep[i]`.
    File(usize),
    /// The caller's assignment number `i` (the CLI's i-th `--set`).
    Assignment(usize),
}

impl std::fmt::Display for AxisSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AxisSource::File(i) => write!(f, "sweep[{i}]"),
            AxisSource::Assignment(i) => write!(f, "assignment {}", i + 1),
        }
    }
}

/// Why a sweep cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// An axis does not apply: its path, its values, or their count.
    #[error("{axis}: {path}: {message}")]
    Axis {
        axis: AxisSource,
        path: String,
        message: String,
    },
    /// The axes make more groups than a sweep may hold.
    #[error("the swept values make more than {max} combinations; sweep fewer values, or split the sweep")]
    TooManyGroups { max: usize },
    /// A group's scenario is invalid: `label` names the group.
    #[error("group [{label}]: {}", first_problem(.problems))]
    InvalidGroup {
        label: String,
        problems: Vec<Problem>,
    },
}

fn first_problem(problems: &[Problem]) -> String {
    problems
        .first()
        .map(|p| format!("{}: {}", p.path, p.message))
        .unwrap_or_default()
}

impl PlanError {
    /// As a scenario error of `file`, for callers that report those.
    pub fn into_scenario_error(self, file: &str) -> ScenarioError {
        match self {
            PlanError::InvalidGroup { label, problems } => ScenarioError::Invalid {
                file: format!("{file} [{label}]"),
                problems,
            },
            other => ScenarioError::Invalid {
                file: file.to_string(),
                problems: vec![Problem {
                    path: match &other {
                        PlanError::Axis { axis, path, .. } => format!("{axis}.{path}"),
                        _ => "sweep".into(),
                    },
                    message: other.to_string(),
                }],
            },
        }
    }
}

/// An axis's `names`: none, or one per value, each short and not empty.
fn check_names(source: AxisSource, axis: &crate::schema::SweepAxis) -> Result<(), PlanError> {
    let error = |message: String| PlanError::Axis {
        axis: source,
        path: axis.path.clone(),
        message,
    };
    if axis.names.is_empty() {
        return Ok(());
    }
    if axis.names.len() != axis.values.len() {
        return Err(error(format!(
            "{} names for {} values; give one name per value (names: [...])",
            axis.names.len(),
            axis.values.len()
        )));
    }
    for name in &axis.names {
        let chars = name.chars().count();
        if chars == 0 || chars > crate::schema::AXIS_NAME_CHARS_MAX {
            return Err(error(format!(
                "the name \"{name}\" has {chars} characters; a name has 1 to {} (it labels a chart's group)",
                crate::schema::AXIS_NAME_CHARS_MAX
            )));
        }
    }
    Ok(())
}

/// The groups of `scenario` swept over its own axes and then `extra`
/// (each a path and its values), every group validated. With no axes, one
/// group, "(base)", the scenario itself.
pub fn plan_groups(
    scenario: &Scenario,
    extra: &[(String, Vec<ron::Value>)],
) -> Result<Vec<Group>, PlanError> {
    type Axis = (AxisSource, Vec<(String, Vec<ron::Value>)>, Vec<String>);
    let mut axes: Vec<Axis> = Vec::new();
    for (i, a) in scenario.sweep.iter().enumerate() {
        let paths = std::iter::once((a.path.clone(), a.values.clone()))
            .chain(a.with.iter().map(|w| (w.path.clone(), w.values.clone())))
            .collect();
        check_names(AxisSource::File(i), a)?;
        axes.push((AxisSource::File(i), paths, a.names.clone()));
    }
    axes.extend(
        extra
            .iter()
            .enumerate()
            .map(|(i, axis)| (AxisSource::Assignment(i), vec![axis.clone()], Vec::new())),
    );
    let combinations = axes.iter().try_fold(1usize, |n, (_, axis, _)| {
        n.checked_mul(axis[0].1.len())
            .filter(|n| *n <= SWEEP_GROUPS_MAX)
    });
    if combinations.is_none() {
        return Err(PlanError::TooManyGroups {
            max: SWEEP_GROUPS_MAX,
        });
    }
    let mut groups = vec![Group {
        label: "(base)".into(),
        name: None,
        sets: Vec::new(),
        lockstep: Vec::new(),
        scenario: scenario.clone(),
    }];
    for (source, axis, names) in &axes {
        let mut next = Vec::with_capacity(groups.len() * axis[0].1.len());
        for group in &groups {
            for i in 0..axis[0].1.len() {
                let mut changed = group.scenario.clone();
                let mut sets = group.sets.clone();
                let mut lockstep = group.lockstep.clone();
                lockstep.extend(axis.iter().skip(1).map(|(path, _)| path.clone()));
                for (field, values) in axis {
                    let error = |message: String| PlanError::Axis {
                        axis: *source,
                        path: field.clone(),
                        message,
                    };
                    let value = values.get(i).ok_or_else(|| {
                        error(format!(
                            "{} values, and the axis it moves with has {}; give as many",
                            values.len(),
                            axis[0].1.len()
                        ))
                    })?;
                    changed = crate::set::apply(&changed, field, value.clone()).map_err(error)?;
                    sets.push((field.clone(), crate::set::render(value)));
                }
                let label = sets
                    .iter()
                    .map(|(f, v)| format!("{f}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                // The short name: this axis's name for the value, after
                // the names so far; an axis without names adds its
                // value's text only when an earlier one had a name.
                let part = names.get(i).cloned();
                let name = match (&group.name, part) {
                    (None, None) => None,
                    (None, Some(part)) if group.sets.is_empty() => Some(part),
                    (None, Some(part)) => Some(format!("{}, {part}", group.label)),
                    (Some(before), Some(part)) => Some(format!("{before}, {part}")),
                    (Some(before), None) => Some(format!(
                        "{before}, {}",
                        sets.last()
                            .map_or(String::new(), |(f, v)| format!("{f}={v}"))
                    )),
                };
                next.push(Group {
                    label,
                    name,
                    sets,
                    lockstep,
                    scenario: changed,
                });
            }
        }
        groups = next;
    }
    for group in &mut groups {
        group.scenario.sweep.clear();
        crate::validate::validate(&group.scenario).map_err(|problems| PlanError::InvalidGroup {
            label: group.label.clone(),
            problems,
        })?;
    }
    debug_assert!(!groups.is_empty() && groups.len() <= SWEEP_GROUPS_MAX);
    Ok(groups)
}
