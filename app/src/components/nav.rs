//! The studio's sections, in navigation order.

use crate::i18n::K;

/// A navigation entry: path, label, what the section is for, and whether
/// only admins are offered it (others would find only "admins manage
/// this" there; the pages check the role themselves).
pub struct Section {
    pub path: &'static str,
    pub label: K,
    pub about: K,
    pub admin_only: bool,
}

pub const SECTIONS: [Section; 11] = [
    Section { path: "/projects", label: K::Projects, about: K::ProjectsIntro, admin_only: false },
    Section { path: "/maps", label: K::Maps, about: K::SectionMaps, admin_only: false },
    Section { path: "/endpoints", label: K::Endpoints, about: K::SectionEndpoints, admin_only: false },
    Section { path: "/scenarios", label: K::Scenarios, about: K::SectionScenarios, admin_only: false },
    Section { path: "/leads", label: K::Leads, about: K::SectionLeads, admin_only: false },
    Section { path: "/traces", label: K::Traces, about: K::SectionTraces, admin_only: false },
    Section { path: "/analytics", label: K::Analytics, about: K::SectionAnalytics, admin_only: false },
    Section { path: "/tokens", label: K::Tokens, about: K::SectionTokens, admin_only: true },
    Section { path: "/users", label: K::Users, about: K::SectionUsers, admin_only: true },
    Section { path: "/settings", label: K::Settings, about: K::SectionSettings, admin_only: true },
    Section { path: "/audit", label: K::Audit, about: K::SectionAudit, admin_only: true },
];
