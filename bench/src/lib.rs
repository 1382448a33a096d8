//! The measuring harness of the NATSBridge benchmarks: each figure is taken several times,
//! interleaved with a baseline measured in the same run, and printed as one JSON line.
//!
//! `scripts/bench` collects the lines and renders them as Markdown. Set
//! `NATSBRIDGE_BENCH_QUICK=1` for a smoke run (one short round, figures meaningless).

use std::time::{Duration, Instant};

use serde_json::json;

/// Whether this is a smoke run: one round, tiny sample times.
pub fn quick() -> bool {
    std::env::var_os("NATSBRIDGE_BENCH_QUICK").is_some()
}

/// How many rounds each comparison runs (`NATSBRIDGE_BENCH_RUNS`, 5 by default, 1 when quick).
pub fn rounds() -> usize {
    if quick() {
        return 1;
    }
    std::env::var("NATSBRIDGE_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5)
}

/// Whether a benchmark was selected on the command line (`cargo bench -- b1 b2`); all are
/// when none is named. Cargo's own `--bench` flag is ignored.
pub fn selected(id: &str) -> bool {
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    named.is_empty() || named.iter().any(|n| n.eq_ignore_ascii_case(id))
}

/// The time one call of `f` takes, averaged over enough calls to fill about `sample`.
pub fn seconds_per_call(sample: Duration, mut f: impl FnMut()) -> f64 {
    let sample = if quick() {
        Duration::from_millis(5)
    } else {
        sample
    };
    let started = Instant::now();
    f();
    let once = started.elapsed().max(Duration::from_nanos(20));
    let calls = (sample.as_secs_f64() / once.as_secs_f64()).clamp(1.0, 1e7) as u64;
    let started = Instant::now();
    for _ in 0..calls {
        f();
    }
    started.elapsed().as_secs_f64() / calls as f64
}

/// Which direction of a figure is better.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Rates: bytes or messages per second.
    Higher,
    /// Times.
    Lower,
}

/// What a comparison must show to meet its goal, checked on the medians.
#[derive(Clone, Copy)]
pub enum Goal {
    /// No goal: the figure is reported.
    None,
    /// Ours is at least this fraction of the baseline's speed.
    RatioAtLeast(f64),
    /// Ours (in its unit) is at least this.
    AtLeast(f64),
    /// Ours (in its unit) is at most this.
    AtMost(f64),
}

/// One comparison: ours against a baseline, both measured in each round.
pub struct Comparison {
    /// `B1` ... `B5`.
    pub bench: &'static str,
    /// What is measured (`decode 1 MiB`).
    pub case: String,
    /// What "ours" is.
    pub ours: String,
    /// What the baseline is.
    pub baseline: String,
    /// The unit of both figures (`GB/s`, `msg/s`, `ms`).
    pub unit: &'static str,
    /// Which direction is better.
    pub better: Better,
    /// The goal, if this comparison has one.
    pub goal: Goal,
}

impl Comparison {
    /// Runs `rounds()` rounds of `ours` then `baseline` (each returning a figure in `unit`)
    /// and prints the JSON line.
    pub fn run(self, mut ours: impl FnMut() -> f64, mut baseline: impl FnMut() -> f64) {
        let mut mine = Vec::new();
        let mut theirs = Vec::new();
        for _ in 0..rounds() {
            mine.push(ours());
            theirs.push(baseline());
        }
        self.print(&mine, &theirs);
    }

    /// Prints the JSON line for figures measured elsewhere.
    pub fn print(self, ours: &[f64], baseline: &[f64]) {
        // The speed of ours relative to the baseline, per round (> 1: ours is faster).
        let ratios: Vec<f64> = ours
            .iter()
            .zip(baseline)
            .map(|(o, b)| match self.better {
                Better::Higher => o / b,
                Better::Lower => b / o,
            })
            .collect();
        let ours_stats = Stats::of(ours);
        let ratio_stats = Stats::of(&ratios);
        let (goal, met) = match self.goal {
            Goal::None => (String::new(), None),
            Goal::RatioAtLeast(r) => (
                format!("at least {:.0} % of baseline", r * 100.0),
                Some(ratio_stats.median >= r),
            ),
            Goal::AtLeast(x) => (
                format!("at least {x} {}", self.unit),
                Some(ours_stats.median >= x),
            ),
            Goal::AtMost(x) => (
                format!("at most {x} {}", self.unit),
                Some(ours_stats.median <= x),
            ),
        };
        let line = json!({
            "bench": self.bench,
            "case": self.case,
            "ours": self.ours,
            "baseline": self.baseline,
            "unit": self.unit,
            "higher_is_better": self.better == Better::Higher,
            "ours_figures": ours_stats.json(),
            "baseline_figures": Stats::of(baseline).json(),
            "ratio": ratio_stats.json(),
            "rounds": ours.len(),
            "goal": goal,
            "met": met,
        });
        println!("{line}");
    }
}

/// Prints a note for the report: a figure that is not a comparison, or why a case did not run.
pub fn note(bench: &str, text: &str) {
    println!("{}", json!({"bench": bench, "note": text}));
}

/// Minimum, median and maximum of some figures.
pub struct Stats {
    /// The least.
    pub min: f64,
    /// The middle one (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The greatest.
    pub max: f64,
}

impl Stats {
    /// The statistics of `figures` (all zero when there are none).
    pub fn of(figures: &[f64]) -> Stats {
        let mut sorted = figures.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n == 0 {
            return Stats {
                min: 0.0,
                median: 0.0,
                max: 0.0,
            };
        }
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Stats {
            min: sorted[0],
            median,
            max: sorted[n - 1],
        }
    }

    fn json(&self) -> serde_json::Value {
        json!([self.min, self.median, self.max])
    }
}

/// Bytes per second as GB/s (10^9).
pub fn gigabytes_per_second(bytes: usize, seconds: f64) -> f64 {
    bytes as f64 / seconds / 1e9
}

/// `n` bytes that do not compress: a fixed SplitMix64 sequence, eight bytes per step.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut state: u64 = n as u64;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(n);
    out
}

/// A size as people read it: `1 KiB`, `700 KiB`, `10 MB`.
pub fn size_name(bytes: usize) -> String {
    match bytes {
        b if b >= 1_000_000 && b % 1_000_000 == 0 => format!("{} MB", b / 1_000_000),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1024 && b % 1024 == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}
