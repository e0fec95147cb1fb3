//! Studio users as the rest of the system sees them once logged in.

use crate::{Email, Locale, Role, UserId};
use serde::{Deserialize, Serialize};

/// The user behind a valid session: what every server function checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: UserId,
    pub email: Email,
    pub role: Role,
    pub locale: Locale,
    pub display_name: String,
}

impl SessionUser {
    pub fn allows(&self, permission: crate::Permission) -> bool {
        self.role.allows(permission)
    }
}

/// A row of the studio's user list (admins only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserListing {
    pub user: SessionUser,
    pub disabled: bool,
    pub created_at: crate::Millis,
}

/// Minimum length of a studio password.
pub const PASSWORD_MIN: usize = 10;
