//! Latency distributions for links.
//!
//! Sampling uses `rand_distr` for the shapes and clamps every sample to
//! `[0, LATENCY_MAX]`, because a heavy-tailed draw (Pareto) can otherwise exceed
//! the range of virtual time. Mixtures pick a component by weight, which is how the
//! PBS paper's WARS model combines Pareto and exponential legs.

use crate::time::SimDuration;
use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Pareto};
use serde::{Deserialize, Serialize};

/// No single sample exceeds one hour: far beyond any realistic delay, far inside u64.
pub const LATENCY_MAX: SimDuration = SimDuration::from_secs(3_600);

/// How many times a truncated normal redraws a negative sample before giving 0.
const NORMAL_REDRAWS_MAX: u32 = 64;

/// Mixtures nest at most this deep; a deeper one is rejected by `validate`.
pub const MIXTURE_DEPTH_MAX: usize = 4;

/// A distribution of one-way message delay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Latency {
    /// Always the same delay.
    Constant(SimDuration),
    /// Uniform over `[min, max]`, inclusive, at nanosecond resolution.
    Uniform { min: SimDuration, max: SimDuration },
    /// Normal, truncated at zero (negative draws are redrawn).
    Normal {
        mean: SimDuration,
        std_dev: SimDuration,
    },
    /// Log-normal with the given median and shape `sigma` (of the underlying normal).
    LogNormal { median: SimDuration, sigma: f64 },
    /// Exponential with the given mean.
    Exponential { mean: SimDuration },
    /// Pareto with scale (the minimum) `scale` and shape `alpha`.
    Pareto { scale: SimDuration, alpha: f64 },
    /// A weighted mixture: a component is chosen with probability weight / sum.
    Mixture(Vec<(f64, Latency)>),
    /// `by` plus a draw of `latency`: a fixed propagation delay (a long
    /// link) in front of a distribution (queueing, processing).
    Shifted {
        by: SimDuration,
        latency: Box<Latency>,
    },
}

impl Latency {
    pub fn constant_ms(ms: u64) -> Self {
        Latency::Constant(SimDuration::from_millis(ms))
    }
    pub fn uniform_ms(min: u64, max: u64) -> Self {
        Latency::Uniform {
            min: SimDuration::from_millis(min),
            max: SimDuration::from_millis(max),
        }
    }

    /// Checks parameters; the error says which one is wrong and how to fix it.
    pub fn validate(&self) -> Result<(), String> {
        self.validate_at(0)
    }

    fn validate_at(&self, depth: usize) -> Result<(), String> {
        let finite_positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be a finite number above 0, got {v}"))
            }
        };
        match self {
            Latency::Constant(_) | Latency::Exponential { .. } | Latency::Normal { .. } => Ok(()),
            Latency::Uniform { min, max } => {
                if min <= max {
                    Ok(())
                } else {
                    Err(format!("uniform min ({min}) must not exceed max ({max})"))
                }
            }
            Latency::LogNormal { median, sigma } => {
                finite_positive("lognormal sigma", *sigma)?;
                if median.as_nanos() == 0 {
                    return Err("lognormal median must be above 0".into());
                }
                Ok(())
            }
            Latency::Pareto { scale, alpha } => {
                finite_positive("pareto alpha", *alpha)?;
                if scale.as_nanos() == 0 {
                    return Err("pareto scale must be above 0".into());
                }
                Ok(())
            }
            Latency::Shifted { latency, .. } => {
                if depth >= MIXTURE_DEPTH_MAX {
                    return Err(format!(
                        "mixtures and shifts nest at most {MIXTURE_DEPTH_MAX} deep"
                    ));
                }
                latency
                    .validate_at(depth + 1)
                    .map_err(|e| format!("shifted: {e}"))
            }
            Latency::Mixture(parts) => {
                if depth >= MIXTURE_DEPTH_MAX {
                    return Err(format!("mixtures nest at most {MIXTURE_DEPTH_MAX} deep"));
                }
                if parts.is_empty() {
                    return Err("a mixture needs at least one component".into());
                }
                for (index, (weight, part)) in parts.iter().enumerate() {
                    if !(weight.is_finite() && *weight > 0.0) {
                        return Err(format!(
                            "mixture component {index}: weight must be above 0, got {weight}"
                        ));
                    }
                    part.validate_at(depth + 1)
                        .map_err(|e| format!("mixture component {index}: {e}"))?;
                }
                Ok(())
            }
        }
    }

    /// Draws one delay. The distribution must have passed `validate`.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        let nanos = match self {
            Latency::Constant(d) => return (*d).min(LATENCY_MAX),
            Latency::Uniform { min, max } => {
                return SimDuration::from_nanos(rng.random_range(min.as_nanos()..=max.as_nanos()))
                    .min(LATENCY_MAX)
            }
            Latency::Normal { mean, std_dev } => {
                let normal = Normal::new(mean.as_nanos() as f64, std_dev.as_nanos() as f64)
                    .expect("validated: a finite std_dev");
                let mut draw = normal.sample(rng);
                let mut redraws = 0;
                while draw < 0.0 && redraws < NORMAL_REDRAWS_MAX {
                    draw = normal.sample(rng);
                    redraws += 1;
                }
                draw
            }
            Latency::LogNormal { median, sigma } => {
                LogNormal::new((median.as_nanos() as f64).ln(), *sigma)
                    .expect("validated: sigma > 0")
                    .sample(rng)
            }
            Latency::Exponential { mean } => {
                if mean.as_nanos() == 0 {
                    return SimDuration::ZERO;
                }
                Exp::new(1.0 / mean.as_nanos() as f64)
                    .expect("validated: mean > 0")
                    .sample(rng)
            }
            Latency::Pareto { scale, alpha } => Pareto::new(scale.as_nanos() as f64, *alpha)
                .expect("validated: scale, alpha > 0")
                .sample(rng),
            Latency::Mixture(parts) => {
                let total: f64 = parts.iter().map(|(w, _)| *w).sum();
                let mut pick = rng.random::<f64>() * total;
                for (weight, part) in parts {
                    if pick < *weight {
                        return part.sample(rng);
                    }
                    pick -= weight;
                }
                let (_, last) = parts.last().expect("validated: non-empty mixture");
                return last.sample(rng);
            }
            Latency::Shifted { by, latency } => {
                return by.saturating_add(latency.sample(rng)).min(LATENCY_MAX)
            }
        };
        clamp_nanos(nanos)
    }

    /// The mean delay, where it is finite (used for reports and tests).
    pub fn mean_nanos(&self) -> Option<f64> {
        Some(match self {
            Latency::Constant(d) => d.as_nanos() as f64,
            Latency::Uniform { min, max } => (min.as_nanos() as f64 + max.as_nanos() as f64) / 2.0,
            Latency::Normal { mean, .. } => mean.as_nanos() as f64,
            Latency::LogNormal { median, sigma } => {
                median.as_nanos() as f64 * (sigma * sigma / 2.0).exp()
            }
            Latency::Exponential { mean } => mean.as_nanos() as f64,
            Latency::Pareto { scale, alpha } => {
                if *alpha <= 1.0 {
                    return None;
                }
                alpha * scale.as_nanos() as f64 / (alpha - 1.0)
            }
            Latency::Shifted { by, latency } => by.as_nanos() as f64 + latency.mean_nanos()?,
            Latency::Mixture(parts) => {
                let total: f64 = parts.iter().map(|(w, _)| *w).sum();
                let mut mean = 0.0;
                for (w, part) in parts {
                    mean += w / total * part.mean_nanos()?;
                }
                mean
            }
        })
    }
}

fn clamp_nanos(nanos: f64) -> SimDuration {
    if nanos.is_nan() || nanos <= 0.0 {
        return SimDuration::ZERO;
    }
    let max = LATENCY_MAX.as_nanos() as f64;
    SimDuration::from_nanos(if nanos >= max {
        LATENCY_MAX.as_nanos()
    } else {
        nanos.round() as u64
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    fn sample_mean(latency: &Latency, draws: u32) -> f64 {
        let mut rng = stream(1, "latency-test");
        (0..draws)
            .map(|_| latency.sample(&mut rng).as_nanos() as f64)
            .sum::<f64>()
            / draws as f64
    }

    #[test]
    fn sample_means_match_theory() {
        let ms = |v: u64| SimDuration::from_millis(v);
        let cases = vec![
            Latency::Constant(ms(5)),
            Latency::Uniform {
                min: ms(1),
                max: ms(10),
            },
            Latency::Normal {
                mean: ms(50),
                std_dev: ms(5),
            },
            Latency::LogNormal {
                median: ms(10),
                sigma: 0.5,
            },
            Latency::Exponential { mean: ms(20) },
            Latency::Pareto {
                scale: ms(2),
                alpha: 3.0,
            },
            Latency::Mixture(vec![
                (0.9, Latency::Constant(ms(1))),
                (0.1, Latency::Exponential { mean: ms(100) }),
            ]),
            Latency::Shifted {
                by: ms(75),
                latency: Box::new(Latency::Exponential { mean: ms(5) }),
            },
        ];
        for latency in cases {
            latency.validate().unwrap();
            let expected = latency.mean_nanos().unwrap();
            let got = sample_mean(&latency, 200_000);
            let relative_error = (got - expected).abs() / expected;
            assert!(
                relative_error < 0.03,
                "{latency:?}: mean {got} vs {expected}"
            );
        }
    }

    #[test]
    fn truncated_normal_never_negative_and_samples_are_clamped() {
        let mut rng = stream(2, "latency-test");
        let normal = Latency::Normal {
            mean: SimDuration::from_millis(1),
            std_dev: SimDuration::from_millis(10),
        };
        let heavy = Latency::Pareto {
            scale: SimDuration::from_secs(1),
            alpha: 0.05,
        };
        for _ in 0..10_000 {
            assert!(normal.sample(&mut rng) <= LATENCY_MAX);
            assert!(heavy.sample(&mut rng) <= LATENCY_MAX);
        }
    }

    #[test]
    fn validation_names_the_bad_parameter() {
        let bad = Latency::Mixture(vec![(
            1.0,
            Latency::Pareto {
                scale: SimDuration::from_millis(1),
                alpha: -1.0,
            },
        )]);
        assert_eq!(
            bad.validate().unwrap_err(),
            "mixture component 0: pareto alpha must be a finite number above 0, got -1"
        );
        let bad = Latency::Uniform {
            min: SimDuration::from_millis(9),
            max: SimDuration::from_millis(1),
        };
        assert_eq!(
            bad.validate().unwrap_err(),
            "uniform min (9ms) must not exceed max (1ms)"
        );
    }
}
