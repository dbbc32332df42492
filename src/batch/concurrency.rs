//! How many uploads to keep in flight: a fixed number (`--jobs N`), or a
//! level found while the batch runs (`--jobs auto`, the default).
//!
//! The adaptive limiter is a window-based Vegas/gradient limiter, after the
//! ones in Netflix's concurrency-limits: it starts low ([`START`]) and looks
//! at one window of completions at a time (about one round of the uploads in
//! flight). In slow start, as in TCP's, each upload that comes back with no
//! push-back and a latency near the best seen adds one to the level, so the
//! level doubles each round; slow start ends when a window's throughput did
//! not rise (the level goes back to where that window began), and the level
//! then grows by one per window. When latency grows past
//! [`TOLERANCE`] times the best, the level shrinks in proportion; a 429, a
//! 503, a retried or failed upload halves it. It never goes above the ceiling
//! (`--jobs-max`) nor below 1.
//!
//! Latency is each upload's time without its rate-limit waits, so the AIMD
//! pacing of `api::pacing` (which spaces requests when the service says slow
//! down) is not mistaken for a slow link; the two cooperate: the service's
//! 429 both slows the pacing and cuts the level here. A window's latency is
//! its lower quartile, so a few uploads that paid for a new connection (TCP
//! and TLS handshakes) in a window that added connections are not taken for
//! queueing.
//!
//! Nothing here reads a clock: the scheduler passes the time of each event,
//! so the unit tests drive it with a made-up series.

use std::time::Duration;

/// The level an adaptive run starts at.
pub(crate) const START: usize = 4;
/// Latency up to this many times the best seen counts as flat.
pub(crate) const TOLERANCE: f64 = 1.5;
/// A window's throughput must rise by this fraction for slow start to go on.
const RISE: f64 = 1.10;
/// After slow start, a window adds one only when its latency is within this
/// many times the best and its throughput did not fall: a level that only
/// adds queueing (a CPU-bound loopback) is not raised further.
const FLAT: f64 = 1.2;
/// The least number of completions a window holds.
const MIN_WINDOW: usize = 4;

/// What became of one upload, as the limiter sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Done at the first attempt, with no 429.
    Ok,
    /// The service said slow down (429, 503), or the upload was retried or
    /// failed: the level is cut at the end of the window.
    Dropped,
}

/// Why the level changed, for `-v`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Latency flat and throughput rising (slow start).
    Raised,
    /// One more after slow start: latency flat, throughput held.
    Probed,
    /// Latency grew.
    LatencyGrew,
    /// A 429/503, a retry or a failure in the window.
    Dropped,
}

impl Change {
    pub(crate) fn why(self) -> &'static str {
        match self {
            Change::Raised => "latency flat, throughput rising",
            Change::Probed => "latency flat: one more",
            Change::LatencyGrew => "latency grew",
            Change::Dropped => "the service said slow down, or an upload was retried or failed",
        }
    }
}

/// The number of uploads in flight at once.
#[derive(Debug)]
pub(crate) struct Limiter {
    limit: usize,
    max: usize,
    adaptive: Option<Adaptive>,
}

#[derive(Debug)]
struct Adaptive {
    /// The best window latency seen (seconds).
    best: Option<f64>,
    /// The current window: its start, latencies, and whether it had a drop.
    window_start: Duration,
    latencies: Vec<f64>,
    dropped: bool,
    /// The in-flight count reached the level during the window (the level,
    /// not the inputs, held the batch back).
    saturated: bool,
    /// The previous window's throughput (completions per second).
    last_rate: Option<f64>,
    slow_start: bool,
    /// The level when the current window began, and the completions that
    /// end it.
    window_limit: usize,
    window_len: usize,
}

impl Limiter {
    /// Always `jobs` in flight.
    pub(crate) fn fixed(jobs: usize) -> Limiter {
        let jobs = jobs.max(1);
        Limiter {
            limit: jobs,
            max: jobs,
            adaptive: None,
        }
    }

    /// Starts at [`START`] (or the ceiling, when lower) and adapts up to `max`;
    /// `now` is the time the batch starts.
    pub(crate) fn adaptive(max: usize, now: Duration) -> Limiter {
        let max = max.max(1);
        let start = START.min(max);
        Limiter {
            limit: start,
            max,
            adaptive: Some(Adaptive {
                best: None,
                window_start: now,
                latencies: Vec::new(),
                dropped: false,
                saturated: false,
                last_rate: None,
                slow_start: true,
                window_limit: start,
                window_len: start.max(MIN_WINDOW),
            }),
        }
    }

    /// The number of uploads that may be in flight now.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// The most that can ever be in flight (for the reorder window).
    pub(crate) fn ceiling(&self) -> usize {
        self.max
    }

    pub(crate) fn is_adaptive(&self) -> bool {
        self.adaptive.is_some()
    }

    /// An upload started, with `in_flight` uploads now running (itself included).
    pub(crate) fn started(&mut self, in_flight: usize) {
        let limit = self.limit;
        if let Some(state) = &mut self.adaptive
            && in_flight >= limit
        {
            state.saturated = true;
        }
    }

    /// An upload ended at `now` after `latency` (without rate-limit waits).
    /// At the end of a window, returns the new level and why when it is not
    /// the level the window began with (in slow start the level also moves
    /// within a window: read it with [`Limiter::limit`]).
    pub(crate) fn ended(&mut self, now: Duration, latency: Duration, signal: Signal) -> Option<(usize, Change)> {
        let max = self.max;
        let state = self.adaptive.as_mut()?;
        let secs = latency.as_secs_f64();
        state.latencies.push(secs);
        state.dropped |= signal == Signal::Dropped;
        if state.slow_start
            && state.saturated
            && !state.dropped
            && state.best.is_none_or(|best| secs <= best * TOLERANCE)
        {
            self.limit = (self.limit + 1).min(max);
        }
        if state.latencies.len() < state.window_len {
            return None;
        }
        let began = state.window_limit;
        let (next, change) = state.close_window(now, self.limit, max);
        self.limit = next;
        state.window_limit = next;
        state.window_len = next.max(MIN_WINDOW);
        (next != began).then_some((next, change))
    }
}

impl Adaptive {
    /// Ends the current window at `now`, the level being `limit`: the next
    /// level, and why.
    fn close_window(&mut self, now: Duration, limit: usize, max: usize) -> (usize, Change) {
        let began = self.window_limit;
        let elapsed = now.saturating_sub(self.window_start).as_secs_f64();
        let rate = (elapsed > 0.0).then(|| self.latencies.len() as f64 / elapsed);
        let latency = lower_quartile(&mut self.latencies);
        let best = match self.best {
            Some(best) if best <= latency => best,
            _ => latency,
        };
        self.best = Some(best);
        let dropped = self.dropped;
        let saturated = self.saturated;
        let (rose, held) = match (self.last_rate, rate) {
            (Some(last), Some(rate)) => (rate >= last * RISE, rate >= last),
            // A first window, or one too quick to time: no evidence against.
            _ => (true, true),
        };
        self.last_rate = rate;
        self.window_start = now;
        self.latencies.clear();
        self.dropped = false;
        self.saturated = false;

        // Cuts are from the level the window ran at, not from what slow
        // start reached within it.
        if dropped {
            self.slow_start = false;
            return ((began / 2).max(1), Change::Dropped);
        }
        if best > 0.0 && latency > best * TOLERANCE {
            self.slow_start = false;
            let gradient = (best * TOLERANCE / latency).clamp(0.5, 1.0);
            let cut = ((began as f64 * gradient) as usize).min(began.saturating_sub(1));
            return (cut.max(1), Change::LatencyGrew);
        }
        if !saturated {
            // The inputs, not the level, held the batch back: no evidence.
            return (limit, Change::Raised);
        }
        if self.slow_start {
            if rose {
                // Grown within the window already.
                return (limit, Change::Raised);
            }
            self.slow_start = false;
            return (began, Change::Raised);
        }
        if held && latency <= best * FLAT {
            return ((limit + 1).min(max), Change::Probed);
        }
        (limit, Change::Probed)
    }
}

/// The lower quartile of `values` (sorted in place).
fn lower_quartile(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 4).copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A far link with room for `capacity` uploads at `rtt_ms`: beyond it,
    /// uploads queue, and latency grows in proportion. Runs `rounds` windows
    /// and returns the level after each.
    fn run_link(limiter: &mut Limiter, rtt_ms: u64, capacity: usize, rounds: usize) -> Vec<usize> {
        let mut now = Duration::ZERO;
        let mut levels = Vec::new();
        for _ in 0..rounds {
            let level = limiter.limit();
            let queued = level as f64 / capacity as f64;
            let latency = ms((rtt_ms as f64 * queued.max(1.0)) as u64);
            for n in 1..=level {
                limiter.started(n);
            }
            now += latency;
            for _ in 0..level.max(MIN_WINDOW) {
                limiter.ended(now, latency, Signal::Ok);
            }
            levels.push(limiter.limit());
        }
        levels
    }

    #[test]
    fn fixed_never_moves() {
        let mut limiter = Limiter::fixed(8);
        assert!(!limiter.is_adaptive());
        for _ in 0..100 {
            limiter.started(8);
            assert_eq!(limiter.ended(ms(1), ms(900), Signal::Dropped), None);
        }
        assert_eq!(limiter.limit(), 8);
        assert_eq!(Limiter::fixed(0).limit(), 1);
    }

    #[test]
    fn starts_low_and_doubles_while_latency_is_flat() {
        let mut limiter = Limiter::adaptive(64, Duration::ZERO);
        assert_eq!(limiter.limit(), START);
        // Plenty of room: flat latency, throughput doubling with the level.
        let levels = run_link(&mut limiter, 150, 1000, 6);
        assert_eq!(levels, vec![8, 16, 32, 64, 64, 64]);
    }

    #[test]
    fn slow_start_adds_one_per_fast_completion() {
        let mut limiter = Limiter::adaptive(64, Duration::ZERO);
        for n in 1..=4 {
            limiter.started(n);
        }
        assert_eq!(limiter.ended(ms(100), ms(100), Signal::Ok), None);
        assert_eq!(limiter.ended(ms(110), ms(100), Signal::Ok), None);
        assert_eq!(limiter.limit(), 6);
        // A drop stops the growth for the rest of the window, and halves
        // the level the window began at when it ends.
        assert_eq!(limiter.ended(ms(120), ms(100), Signal::Dropped), None);
        assert_eq!(limiter.limit(), 6);
        assert_eq!(limiter.ended(ms(130), ms(100), Signal::Ok), Some((2, Change::Dropped)));
        assert_eq!(limiter.limit(), 2);
    }

    #[test]
    fn after_slow_start_a_little_queueing_holds_the_level() {
        let mut limiter = Limiter::adaptive(64, Duration::ZERO);
        run_link(&mut limiter, 100, 1000, 1);
        // A drop ends slow start: 8 -> 4.
        for _ in 0..8 {
            limiter.started(8);
            limiter.ended(ms(200), ms(100), Signal::Dropped);
        }
        assert_eq!(limiter.limit(), 4);
        let mut now = ms(200);
        for (latency, level) in [(100, 5), (130, 5), (110, 6), (149, 6)] {
            for _ in 0..limiter.limit().max(MIN_WINDOW) {
                limiter.started(limiter.limit());
                now += ms(latency / 10);
                limiter.ended(now, ms(latency), Signal::Ok);
            }
            assert_eq!(limiter.limit(), level, "at {latency} ms");
        }
    }

    #[test]
    fn a_low_ceiling_caps_the_start() {
        let limiter = Limiter::adaptive(2, Duration::ZERO);
        assert_eq!(limiter.limit(), 2);
    }

    #[test]
    fn settles_near_the_link_capacity() {
        // Room for 20 at once; past that, latency grows with the level.
        for capacity in [3, 6, 20, 40] {
            let mut limiter = Limiter::adaptive(64, Duration::ZERO);
            let levels = run_link(&mut limiter, 100, capacity, 60);
            let tail = &levels[40..];
            let (lo, hi) = (tail.iter().min().unwrap(), tail.iter().max().unwrap());
            assert!(
                *lo >= capacity / 2 && *hi <= capacity * 2,
                "capacity {capacity}: levels {levels:?}"
            );
        }
    }

    #[test]
    fn a_drop_halves_the_level() {
        let mut limiter = Limiter::adaptive(64, Duration::ZERO);
        run_link(&mut limiter, 50, 1000, 3);
        assert_eq!(limiter.limit(), 32);
        let mut change = None;
        for i in 0..32 {
            limiter.started(32);
            let signal = if i == 5 { Signal::Dropped } else { Signal::Ok };
            change = change.or(limiter.ended(ms(1000), ms(50), signal));
        }
        assert_eq!(change, Some((16, Change::Dropped)));
        // And it leaves slow start: it grows by one per window after.
        let levels = run_link(&mut limiter, 50, 1000, 3);
        assert_eq!(levels, vec![17, 18, 19]);
    }

    #[test]
    fn drops_never_go_below_one() {
        let mut limiter = Limiter::adaptive(64, Duration::ZERO);
        for _ in 0..50 {
            limiter.started(limiter.limit());
            limiter.ended(ms(1), ms(10), Signal::Dropped);
        }
        assert_eq!(limiter.limit(), 1);
    }

    #[test]
    fn latency_growth_cuts_the_level() {
        let mut limiter = Limiter::adaptive(64, Duration::ZERO);
        run_link(&mut limiter, 100, 1000, 2);
        assert_eq!(limiter.limit(), 16);
        // Every upload now takes three times as long.
        let mut change = None;
        for _ in 0..16 {
            limiter.started(16);
            change = change.or(limiter.ended(ms(10_000), ms(300), Signal::Ok));
        }
        // gradient 1.5 * 100 / 300 = 0.5
        assert_eq!(change, Some((8, Change::LatencyGrew)));
    }

    #[test]
    fn a_few_slow_new_connections_are_not_queueing() {
        let mut limiter = Limiter::adaptive(64, Duration::ZERO);
        // The first 4 each paid for a new connection (3 more round trips).
        for n in 1..=4 {
            limiter.started(n);
        }
        for _ in 0..4 {
            limiter.ended(ms(600), ms(600), Signal::Ok);
        }
        assert_eq!(limiter.limit(), 8);
        // Of the next 8, the 4 on new connections paid them too.
        let mut now = ms(600);
        for n in 1..=8 {
            limiter.started(n);
        }
        for latency in [150, 150, 150, 150, 600, 600, 600, 600] {
            now += ms(latency / 8);
            limiter.ended(now, ms(latency), Signal::Ok);
        }
        assert_eq!(limiter.limit(), 16);
    }

    #[test]
    fn no_rise_without_saturation() {
        // The inputs ran out (the tail of a batch): nothing says more would help.
        let mut limiter = Limiter::adaptive(64, Duration::ZERO);
        for i in 1..=20u64 {
            limiter.started(1);
            limiter.ended(ms(i * 100), ms(100), Signal::Ok);
        }
        assert_eq!(limiter.limit(), START);
    }

    #[test]
    fn slow_start_ends_when_throughput_stops_rising() {
        let mut limiter = Limiter::adaptive(64, Duration::ZERO);
        // Windows of `level` completions that take as long as the level in
        // tens of ms: throughput stays flat at 100/s whatever the level,
        // with latency flat (a CPU-bound loopback, say).
        let mut now = Duration::ZERO;
        let mut levels = Vec::new();
        for _ in 0..6 {
            let level = limiter.limit();
            for n in 1..=level {
                limiter.started(n);
            }
            let step = ms(10);
            for _ in 0..level.max(MIN_WINDOW) {
                now += step;
                limiter.ended(now, ms(5), Signal::Ok);
            }
            levels.push(limiter.limit());
        }
        // The first window has no earlier one to compare with; the second
        // (8 to 16) gained nothing, so the level goes back to 8.
        assert_eq!(levels, vec![8, 8, 9, 10, 11, 12]);
    }

    #[test]
    fn the_ceiling_holds() {
        for max in [1, 5, 64, 100] {
            let mut limiter = Limiter::adaptive(max, Duration::ZERO);
            let levels = run_link(&mut limiter, 20, 10_000, 20);
            assert!(levels.iter().all(|&l| (1..=max).contains(&l)), "{max}: {levels:?}");
            assert_eq!(limiter.ceiling(), max);
        }
    }

    proptest::proptest! {
        /// Whatever the series of latencies and drops, the level stays in 1..=max.
        #[test]
        fn level_stays_in_bounds(
            max in 1usize..200,
            events in proptest::collection::vec((1u64..5000, proptest::bool::ANY, 1usize..300), 1..400),
        ) {
            let mut limiter = Limiter::adaptive(max, Duration::ZERO);
            let mut now = Duration::ZERO;
            for (latency, dropped, in_flight) in events {
                limiter.started(in_flight);
                now += ms(latency / 10);
                let signal = if dropped { Signal::Dropped } else { Signal::Ok };
                limiter.ended(now, ms(latency), signal);
                proptest::prop_assert!((1..=max).contains(&limiter.limit()));
            }
        }
    }
}
