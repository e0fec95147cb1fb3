//! Projects: a company's DMI project, the root that bots, maps and endpoints
//! belong to.

use crate::id::ProjectId;
use crate::slug::Slug;
use crate::validation::{optional_text, required_text, FieldError};
use crate::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub bot_count: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// What a user submits to create or edit a project, unvalidated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectDraft {
    pub name: String,
    pub slug: String,
    pub description: String,
}

/// A draft that passed [`ProjectDraft::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidProject {
    pub name: String,
    pub slug: Slug,
    pub description: String,
}

impl ProjectDraft {
    pub const NAME_MAX: usize = 120;
    pub const DESCRIPTION_MAX: usize = 2000;

    /// Checks every field and reports all problems at once. An empty slug
    /// is suggested from the name.
    pub fn validate(&self) -> Result<ValidProject, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = required_text("name", &self.name, Self::NAME_MAX, &mut errors);
        let description = optional_text("description", &self.description, Self::DESCRIPTION_MAX, &mut errors);
        let raw_slug = if self.slug.trim().is_empty() { Slug::suggest(&name) } else { self.slug.clone() };
        let slug = match Slug::parse(&raw_slug) {
            Ok(slug) => Some(slug),
            Err(problem) => {
                errors.push(FieldError::new("slug", problem));
                None
            }
        };
        match slug {
            Some(slug) if errors.is_empty() => Ok(ValidProject { name, slug, description }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::Problem;

    #[test]
    fn suggests_slug_and_trims() {
        let draft = ProjectDraft { name: "  REHAU Installers ".into(), ..Default::default() };
        let valid = draft.validate().unwrap();
        assert_eq!(valid.name, "REHAU Installers");
        assert_eq!(valid.slug.as_str(), "rehau-installers");
    }

    #[test]
    fn reports_every_bad_field() {
        let draft = ProjectDraft { name: "".into(), slug: "Bad Slug".into(), description: "x".repeat(2001) };
        let errors = draft.validate().unwrap_err();
        assert_eq!(
            errors,
            vec![
                FieldError::new("name", Problem::Required),
                FieldError::new("description", Problem::TooLong { max: 2000 }),
                FieldError::new("slug", Problem::BadSlug),
            ]
        );
    }

    #[test]
    fn cyrillic_name_needs_explicit_slug() {
        let draft = ProjectDraft { name: "Семейный сайт".into(), ..Default::default() };
        assert_eq!(draft.validate().unwrap_err(), vec![FieldError::new("slug", Problem::Required)]);
        let draft = ProjectDraft { name: "Семейный сайт".into(), slug: "fmlst".into(), ..Default::default() };
        assert_eq!(draft.validate().unwrap().slug.as_str(), "fmlst");
    }
}
