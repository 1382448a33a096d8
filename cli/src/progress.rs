//! Progress bars for uploads and downloads of more than a few megabytes, one per payload,
//! drawn on standard error.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Transfers smaller than this get no bar.
const SHOWN_FROM_BYTES: u64 = 4 * 1024 * 1024;

/// The bars of one run, shared by every transfer.
#[derive(Clone, Default)]
pub struct Bars {
    multi: MultiProgress,
    bars: Arc<Mutex<HashMap<String, ProgressBar>>>,
}

impl Bars {
    /// Moves the bar of `dataname` to `done` of `total` bytes (finishing it at `total`).
    pub fn update(&self, dataname: &str, done: u64, total: u64) {
        if total < SHOWN_FROM_BYTES {
            return;
        }
        let mut bars = self
            .bars
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bar = bars.entry(dataname.to_owned()).or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::new(total));
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:24!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                )
                .expect("a valid progress template")
                .progress_chars("=> "),
            );
            bar.set_message(dataname.to_owned());
            bar
        });
        bar.set_position(done);
        if done >= total {
            bar.finish();
            bars.remove(dataname);
        }
    }
}
