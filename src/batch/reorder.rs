//! Releasing results in input order with bounded memory.
//!
//! Uploads finish out of order, but piped output, `-o records`, `--json` and
//! `-o url` are printed in input order. Holding every result until the end
//! grows memory with the batch; instead results wait in a window of `W` slots
//! and are released as soon as every earlier input has been released. The
//! scheduler asks [`Reorder::can_start`] before it starts an input: input `i`
//! may start only when `i < released + W`, so at most `W` results are ever
//! held, however large the batch.

use std::collections::VecDeque;
use std::fmt;

/// A result that does not fit the window: a scheduling bug, reported rather
/// than turned into a panic or unbounded memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReorderError {
    /// The index was released already, or pushed twice.
    Duplicate(usize),
    /// The index is at or past `released + window`: it should not have started.
    OutsideWindow(usize),
}

impl fmt::Display for ReorderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReorderError::Duplicate(i) => write!(f, "result {i} arrived twice"),
            ReorderError::OutsideWindow(i) => write!(f, "result {i} arrived outside the reorder window"),
        }
    }
}

impl std::error::Error for ReorderError {}

/// Results keyed by input index, released strictly in index order.
#[derive(Debug)]
pub(crate) struct Reorder<T> {
    /// The index of the next result to release.
    next: usize,
    window: usize,
    /// Slot `k` holds the result of input `next + k`, when it has arrived.
    slots: VecDeque<Option<T>>,
}

impl<T> Reorder<T> {
    /// A window of `window` results (at least one).
    pub(crate) fn new(window: usize) -> Self {
        let window = window.max(1);
        Reorder {
            next: 0,
            window,
            slots: VecDeque::with_capacity(window),
        }
    }

    #[cfg(test)]
    /// The window size.
    pub(crate) fn window(&self) -> usize {
        self.window
    }

    /// How many results have been released so far (the index of the next one).
    pub(crate) fn released(&self) -> usize {
        self.next
    }

    /// Whether input `index` may start now without its result ever overflowing
    /// the window.
    pub(crate) fn can_start(&self, index: usize) -> bool {
        index >= self.next && index - self.next < self.window
    }

    /// Results held, waiting for an earlier one.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Stores the result of input `index`.
    pub(crate) fn push(&mut self, index: usize, value: T) -> Result<(), ReorderError> {
        if index < self.next {
            return Err(ReorderError::Duplicate(index));
        }
        let offset = index - self.next;
        if offset >= self.window {
            return Err(ReorderError::OutsideWindow(index));
        }
        while self.slots.len() <= offset {
            self.slots.push_back(None);
        }
        let slot = &mut self.slots[offset];
        if slot.is_some() {
            return Err(ReorderError::Duplicate(index));
        }
        *slot = Some(value);
        Ok(())
    }

    /// The next result in input order, if it has arrived.
    pub(crate) fn pop(&mut self) -> Option<(usize, T)> {
        match self.slots.front() {
            Some(Some(_)) => {}
            _ => return None,
        }
        let value = self.slots.pop_front().flatten()?;
        let index = self.next;
        self.next += 1;
        Some((index, value))
    }

    /// Every result that can be released now, in input order.
    pub(crate) fn drain_ready(&mut self) -> impl Iterator<Item = (usize, T)> + '_ {
        std::iter::from_fn(move || self.pop())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn results_are_released_in_input_order() {
        let mut r = Reorder::new(4);
        r.push(2, "c").unwrap();
        r.push(1, "b").unwrap();
        assert_eq!(r.pop(), None, "0 has not arrived");
        r.push(0, "a").unwrap();
        assert_eq!(r.drain_ready().collect::<Vec<_>>(), vec![(0, "a"), (1, "b"), (2, "c")]);
        assert_eq!(r.released(), 3);
        assert_eq!(r.held(), 0);
    }

    #[test]
    fn the_window_bounds_what_may_start() {
        let mut r = Reorder::new(3);
        assert!(r.can_start(0) && r.can_start(2));
        assert!(!r.can_start(3), "0 is not released yet");
        r.push(1, ()).unwrap();
        r.push(2, ()).unwrap();
        assert_eq!(r.push(3, ()), Err(ReorderError::OutsideWindow(3)));
        assert!(!r.can_start(4));
        r.push(0, ()).unwrap();
        assert_eq!(r.drain_ready().count(), 3);
        assert!(r.can_start(5) && !r.can_start(6) && !r.can_start(2));
    }

    #[test]
    fn duplicates_are_refused() {
        let mut r = Reorder::new(2);
        r.push(1, 1).unwrap();
        assert_eq!(r.push(1, 2), Err(ReorderError::Duplicate(1)));
        r.push(0, 0).unwrap();
        assert_eq!(r.drain_ready().count(), 2);
        assert_eq!(r.push(0, 0), Err(ReorderError::Duplicate(0)));
        assert_eq!(ReorderError::Duplicate(0).to_string(), "result 0 arrived twice");
    }

    #[test]
    fn a_zero_window_is_one() {
        let r: Reorder<()> = Reorder::new(0);
        assert_eq!(r.window(), 1);
        assert!(r.can_start(0) && !r.can_start(1));
    }

    proptest! {
        /// A scheduler that starts any startable input and finishes running ones
        /// in arbitrary order: every result comes out once, in order, and no more
        /// than the window is ever held.
        #[test]
        fn any_completion_order_comes_out_in_order_within_the_window(
            n in 0usize..200,
            window in 1usize..16,
            choices in proptest::collection::vec(any::<prop::sample::Index>(), 0..400),
        ) {
            let mut r = Reorder::new(window);
            let mut running: Vec<usize> = Vec::new();
            let mut next_start = 0;
            let mut out = Vec::new();
            let mut choices = choices.into_iter();
            while out.len() < n {
                while next_start < n && r.can_start(next_start) && running.len() < window {
                    running.push(next_start);
                    next_start += 1;
                }
                let pick = choices.next().map_or(0, |c| c.index(running.len()));
                let index = running.swap_remove(pick);
                r.push(index, index * 10).unwrap();
                prop_assert!(r.held() <= window);
                out.extend(r.drain_ready());
            }
            prop_assert_eq!(out, (0..n).map(|i| (i, i * 10)).collect::<Vec<_>>());
        }
    }
}
