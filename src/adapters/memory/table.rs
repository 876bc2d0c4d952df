//! One table of rows in memory, for the in-memory doubles: the list, add, change and delete that
//! every repository double needs, written once. Ids count from 1 like the database's sequences.

use std::sync::{Mutex, MutexGuard};

/// Rows behind a lock, with the last id handed out.
pub struct Table<T> {
    rows: Mutex<(u32, Vec<T>)>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self { rows: Mutex::new((0, Vec::new())) }
    }
}

impl<T: Clone> Table<T> {
    fn rows(&self) -> MutexGuard<'_, (u32, Vec<T>)> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The rows `keep` accepts, in the order they were added.
    pub fn select(&self, keep: impl Fn(&T) -> bool) -> Vec<T> {
        self.rows().1.iter().filter(|r| keep(r)).cloned().collect()
    }

    /// The first row `which` accepts.
    pub fn find(&self, which: impl Fn(&T) -> bool) -> Option<T> {
        self.rows().1.iter().find(|r| which(r)).cloned()
    }

    /// Adds the row `make` builds from the next id, unless a row `clash` accepts is there
    /// already (then `Err` with that row); atomic, like a unique constraint.
    pub fn add_unless(&self, clash: impl Fn(&T) -> bool, make: impl FnOnce(u32) -> T) -> Result<T, T> {
        let mut rows = self.rows();
        if let Some(existing) = rows.1.iter().find(|r| clash(r)) {
            return Err(existing.clone());
        }
        rows.0 += 1;
        let row = make(rows.0);
        rows.1.push(row.clone());
        Ok(row)
    }

    /// Adds the row `make` builds from the next id.
    pub fn add(&self, make: impl FnOnce(u32) -> T) -> T {
        self.add_unless(|_| false, make).unwrap_or_else(|row| row)
    }

    /// Changes the first row `which` accepts; its new value, or `None` when there is none.
    pub fn update(&self, which: impl Fn(&T) -> bool, change: impl FnOnce(&mut T)) -> Option<T> {
        let mut rows = self.rows();
        let row = rows.1.iter_mut().find(|r| which(r))?;
        change(row);
        Some(row.clone())
    }

    /// Changes every row `which` accepts.
    pub fn update_all(&self, which: impl Fn(&T) -> bool, change: impl Fn(&mut T)) {
        self.rows().1.iter_mut().filter(|r| which(r)).for_each(change);
    }

    /// Deletes the rows `which` accepts; how many went.
    pub fn delete(&self, which: impl Fn(&T) -> bool) -> u64 {
        let mut rows = self.rows();
        let before = rows.1.len();
        rows.1.retain(|r| !which(r));
        (before - rows.1.len()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn ids_count_from_one_and_rows_keep_their_order() {
        let table = Table::default();
        assert_eq!(table.add(|id| (id, "a")), (1, "a"));
        assert_eq!(table.add(|id| (id, "b")), (2, "b"));
        assert_eq!(table.select(|_| true), vec![(1, "a"), (2, "b")]);
        assert_eq!(table.find(|r| r.1 == "b"), Some((2, "b")));
    }

    #[test]
    fn a_clashing_row_is_not_added_and_uses_no_id() {
        let table = Table::default();
        table.add(|id| (id, "a"));
        assert_eq!(table.add_unless(|r| r.1 == "a", |id| (id, "a")), Err((1, "a")));
        assert_eq!(table.add_unless(|r| r.1 == "b", |id| (id, "b")), Ok((2, "b")));
    }

    #[test]
    fn update_changes_the_first_match_and_update_all_every_match() {
        let table = Table::default();
        table.add(|id| (id, 10));
        table.add(|id| (id, 10));
        assert_eq!(table.update(|r| r.0 == 2, |r| r.1 = 20), Some((2, 20)));
        assert_eq!(table.update(|r| r.0 == 3, |r| r.1 = 20), None);
        table.update_all(|r| r.1 == 10 || r.1 == 20, |r| r.1 += 1);
        assert_eq!(table.select(|_| true), vec![(1, 11), (2, 21)]);
    }

    #[test]
    fn delete_counts_the_rows_that_went() {
        let table = Table::default();
        for _ in 0..3 {
            table.add(|id| id);
        }
        assert_eq!(table.delete(|id| *id >= 2), 2);
        assert_eq!(table.delete(|id| *id >= 2), 0);
        assert_eq!(table.select(|_| true), vec![1]);
        assert_eq!(table.add(|id| id), 4, "ids are not reused");
    }
}
