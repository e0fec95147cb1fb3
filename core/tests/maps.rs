//! Studio maps in the store, run once on SQLite and once on PostgreSQL:
//! every save is a version, a save from a stale version is a conflict that
//! writes nothing, restore is a new version, and a whole project survives
//! export → import → export.
#![cfg(feature = "backend")]

use comops_core::history::HistoryWindow;
use comops_core::map::export::ProjectExport;
use comops_core::map::links::loop_view;
use comops_core::map::{MapContent, MapId, MapKind};
use comops_core::project::ProjectDraft;
use comops_core::store::scratch::test_postgres;
use comops_core::store::{Store, StoreError};
use comops_core::ProjectId;
use serde_json::json;

async fn sqlite_store() -> Store {
    let dir = std::env::temp_dir().join(format!("comops-maps-{}", comops_core::auth::new_secret().0));
    let store = Store::connect(&format!("sqlite://{}/comops.db", dir.display())).await.unwrap();
    store.migrate().await.unwrap();
    store
}

async fn postgres_store(label: &str) -> Option<Store> {
    let url = test_postgres(label).await?;
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    Some(store)
}

macro_rules! on_both {
    ($name:ident, $suite:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$suite(super::sqlite_store().await).await;
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(store) = super::postgres_store(stringify!($name)).await {
                    super::$suite(store).await;
                }
            }
        }
    };
}

on_both!(versions_and_conflicts, versions_and_conflicts_suite);
on_both!(racing_saves, racing_saves_suite);
on_both!(demo_maps, demo_maps_suite);
on_both!(project_round_trip, project_round_trip_suite);
on_both!(deleting_a_map, deleting_a_map_suite);
on_both!(saves_together, saves_together_suite);
on_both!(deleted_with_links, deleted_with_links_suite);

async fn project(store: &Store, slug: &str) -> ProjectId {
    let draft = ProjectDraft { name: "REHAU".into(), slug: slug.into(), description: String::new() };
    store.create_project(&draft.validate().unwrap(), None, None).await.unwrap().id
}

fn cjm(stages: serde_json::Value) -> MapContent {
    MapContent::from_value(MapKind::Cjm, &json!({ "persona": "Монтажник", "stages": stages })).unwrap()
}

async fn versions_and_conflicts_suite(store: Store) {
    let prj = project(&store, "rehau").await;
    let v1 = cjm(json!([{"id": "registration", "stage": "Регистрация", "emotion_score": -1}]));
    let map = store.create_map(&prj, "Путь монтажника", &v1, "created", "alena@rehau.example").await.unwrap();
    assert_eq!((map.version, map.kind), (1, MapKind::Cjm));
    assert_eq!(store.map(&map.id).await.unwrap().content, v1);

    // Алёна adds a stage (v2); Марина, still on v1, cannot overwrite it.
    let v2 = cjm(json!([{"id": "registration", "stage": "Регистрация"}, {"id": "webinar", "stage": "Обучение"}]));
    assert_eq!(store.save_map(&map.id, 1, "Путь монтажника", &v2, "добавлено обучение", "alena@rehau.example").await.unwrap(), 2);
    let stale = store.save_map(&map.id, 1, "Чужая правка", &v1, "", "marina@rehau.example").await;
    match stale {
        Err(StoreError::Conflict { current, author }) => assert_eq!((current, author.as_str()), (2, "alena@rehau.example")),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let current = store.map(&map.id).await.unwrap();
    assert_eq!((current.version, current.title.as_str(), &current.content), (2, "Путь монтажника", &v2), "nothing was written");

    // Another kind of content is not this map.
    let wrong = MapContent::empty(MapKind::Communication);
    assert!(matches!(store.save_map(&map.id, 2, "x", &wrong, "", "x").await, Err(StoreError::NotFound)));

    let history = store.map_history(&map.id, HistoryWindow::NEWEST).await.unwrap().versions;
    let notes: Vec<_> = history.iter().map(|v| (v.version, v.note.as_str(), v.rows)).collect();
    assert_eq!(notes, [(2, "добавлено обучение", 2), (1, "created", 1)]);
    // Versions saved before their row count was stored are counted from
    // their content.
    sqlx::query("UPDATE map_versions SET row_count = NULL WHERE map_id = $1").bind(map.id.as_str()).execute(store.pool()).await.unwrap();
    let counted: Vec<_> = store.map_history(&map.id, HistoryWindow::NEWEST).await.unwrap().versions.iter().map(|v| (v.version, v.rows)).collect();
    assert_eq!(counted, [(2, 2), (1, 1)]);
    assert_eq!(store.map_version(&map.id, 1).await.unwrap().content, v1);
    assert!(matches!(store.map_version(&map.id, 9).await, Err(StoreError::NotFound)));

    // Restore is a new version with v1's content; from a stale base it conflicts too.
    assert!(matches!(store.restore_map(&map.id, 1, 1, "alena@rehau.example").await, Err(StoreError::Conflict { current: 2, .. })));
    assert_eq!(store.restore_map(&map.id, 1, 2, "alena@rehau.example").await.unwrap(), 3);
    let restored = store.map(&map.id).await.unwrap();
    assert_eq!((restored.version, &restored.content), (3, &v1));
    assert_eq!(store.map_history(&map.id, HistoryWindow::NEWEST).await.unwrap().versions[0].note, "restored from v1");

    let listed = store.list_maps(&prj).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].version, listed[0].rows, listed[0].title.as_str()), (3, 1, "Путь монтажника"));

    assert_eq!(store.delete_map(&map.id).await.unwrap(), 3, "v1, v2 and the restore went with it");
    assert!(matches!(store.map(&map.id).await, Err(StoreError::NotFound)));
    assert!(store.list_maps(&prj).await.unwrap().is_empty());
    let unknown = MapId::parse("map_nothing").unwrap();
    assert!(matches!(store.save_map(&unknown, 1, "x", &v1, "", "x").await, Err(StoreError::NotFound)));
}

/// Several maps saved in one commit (the loop's stage deleted with the
/// links to it): each gets its next version with its own note, or, one
/// of them stale, none does.
async fn saves_together_suite(store: Store) {
    use comops_core::store::maps::MapSave;
    let prj = project(&store, "together").await;
    let journey = cjm(json!([{"id": "registration", "stage": "Регистрация"}, {"id": "webinar", "stage": "Обучение"}]));
    let stages = store.create_map(&prj, "Путь", &journey, "created", "alena").await.unwrap();
    let linked = |links: serde_json::Value| {
        MapContent::from_value(MapKind::Blueprint, &json!({"stages": [{"id": "signup", "name": "Заявка", "cjm_stages": links}]})).unwrap()
    };
    let with_link = linked(json!([{"map": stages.id.as_str(), "item": "registration"}]));
    let blueprint = store.create_map(&prj, "Blueprint", &with_link, "created", "alena").await.unwrap();

    let fewer = cjm(json!([{"id": "webinar", "stage": "Обучение"}]));
    let unlinked = linked(json!([]));
    let both = [
        MapSave { id: &stages.id, expected: 1, title: "Путь", content: &fewer, note: "loop: «Регистрация» deleted" },
        MapSave { id: &blueprint.id, expected: 1, title: "Blueprint", content: &unlinked, note: "loop: links to «Регистрация» taken out" },
    ];
    assert_eq!(store.save_maps(&both, "marina").await.unwrap(), [2, 2]);
    assert_eq!(store.map(&stages.id).await.unwrap().content, fewer);
    let saved = store.map(&blueprint.id).await.unwrap();
    assert_eq!((saved.version, &saved.content, saved.author.as_str()), (2, &unlinked, "marina"));
    let note = |id: MapId| {
        let store = store.clone();
        async move { store.map_history(&id, HistoryWindow::NEWEST).await.unwrap().versions[0].note.clone() }
    };
    assert_eq!(note(blueprint.id.clone()).await, "loop: links to «Регистрация» taken out");
    assert_eq!(note(stages.id.clone()).await, "loop: «Регистрация» deleted");

    // The second is stale: the first, saved in the same commit, is not kept either.
    let back = [
        MapSave { id: &stages.id, expected: 2, title: "Путь", content: &journey, note: "put back" },
        MapSave { id: &blueprint.id, expected: 1, title: "Blueprint", content: &with_link, note: "put back" },
    ];
    match store.save_maps(&back, "marina").await {
        Err(StoreError::Conflict { current, author }) => assert_eq!((current, author.as_str()), (2, "marina")),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let kept = store.map(&stages.id).await.unwrap();
    assert_eq!((kept.version, &kept.content), (2, &fewer), "nothing was written");
    assert_eq!(store.map_history(&stages.id, HistoryWindow::NEWEST).await.unwrap().versions.len(), 2);
    // Another kind of content for one of them: none is saved.
    let wrong = [
        MapSave { id: &stages.id, expected: 2, title: "Путь", content: &journey, note: "" },
        MapSave { id: &blueprint.id, expected: 2, title: "Blueprint", content: &journey, note: "" },
    ];
    assert!(matches!(store.save_maps(&wrong, "marina").await, Err(StoreError::NotFound)));
    assert_eq!(store.map(&stages.id).await.unwrap().version, 2);
}

/// A map deleted with the maps linking to it saved without those links,
/// in one commit: a stale one keeps the map and every version.
async fn deleted_with_links_suite(store: Store) {
    use comops_core::store::maps::MapSave;
    let prj = project(&store, "deleted-with").await;
    let journey = cjm(json!([{"id": "registration", "stage": "Регистрация"}]));
    let stages = store.create_map(&prj, "Путь", &journey, "created", "alena").await.unwrap();
    store.save_map(&stages.id, 1, "Путь", &journey, "again", "alena").await.unwrap();
    let with_link = MapContent::from_value(MapKind::Blueprint, &json!({"stages": [{"id": "signup", "cjm_stages": [{"map": stages.id.as_str(), "item": "registration"}]}]})).unwrap();
    let blueprint = store.create_map(&prj, "Blueprint", &with_link, "created", "alena").await.unwrap();
    let mut unlinked = with_link.clone();
    assert_eq!(unlinked.drop_refs(&stages.id, |_| true), 1);

    // Stale: nothing is deleted or saved.
    let stale = [MapSave { id: &blueprint.id, expected: 7, title: "Blueprint", content: &unlinked, note: "cut" }];
    assert!(matches!(store.delete_map_with(&stages.id, 2, &stale, "marina").await, Err(StoreError::Conflict { current: 1, .. })));
    assert_eq!(store.map(&stages.id).await.unwrap().version, 2);
    assert_eq!(store.map(&blueprint.id).await.unwrap().content, with_link);
    // The map itself saved since it was read: nothing either.
    let cut = [MapSave { id: &blueprint.id, expected: 1, title: "Blueprint", content: &unlinked, note: "links to the deleted map «Путь» taken out (1)" }];
    match store.delete_map_with(&stages.id, 1, &cut, "marina").await {
        Err(StoreError::Conflict { current, author }) => assert_eq!((current, author.as_str()), (2, "alena")),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.map_history(&stages.id, HistoryWindow::NEWEST).await.unwrap().versions.len(), 2, "its history kept");
    assert_eq!(store.map(&blueprint.id).await.unwrap().version, 1);

    assert_eq!(store.delete_map_with(&stages.id, 2, &cut, "marina").await.unwrap(), (2, vec![2]));
    assert!(matches!(store.map(&stages.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.map_version(&stages.id, 1).await, Err(StoreError::NotFound)));
    let saved = store.map(&blueprint.id).await.unwrap();
    assert_eq!((saved.version, &saved.content, saved.author.as_str()), (2, &unlinked, "marina"));
    assert_eq!(store.map_history(&blueprint.id, HistoryWindow::NEWEST).await.unwrap().versions[0].note, "links to the deleted map «Путь» taken out (1)");
    // Gone already: nothing else is saved.
    let again = [MapSave { id: &blueprint.id, expected: 2, title: "Blueprint", content: &with_link, note: "" }];
    assert!(matches!(store.delete_map_with(&stages.id, 2, &again, "marina").await, Err(StoreError::NotFound)));
    assert_eq!(store.map(&blueprint.id).await.unwrap().version, 2);
}

/// Deleting a map takes its whole history, and nothing of any other map:
/// Алёна drops a draft CJM; the onboarding CJM beside it keeps every version.
async fn deleting_a_map_suite(store: Store) {
    let prj = project(&store, "delete").await;
    let draft = store.create_map(&prj, "Черновик", &cjm(json!([])), "created", "alena@rehau.example").await.unwrap();
    let kept = store.create_map(&prj, "Онбординг", &cjm(json!([])), "created", "alena@rehau.example").await.unwrap();
    let v2 = cjm(json!([{"id": "start", "stage": "Старт"}]));
    store.save_map(&draft.id, 1, "Черновик", &v2, "этап", "alena@rehau.example").await.unwrap();
    store.save_map(&kept.id, 1, "Онбординг", &v2, "этап", "alena@rehau.example").await.unwrap();
    assert!(!store.list_maps(&prj).await.unwrap()[0].bound, "no row is bound to an endpoint");

    assert_eq!(store.delete_map(&draft.id).await.unwrap(), 2);
    assert!(matches!(store.map(&draft.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.map_history(&draft.id, HistoryWindow::NEWEST).await, Err(StoreError::NotFound)));
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM map_versions WHERE map_id = $1")
        .bind(draft.id.as_str())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(left, 0, "no orphaned version rows");
    assert!(matches!(store.delete_map(&draft.id).await, Err(StoreError::NotFound)), "a second delete finds nothing");

    let listed = store.list_maps(&prj).await.unwrap();
    assert_eq!(listed.iter().map(|m| m.title.as_str()).collect::<Vec<_>>(), ["Онбординг"]);
    assert_eq!(store.map_history(&kept.id, HistoryWindow::NEWEST).await.unwrap().versions.len(), 2, "the other map keeps its history");
}

async fn racing_saves_suite(store: Store) {
    let prj = project(&store, "race").await;
    let map = store.create_map(&prj, "Гонка", &cjm(json!([])), "", "a").await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (store, id) = (store.clone(), map.id.clone());
        let content = cjm(json!([{ "id": format!("s{i}"), "stage": format!("Этап {i}") }]));
        tasks.push(tokio::spawn(async move { store.save_map(&id, 1, "Гонка", &content, "", &format!("user{i}")).await }));
    }
    let mut saved = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(version) => {
                assert_eq!(version, 2);
                saved += 1;
            }
            Err(StoreError::Conflict { current: 2, .. }) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(saved, 1, "exactly one of four saves from v1 wins");
    assert_eq!(store.map_history(&map.id, HistoryWindow::NEWEST).await.unwrap().versions.len(), 2);
}

async fn demo_maps_suite(store: Store) {
    assert!(comops_core::demo::seed(&store, true).await.unwrap());
    let prj = ProjectId::parse(comops_core::demo::DEMO_PROJECT).unwrap();
    let maps = store.project_maps(&prj).await.unwrap();
    let ids: Vec<_> = maps.iter().map(|m| m.id.as_str()).collect();
    let listed = store.list_maps(&prj).await.unwrap();
    let bound = |id: &str| listed.iter().find(|m| m.id.as_str() == id).map(|m| m.bound);
    assert_eq!((bound("map_rehau"), bound("map_registration-cjm")), (Some(true), Some(false)), "the list says which maps are bound");
    for (id, _, _) in comops_core::demo::DEMO_MAPS {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    // Every bound row of the demo points at an endpoint the demo really has.
    for map in &maps {
        for (_, binding) in map.content.bindings() {
            let endpoint = store.endpoint_by_alias(&binding.bot_id, &binding.alias).await.unwrap();
            assert!(endpoint.is_some(), "{} binds {}", map.id, binding.url());
        }
    }
    let rehau = maps.iter().find(|m| m.id.as_str() == "map_rehau").unwrap();
    let MapContent::Communication(rows) = &rehau.content else { panic!("REHAU is a communication map") };
    assert_eq!(rows.rows[0].event, "Монтажник зарегистрировался на портале");
    assert_eq!(rows.rows[0].trigger.url(), "/bots/bot_rehau/call/users/connect-bot");

    // The registration stage of the CJM leads to REHAU's first row, and on
    // to its blueprint cell and endpoint, and back.
    let view = loop_view(&maps);
    assert!(view.dangling.is_empty(), "{:?}", view.dangling);
    let stage = "map_registration-cjm#registration";
    let from_stage: Vec<_> = view.neighbours(stage).into_iter().map(|(n, _)| n.key.clone()).collect();
    assert!(from_stage.contains(&"map_rehau#r1".to_string()), "{from_stage:?}");
    assert!(from_stage.contains(&"map_onboarding-blueprint#registration".to_string()), "{from_stage:?}");
    let from_row: Vec<_> = view.neighbours("map_rehau#r1").into_iter().map(|(n, holds)| (n.key.clone(), holds)).collect();
    assert!(from_row.contains(&("endpoint:bot_rehau/users/connect-bot".to_string(), true)), "{from_row:?}");
    assert!(from_row.contains(&("map_onboarding-blueprint#registration:support".to_string(), true)), "{from_row:?}");
}

/// `export` with the new ids of `import` put back to the old ones.
fn with_old_ids(mut json: String, report: &comops_core::store::maps::ImportReport) -> String {
    for (old, new) in &report.bots {
        json = json.replace(new.as_str(), old.as_str());
    }
    for (old, new) in &report.maps {
        json = json.replace(new.as_str(), old.as_str());
    }
    json
}

async fn project_round_trip_suite(store: Store) {
    comops_core::demo::seed(&store, true).await.unwrap();
    let demo = ProjectId::parse(comops_core::demo::DEMO_PROJECT).unwrap();
    // A second version of one map, to show only current content travels.
    let rehau = MapId::parse("map_rehau").unwrap();
    let mut content = store.map(&rehau).await.unwrap().content;
    if let MapContent::Communication(m) = &mut content {
        m.rows[1].result = "Монтажник записан, \"напоминание\" за час\nи в день вебинара".into();
    }
    store.save_map(&rehau, 1, "Коммуникационная карта для REHAU", &content, "напоминание", "alena").await.unwrap();

    let first = serde_json::to_string_pretty(&store.export_project(&demo).await.unwrap()).unwrap();
    let doc = ProjectExport::parse(&first).unwrap();
    let report = store.import_project(&doc, "demo-copy", "imported", "importer@example").await.unwrap();
    assert_eq!((report.bots.len(), report.maps.len(), report.endpoints), (4, comops_core::demo::DEMO_MAPS.len(), 14));
    assert!(report.bots.iter().all(|(old, new)| old != new));

    let second = serde_json::to_string_pretty(&store.export_project(&report.project_id).await.unwrap()).unwrap();
    assert_ne!(first, second, "bots and maps have new ids");
    assert_eq!(with_old_ids(second, &report), first, "everything else is equal");

    // The copy's rows are bound to the copy's bots, not the demo's.
    let copy_rehau = &report.maps.iter().find(|(old, _)| old == &rehau).unwrap().1;
    let copied = store.map(copy_rehau).await.unwrap();
    let new_rehau_bot = &report.bots.iter().find(|(old, _)| old.as_str() == "bot_rehau").unwrap().1;
    assert!(copied.content.bindings().iter().all(|(_, b)| &b.bot_id == new_rehau_bot));
    assert_eq!((copied.version, store.map_history(copy_rehau, HistoryWindow::NEWEST).await.unwrap().versions[0].note.as_str()), (1, "imported"));

    // A document with problems names each; nothing is created.
    let mut broken: serde_json::Value = serde_json::from_str(&first).unwrap();
    broken["bots"][0]["endpoints"][0]["alias"] = json!("Not An Alias");
    broken["maps"][0]["content"]["stages"][0]["emotion_score"] = json!(7);
    let problems = ProjectExport::parse(&broken.to_string()).unwrap_err();
    let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["bots[0].endpoints[0].alias", "maps[0].content.stages[0].emotion_score"]);
    // Each says what is wrong in a form the studio translates.
    use comops_core::map::export::ImportIssue;
    assert_eq!(problems[0].issue, ImportIssue::Field { problem: comops_core::Problem::BadAlias });
    assert_eq!(problems[1].issue, ImportIssue::Field { problem: comops_core::Problem::OutOfRange });
    let mut repeated = broken.clone();
    repeated["format"] = json!("other/v9");
    repeated["maps"][1]["id"] = repeated["maps"][0]["id"].clone();
    let problems = ProjectExport::parse(&repeated.to_string()).unwrap_err();
    let issues: Vec<_> = problems.iter().map(|p| (p.path.as_str(), p.issue.clone())).collect();
    assert_eq!(issues[0], ("format", ImportIssue::WrongFormat));
    assert!(issues.contains(&("maps[1].id", ImportIssue::Repeated)), "{issues:?}");
    let not_json = ProjectExport::parse("[1, 2]").unwrap_err();
    assert!(matches!(&not_json[0].issue, ImportIssue::NotAnExport { detail } if !detail.is_empty()));
    // The slug is the project's identity: taken → refused, and no half project remains.
    let before = store.list_projects().await.unwrap().len();
    assert!(matches!(store.import_project(&doc, "demo-copy", "imported", "x").await, Err(StoreError::Taken("slug"))));
    assert_eq!(store.list_projects().await.unwrap().len(), before);
}
