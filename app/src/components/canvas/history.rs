//! Undo and redo: two stacks of whole states. A state is a scenario
//! (steps and positions): a few hundred steps clone in microseconds, and a
//! snapshot can never get out of step with the edit that made it, as an
//! inverse operation could.

/// The undo/redo stack of an editor whose state is a `T`.
#[derive(Debug, Clone)]
pub struct History<T> {
    undo: Vec<T>,
    redo: Vec<T>,
    limit: usize,
}

impl<T> History<T> {
    /// A history keeping at most `limit` undo steps (the oldest are dropped).
    pub fn new(limit: usize) -> Self {
        Self { undo: Vec::new(), redo: Vec::new(), limit: limit.max(1) }
    }

    /// An edit was made; `before` is the state it started from. A new edit
    /// forgets what was undone.
    pub fn record(&mut self, before: T) {
        self.undo.push(before);
        if self.undo.len() > self.limit {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    /// The state before the last edit, if any; `current` becomes redoable.
    pub fn undo(&mut self, current: T) -> Option<T> {
        let previous = self.undo.pop()?;
        self.redo.push(current);
        Some(previous)
    }

    /// The state the last undo left, if any; `current` becomes undoable.
    pub fn redo(&mut self, current: T) -> Option<T> {
        let next = self.redo.pop()?;
        self.undo.push(current);
        Some(next)
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::History;

    #[test]
    fn undo_then_redo_walks_back_and_forth() {
        let mut h = History::new(10);
        // 1 → 2 → 3
        h.record(1);
        h.record(2);
        assert_eq!(h.undo(3), Some(2));
        assert_eq!(h.undo(2), Some(1));
        assert_eq!(h.undo(1), None, "nothing before the first edit");
        assert_eq!(h.redo(1), Some(2));
        assert_eq!(h.redo(2), Some(3));
        assert_eq!(h.redo(3), None);
    }

    #[test]
    fn a_new_edit_forgets_what_was_undone() {
        let mut h = History::new(10);
        h.record(1);
        assert_eq!(h.undo(2), Some(1));
        assert!(h.can_redo());
        h.record(1);
        assert!(!h.can_redo());
        assert_eq!(h.undo(5), Some(1));
    }

    #[test]
    fn the_oldest_edits_fall_off_past_the_limit() {
        let mut h = History::new(2);
        for before in 1..=4 {
            h.record(before);
        }
        assert_eq!(h.undo(5), Some(4));
        assert_eq!(h.undo(4), Some(3));
        assert_eq!(h.undo(3), None);
    }
}
