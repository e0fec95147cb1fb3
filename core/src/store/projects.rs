//! Projects: list, get, create, update, delete.

use super::{now_millis, OnUnique, Store, StoreError, StoreResult};
use crate::project::ValidProject;
use crate::{Project, ProjectId, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

const SELECT: &str = "SELECT p.id, p.name, p.slug, p.description, p.created_at, p.updated_at, \
     (SELECT COUNT(*) FROM bots b WHERE b.project_id = p.id) AS bot_count FROM projects p";

fn project(row: &AnyRow) -> Result<Project, sqlx::Error> {
    Ok(Project {
        id: ProjectId::from_store(row.try_get("id")?),
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        description: row.try_get("description")?,
        bot_count: row.try_get("bot_count")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    pub async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        let rows = sqlx::query(&format!("{SELECT} ORDER BY p.name")).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(project).collect::<Result<_, _>>()?)
    }

    pub async fn project(&self, id: &ProjectId) -> StoreResult<Project> {
        let row = sqlx::query(&format!("{SELECT} WHERE p.id = $1")).bind(id.as_str()).fetch_optional(&self.pool).await?;
        row.as_ref().map(project).transpose()?.ok_or(StoreError::NotFound)
    }

    /// Creates a project with a fresh id, or with `id` when given (demo data).
    pub async fn create_project(
        &self,
        valid: &ValidProject,
        by: Option<&UserId>,
        id: Option<ProjectId>,
    ) -> StoreResult<Project> {
        let id = id.unwrap_or_else(ProjectId::generate);
        let now = now_millis();
        sqlx::query(
            "INSERT INTO projects (id, name, slug, description, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(id.as_str())
        .bind(&valid.name)
        .bind(valid.slug.as_str())
        .bind(&valid.description)
        .bind(by.map(|u| u.as_str().to_string()))
        .bind(now)
        .execute(&self.pool)
        .await
        .on_unique("slug")?;
        self.project(&id).await
    }

    pub async fn update_project(&self, id: &ProjectId, valid: &ValidProject) -> StoreResult<Project> {
        let done = sqlx::query("UPDATE projects SET name = $1, slug = $2, description = $3, updated_at = $4 WHERE id = $5")
            .bind(&valid.name)
            .bind(valid.slug.as_str())
            .bind(&valid.description)
            .bind(now_millis())
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .on_unique("slug")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.project(id).await
    }

    /// Deletes a project and (by cascade) its bots.
    pub async fn delete_project(&self, id: &ProjectId) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        // SQLite enforces ON DELETE CASCADE only with foreign_keys=ON, which
        // after_connect sets; delete children explicitly anyway so the
        // behaviour does not hang on a pragma.
        // Its bots' ids are kept as retired (`Store::bot_id_retired`).
        sqlx::query(super::bots::RETIRE_IDS).bind(now_millis()).bind("").bind(id.as_str()).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM bots WHERE project_id = $1").bind(id.as_str()).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM projects WHERE id = $1").bind(id.as_str()).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        self.cache.bots.clear();
        self.cache.endpoints.clear();
        Ok(())
    }
}
