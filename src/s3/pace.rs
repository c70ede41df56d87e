//! How fast and how often to call S3 when it throttles: a shared send-rate limiter
//! that cuts its rate at most once per round trip of throttling answers (AIMD), and
//! exponential backoff with full jitter for throttled retries.
//!
//! The SDK's adaptive mode cuts its rate once for every throttling answer. A fleet
//! run keeps dozens of calls in flight, so one burst over the server's limit returns
//! dozens of SlowDowns at once, and the cuts compound (0.7^30 of the rate): runs
//! against the same server took 4.4 s or 10.2 s depending on how many SlowDowns
//! landed in the first burst. Here a throttling answer to a request whose send slot
//! was booked before the latest cut says nothing new (it left at the old rate), so
//! it is ignored: one cut per round trip, as TCP congestion control does.
//!
//! Pure state: every method takes the current time, so tests drive it with plain
//! values; the S3 client does the sleeping.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The lowest send rate the limiter cuts to (requests per second, per region).
///
/// Under constant SlowDown every attempt is throttled, so a run's length is its
/// attempts divided by this floor: 100 buckets of 10 attempts fail in about 40 s
/// (at 10 per second they took 102 s). A SlowDown is a cheap answer for S3, and
/// every call's attempts and time are bounded anyway.
pub const MIN_RATE: f64 = 25.0;

/// A cut keeps this share of the rate.
pub const DECREASE: f64 = 0.7;

/// After a cut the rate grows back linearly by this share of the cut rate per
/// second (from 70% to 100% of the old rate in about 1.1 s). 0.25 measured the
/// same median against a 300/s limit with a wider spread (3.4-4.6 s, not 3.5-4.0 s).
pub const INCREASE_PER_SECOND: f64 = 0.4;

/// How many recent sends the measured send rate is taken over.
const SAMPLE: usize = 64;

/// A send-rate limiter shared by every call to one region.
#[derive(Debug, Default)]
pub struct Pacer {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Requests per second; `None` until the first throttling answer (no limit).
    rate: Option<f64>,
    /// Additive increase, requests per second per second.
    step: f64,
    /// When `rate` last grew (or was cut).
    grown_at: Option<Instant>,
    /// The earliest time the next request may be sent.
    next_slot: Option<Instant>,
    /// When the rate was last cut.
    last_cut: Option<Instant>,
    /// The (planned) send times of the latest requests.
    sends: VecDeque<Instant>,
}

impl Pacer {
    /// A limiter with no limit until S3 first throttles.
    pub fn new() -> Pacer {
        Pacer::default()
    }

    /// Book the next send slot at or after `now`; returns how long to wait for it.
    pub fn reserve(&self, now: Instant) -> Duration {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.grow(now);
        let slot = match s.rate {
            None => now,
            Some(rate) => {
                let slot = s.next_slot.map_or(now, |n| n.max(now));
                s.next_slot = Some(slot + Duration::from_secs_f64(1.0 / rate));
                slot
            }
        };
        if s.sends.len() == SAMPLE {
            s.sends.pop_front();
        }
        s.sends.push_back(slot);
        slot - now
    }

    /// A request whose slot was booked at `booked_at` was throttled (answered at
    /// `now`). Cuts the rate unless the slot was booked before the latest cut (the
    /// request was paced at the old rate).
    pub fn on_throttle(&self, booked_at: Instant, now: Instant) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.last_cut.is_some_and(|cut| booked_at < cut) {
            return;
        }
        s.grow(now);
        let measured = s.measured_rate();
        let current = match (s.rate, measured) {
            (Some(r), Some(m)) => r.min(m),
            (Some(r), None) => r,
            (None, Some(m)) => m,
            (None, None) => MIN_RATE / DECREASE,
        };
        let rate = (current * DECREASE).max(MIN_RATE);
        tracing::debug!(
            from = current,
            to = rate,
            "S3 throttled: lowering the send rate"
        );
        s.rate = Some(rate);
        s.step = rate * INCREASE_PER_SECOND;
        s.grown_at = Some(now);
        s.last_cut = Some(now);
    }

    /// The current limit in requests per second (`None`: not limited yet).
    #[cfg(test)]
    pub fn rate(&self, now: Instant) -> Option<f64> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.grow(now);
        s.rate
    }
}

impl State {
    /// Additive increase since the last change.
    fn grow(&mut self, now: Instant) {
        if let (Some(rate), Some(at)) = (self.rate, self.grown_at) {
            let secs = now.saturating_duration_since(at).as_secs_f64();
            self.rate = Some(rate + self.step * secs);
            self.grown_at = Some(now);
        }
    }

    /// Requests per second over the latest sends, when there are enough of them.
    fn measured_rate(&self) -> Option<f64> {
        let (first, last) = (self.sends.front()?, self.sends.back()?);
        let span = last.saturating_duration_since(*first).as_secs_f64();
        (self.sends.len() >= 8 && span > 0.0).then(|| (self.sends.len() - 1) as f64 / span)
    }
}

/// The wait before retry number `retry` (1 for the first retry) of a throttled call:
/// full jitter over `initial * 2^(retry-1)`, capped at `max`. `unit` is a uniform
/// random number in [0, 1).
pub fn backoff(retry: u32, initial: Duration, max: Duration, unit: f64) -> Duration {
    let exp = 2f64.powi(retry.saturating_sub(1).min(30) as i32);
    let ceiling = (initial.as_secs_f64() * exp).min(max.as_secs_f64());
    Duration::from_secs_f64(ceiling * unit.clamp(0.0, 1.0))
}

/// A uniform random number in [0, 1) for jitter (std's randomly keyed hasher; no
/// crate needed for numbers that only spread retries apart).
pub fn jitter() -> f64 {
    use std::hash::{BuildHasher, RandomState};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let bits = RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed));
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// `n` sends `gap` apart from `t0`; returns the time after the last.
    fn send_steadily(p: &Pacer, t0: Instant, n: u32, gap: Duration) -> Instant {
        let mut t = t0;
        for _ in 0..n {
            assert_eq!(p.reserve(t), Duration::ZERO, "no limit yet");
            t += gap;
        }
        t
    }

    #[test]
    fn no_limit_until_throttled_then_one_cut_per_round_trip() {
        let p = Pacer::new();
        let t0 = Instant::now();
        // 1,000 requests per second.
        let t = send_steadily(&p, t0, 100, ms(1));
        assert_eq!(p.rate(t), None);
        // Thirty SlowDowns for requests of the same burst: one cut, not thirty.
        for i in 0..30 {
            p.on_throttle(t0 + ms(60 + i), t + ms(i));
        }
        let rate = p.rate(t + ms(30)).expect("limited");
        assert!((690.0..=720.0).contains(&rate), "{rate}");
        // A SlowDown for a request sent after the cut cuts again.
        p.on_throttle(t + ms(40), t + ms(45));
        let again = p.rate(t + ms(45)).expect("limited");
        assert!(
            again < rate * 0.75 && again > rate * 0.65,
            "{again} after {rate}"
        );
    }

    #[test]
    fn paces_sends_at_the_rate_and_grows_back_linearly() {
        let p = Pacer::new();
        let t0 = Instant::now();
        let t = send_steadily(&p, t0, 64, ms(10)); // 100 per second
        p.on_throttle(t, t);
        let rate = p.rate(t).expect("limited");
        assert!((69.0..=71.0).contains(&rate), "{rate}");
        // Back-to-back reservations are spaced 1/rate apart.
        let waits: Vec<Duration> = (0..3).map(|_| p.reserve(t)).collect();
        assert_eq!(waits[0], Duration::ZERO);
        let gap = waits[2] - waits[1];
        assert!((ms(13)..=ms(15)).contains(&gap), "{gap:?}");
        // Two seconds later: +2 * 40% of the cut rate.
        let later = p.rate(t + Duration::from_secs(2)).expect("limited");
        assert!((later - rate * 1.8).abs() < 0.5, "{later}");
    }

    #[test]
    fn never_cuts_below_the_floor() {
        let p = Pacer::new();
        let mut t = Instant::now();
        for _ in 0..100 {
            p.reserve(t);
            t += ms(5);
            p.on_throttle(t, t);
        }
        let rate = p.rate(t).expect("limited");
        assert!((MIN_RATE..MIN_RATE + 1.0).contains(&rate), "{rate}");
    }

    #[test]
    fn backoff_is_capped_exponential_with_full_jitter() {
        let (initial, max) = (ms(100), Duration::from_secs(5));
        let cases = [
            (1, 1.0, ms(100)),
            (2, 1.0, ms(200)),
            (4, 0.5, ms(400)),
            (7, 1.0, Duration::from_secs(5)),
            (40, 1.0, Duration::from_secs(5)),
            (3, 0.0, Duration::ZERO),
        ];
        for (retry, unit, want) in cases {
            let got = backoff(retry, initial, max, unit);
            assert!(
                got.abs_diff(want) < Duration::from_micros(10),
                "retry {retry} unit {unit}: {got:?}"
            );
        }
        for _ in 0..100 {
            let u = jitter();
            assert!((0.0..1.0).contains(&u), "{u}");
        }
    }
}
