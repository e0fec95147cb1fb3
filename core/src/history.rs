//! A version history read a page at a time: the newest versions first,
//! then older ones on asking. Maps, endpoints and scenarios keep every
//! save, so a long-lived one's history grows without bound; the studio
//! reads [`PAGE`] versions and passes the oldest one's number back as
//! `before` for the next.

use serde::{Deserialize, Serialize};

/// Versions on one page of a history.
pub const PAGE: usize = 50;

/// Which page of a history to read: versions older than `before` (all
/// when `None`), newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryWindow {
    pub before: Option<i64>,
}

impl HistoryWindow {
    /// The newest page.
    pub const NEWEST: HistoryWindow = HistoryWindow { before: None };

    /// The page after one whose oldest version is `version`.
    pub fn before(version: i64) -> Self {
        HistoryWindow { before: Some(version) }
    }

    /// The bound for `version < $bound` (past every version when `None`).
    pub fn bound(self) -> i64 {
        self.before.unwrap_or(i64::MAX)
    }
}

/// One page of a history, newest first, and whether older versions remain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage<T> {
    pub versions: Vec<T>,
    pub more: bool,
}

impl<T> HistoryPage<T> {
    /// A page from `read` rows fetched with `LIMIT PAGE + 1`: the extra
    /// row only says that more remain.
    pub fn from_read(mut read: Vec<T>) -> Self {
        let more = read.len() > PAGE;
        read.truncate(PAGE);
        HistoryPage { versions: read, more }
    }

    /// The same page with each version turned into `U`.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> HistoryPage<U> {
        HistoryPage { versions: self.versions.into_iter().map(f).collect(), more: self.more }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extra_row_says_more_and_is_dropped() {
        let full = HistoryPage::from_read((0..=PAGE as i64).rev().collect());
        assert!(full.more);
        assert_eq!(full.versions.len(), PAGE);
        assert_eq!(full.versions.last(), Some(&1));
        let last = HistoryPage::from_read(vec![3i64, 2, 1]);
        assert!(!last.more);
        assert_eq!(last.versions, [3, 2, 1]);
        assert_eq!(HistoryWindow::NEWEST.bound(), i64::MAX);
        assert_eq!(HistoryWindow::before(7).bound(), 7);
    }
}
