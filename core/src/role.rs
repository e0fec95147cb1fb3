//! [`Role`] and [`Permission`]: who may do what.
//!
//! The studio hides what a role may not do, but the server checks
//! [`Role::allows`] in every server function and API route; hiding is a
//! courtesy, the check is the rule.

use crate::validation::Problem;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Architect,
    Analyst,
    Operator,
    Viewer,
}

/// An action the server guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read anything in the studio.
    View,
    /// Create, rename and delete projects and bots.
    ManageProjects,
    /// Users, roles, tokens, channel credentials, security settings.
    Administer,
    /// Endpoints, scenarios, binding map rows to endpoints, dry runs.
    DesignIntegrations,
    /// CJM, Service Blueprint and communication map contents.
    EditMaps,
    /// Take over live conversations and reply by hand.
    Operate,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Architect, Role::Analyst, Role::Operator, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Architect => "architect",
            Role::Analyst => "analyst",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Problem> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim().to_ascii_lowercase())
            .ok_or(Problem::BadRole)
    }

    /// The permission table of SPEC §1.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Architect => matches!(permission, View | ManageProjects | DesignIntegrations | EditMaps),
            Role::Analyst => matches!(permission, View | EditMaps),
            Role::Operator => matches!(permission, View | Operate),
            Role::Viewer => matches!(permission, View),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_and_architects_manage_projects() {
        let managing: Vec<_> = Role::ALL.into_iter().filter(|r| r.allows(Permission::ManageProjects)).collect();
        assert_eq!(managing, vec![Role::Admin, Role::Architect]);
    }

    #[test]
    fn everyone_views_only_admins_administer() {
        assert!(Role::ALL.iter().all(|r| r.allows(Permission::View)));
        assert!(Role::ALL.iter().filter(|r| r.allows(Permission::Administer)).eq([Role::Admin].iter()));
    }

    #[test]
    fn parses_names() {
        assert_eq!(Role::parse("Analyst"), Ok(Role::Analyst));
        assert_eq!(Role::parse("root"), Err(Problem::BadRole));
    }
}
