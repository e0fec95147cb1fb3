//! What the studio's version histories share: two versions compared, as
//! the lines of the side-by-side view (`components::diff_table`). Built
//! on the server in the reader's language, so the browser needs no typed
//! diff of maps, endpoints or scenarios (bundle size).

use serde::{Deserialize, Serialize};

/// Two versions compared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiffRows {
    /// Items added, removed or changed.
    pub count: usize,
    pub rows: Vec<DiffRow>,
}

/// One line of a diff: the item (empty for a whole-document field),
/// `added`, `removed` or `changed`, the field, and both sides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiffRow {
    pub label: String,
    pub change: String,
    pub field: String,
    pub before: String,
    pub after: String,
}
