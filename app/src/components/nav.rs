//! The studio's sections, in navigation order.

use crate::i18n::K;

/// A navigation entry: path, label and what the section is for.
pub struct Section {
    pub path: &'static str,
    pub label: K,
    pub about: K,
}

pub const SECTIONS: [Section; 10] = [
    Section { path: "/projects", label: K::Projects, about: K::ProjectsIntro },
    Section { path: "/maps", label: K::Maps, about: K::SectionMaps },
    Section { path: "/endpoints", label: K::Endpoints, about: K::SectionEndpoints },
    Section { path: "/scenarios", label: K::Scenarios, about: K::SectionScenarios },
    Section { path: "/leads", label: K::Leads, about: K::SectionLeads },
    Section { path: "/traces", label: K::Traces, about: K::SectionTraces },
    Section { path: "/analytics", label: K::Analytics, about: K::SectionAnalytics },
    Section { path: "/tokens", label: K::Tokens, about: K::SectionTokens },
    Section { path: "/users", label: K::Users, about: K::SectionUsers },
    Section { path: "/settings", label: K::Settings, about: K::SectionSettings },
];
