//! CSV export and import of every kind of map, for people who keep the
//! seed's tables in Google Sheets or Excel: a CJM's stages, a
//! communication map's or an integration-points table's rows, and a
//! Service Blueprint's stages (one record per stage: its name, the four
//! lanes' text, each lane's bound endpoints as `/bots/{bot}/call/{alias}`
//! joined by `; `, its CJM stages). A blueprint's crossings stay as they
//! are; an import that drops a stage they cross at is refused.
//!
//! RFC 4180: comma-separated, a field with a comma, quote, CR or LF is
//! quoted and its quotes doubled, records end with CRLF. Exports start with
//! a UTF-8 byte-order mark (Excel then reads Cyrillic correctly) and a
//! header row with the seed's column names, then the columns the seed does
//! not have but a round trip needs (emotion score, trigger scenario, links,
//! ids). Imports accept the seed's or the English headers in any order,
//! columns may be missing (empty values; ids are generated), LF or CRLF,
//! and `;` as the separator when the header uses it (Excel in Russian
//! locales). `export → import → export` gives the same text.
//!
//! Every problem is a [`CsvError`] with the line it was found on (the
//! first line of a record that spans several) and the column, with a
//! message in English or Russian.

use super::blueprint::{Blueprint, BlueprintStage, Lane};
use super::cjm::{self, Cjm, CjmStage, EMOTION_MAX, EMOTION_MIN};
use super::communication::{self, ApiTrigger, CommRow, CommunicationMap};
use super::integration::{self, IntegrationMap, IntegrationRow};
use super::limits::{MAX_CELL, MAX_ROWS};
use super::{EndpointBinding, ItemRef, MapContent};
use crate::validation::{FieldError, Problem};
use crate::Locale;
use serde::{Deserialize, Serialize};

const BOM: char = '\u{feff}';

/// What is wrong with a CSV text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum CsvProblem {
    /// No header row.
    Empty,
    /// A quoted field is never closed.
    UnclosedQuote,
    /// A quote inside an unquoted field, or text after a closing quote.
    StrayQuote,
    /// A record has a different number of fields than the header.
    FieldCount { expected: usize, found: usize },
    UnknownColumn { name: String },
    DuplicateColumn { name: String },
    TooManyRows { max: usize },
    /// A value the column cannot hold (a cell rule, a bad alias, …).
    Invalid { problem: Problem },
    /// Not a bot id (`bot_…`).
    BadBot,
    /// A link not written as `map_…#item`.
    BadRef,
    /// A blueprint lane's endpoint not written as `/bots/{bot}/call/{alias}`.
    BadBinding,
    /// The import drops a blueprint stage that crossings still point at.
    StageCrossed { stage: String },
}

/// A CSV problem and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvError {
    /// 1-based line of the text.
    pub line: usize,
    /// The column's header, when the problem is in one field.
    pub column: Option<String>,
    pub problem: CsvProblem,
}

impl CsvError {
    fn at(line: usize, column: Option<&str>, problem: CsvProblem) -> Self {
        CsvError { line, column: column.map(str::to_string), problem }
    }

    /// One sentence for the studio, in the user's language.
    pub fn message(&self, locale: Locale) -> String {
        let ru = locale == Locale::Ru;
        let what = match &self.problem {
            CsvProblem::Empty if ru => "в файле нет строки заголовков".to_string(),
            CsvProblem::Empty => "the file has no header row".to_string(),
            CsvProblem::UnclosedQuote if ru => "кавычка открыта и не закрыта".into(),
            CsvProblem::UnclosedQuote => "a quoted field is never closed".into(),
            CsvProblem::StrayQuote if ru => "лишняя кавычка: поле с кавычками должно быть целиком в кавычках, а кавычка внутри — удвоена".into(),
            CsvProblem::StrayQuote => "stray quote: a field with quotes must be quoted as a whole, with inner quotes doubled".into(),
            CsvProblem::FieldCount { expected, found } if ru => format!("ожидалось полей: {expected}, найдено: {found}"),
            CsvProblem::FieldCount { expected, found } => format!("expected {expected} fields, found {found}"),
            CsvProblem::UnknownColumn { name } if ru => format!("неизвестная колонка «{name}»"),
            CsvProblem::UnknownColumn { name } => format!("unknown column \"{name}\""),
            CsvProblem::DuplicateColumn { name } if ru => format!("колонка «{name}» повторяется"),
            CsvProblem::DuplicateColumn { name } => format!("column \"{name}\" appears twice"),
            CsvProblem::TooManyRows { max } if ru => format!("больше {max} строк"),
            CsvProblem::TooManyRows { max } => format!("more than {max} rows"),
            CsvProblem::Invalid { problem } => problem_text(problem, ru),
            CsvProblem::BadRef if ru => "ссылка пишется как map_…#id, несколько — через «;»".into(),
            CsvProblem::BadRef => "write a link as map_…#id, several separated by \";\"".into(),
            CsvProblem::BadBot if ru => "не id бота (bot_…)".into(),
            CsvProblem::BadBot => "not a bot id (bot_…)".into(),
            CsvProblem::BadBinding if ru => "эндпоинт пишется как /bots/{бот}/call/{алиас}, несколько — через «;»".into(),
            CsvProblem::BadBinding => "write an endpoint as /bots/{bot}/call/{alias}, several separated by \";\"".into(),
            CsvProblem::StageCrossed { stage } if ru => {
                format!("в файле нет этапа «{stage}», а на схеме через его линии идут пересечения; оставьте его строку или сначала удалите пересечения")
            }
            CsvProblem::StageCrossed { stage } => {
                format!("the file drops stage \"{stage}\", which crossings on the blueprint still point at; keep its row or delete the crossings first")
            }
        };
        match (&self.column, ru) {
            (Some(column), true) => format!("Строка {}, колонка «{column}»: {what}", self.line),
            (Some(column), false) => format!("Line {}, column \"{column}\": {what}", self.line),
            (None, true) => format!("Строка {}: {what}", self.line),
            (None, false) => format!("Line {}: {what}", self.line),
        }
    }
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Locale::En))
    }
}

impl std::error::Error for CsvError {}

/// The cell problems CSV imports can meet, in both languages.
fn problem_text(problem: &Problem, ru: bool) -> String {
    match problem {
        Problem::TooLong { max } if ru => format!("длиннее {max} символов"),
        Problem::OutOfRange if ru => format!("должно быть целым числом (оценка эмоции: от {EMOTION_MIN} до {EMOTION_MAX})"),
        Problem::OutOfRange => format!("must be a whole number (emotion score: {EMOTION_MIN} to {EMOTION_MAX})"),
        Problem::BadAlias if ru => "не адрес эндпоинта: строчные сегменты через «/» (order/thank-you)".into(),
        Problem::BadSlug if ru => "id: только строчные латинские буквы, цифры, «-» и «_»".into(),
        Problem::Taken if ru => "такой id уже есть в файле".into(),
        Problem::Unknown if ru => "нет такого в проекте".into(),
        Problem::Unknown => "not found in the project".into(),
        Problem::Required if ru => "обязательное поле".into(),
        other if ru => format!("недопустимое значение ({other:?})"),
        other => FieldError::new("value", other.clone()).to_string(),
    }
}

// ---------------------------------------------------------------- RFC 4180

/// Quotes `field` when it needs it.
fn quote(field: &str, out: &mut String) {
    if field.contains([',', '"', '\r', '\n', ';']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Writes records as RFC 4180 text (CRLF), with a byte-order mark.
pub fn write(records: &[Vec<String>]) -> String {
    let mut out = String::new();
    out.push(BOM);
    for record in records {
        for (i, field) in record.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            quote(field, &mut out);
        }
        out.push_str("\r\n");
    }
    out
}

/// One parsed record and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Splits RFC 4180 text into records (blank lines are skipped).
pub fn read(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let delimiter = detect_delimiter(text);
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    // `quoted`: inside quotes; `was_quoted`: this field was quoted and closed.
    let (mut quoted, mut was_quoted, mut quote_line) = (false, false, 1);
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    was_quoted = true;
                }
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => {
                quoted = true;
                quote_line = line;
            }
            '"' => return Err(CsvError::at(line, None, CsvProblem::StrayQuote)),
            c if c == delimiter => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
                push_record(&mut records, std::mem::take(&mut fields), record_line);
                line += 1;
                record_line = line;
            }
            _ if was_quoted => return Err(CsvError::at(line, None, CsvProblem::StrayQuote)),
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(CsvError::at(quote_line, None, CsvProblem::UnclosedQuote));
    }
    if !field.is_empty() || was_quoted || !fields.is_empty() {
        fields.push(field);
        push_record(&mut records, fields, record_line);
    }
    Ok(records)
}

fn push_record(records: &mut Vec<Record>, fields: Vec<String>, line: usize) {
    let blank = fields.len() == 1 && fields[0].is_empty();
    if !blank {
        records.push(Record { line, fields });
    }
}

/// `;` when the first line (outside quotes) has more of them than commas.
fn detect_delimiter(text: &str) -> char {
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => break,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas {
        ';'
    } else {
        ','
    }
}

// ----------------------------------------------------------- table layer

/// A column of a map's CSV: its key, seed (Russian) header, English header.
type Column = (&'static str, &'static str, &'static str);

const CJM_EXTRA: [Column; 2] = [("emotion_score", "Оценка эмоции", "Emotion score"), ("id", "id", "id")];

const COMM_NUMBER: Column = ("number", "№", "No.");
const COMM_EXTRA: [Column; 5] = [
    ("trigger", "API / триггер", "API / trigger"),
    ("scenario", "Сценарий", "Scenario"),
    ("stages", "Этапы CJM", "CJM stages"),
    ("cells", "Ячейки Blueprint", "Blueprint cells"),
    ("id", "id", "id"),
];

const INTEGRATION_ALIAS: Column = ("alias", "Endpoint Alias", "Endpoint Alias");
const INTEGRATION_EXTRA: [Column; 2] = [("bot_id", "Бот", "Bot"), ("id", "id", "id")];

const BLUEPRINT_NAME: Column = ("name", "Этап", "Stage");
/// A lane's bound endpoints, in [`Lane::ALL`]'s order.
const BLUEPRINT_ENDPOINTS: [Column; 4] = [
    ("customer_actions.endpoints", "Эндпоинты: действия клиента", "Endpoints: customer actions"),
    ("front_stage.endpoints", "Эндпоинты: front stage", "Endpoints: front stage"),
    ("back_stage.endpoints", "Эндпоинты: back stage", "Endpoints: back stage"),
    ("support.endpoints", "Эндпоинты: поддерживающие процессы", "Endpoints: support processes"),
];
const BLUEPRINT_EXTRA: [Column; 2] = [("cjm_stages", "Этапы CJM", "CJM stages"), ("id", "id", "id")];

fn cjm_columns() -> Vec<Column> {
    cjm::COLUMNS.iter().copied().chain(CJM_EXTRA).collect()
}

fn comm_columns() -> Vec<Column> {
    std::iter::once(COMM_NUMBER).chain(communication::COLUMNS.iter().copied()).chain(COMM_EXTRA).collect()
}

fn integration_columns() -> Vec<Column> {
    std::iter::once(INTEGRATION_ALIAS).chain(integration::COLUMNS.iter().copied()).chain(INTEGRATION_EXTRA).collect()
}

fn blueprint_columns() -> Vec<Column> {
    std::iter::once(BLUEPRINT_NAME)
        .chain(Lane::ALL.iter().map(|lane| (lane.as_str(), lane.title_ru(), lane.title())))
        .chain(BLUEPRINT_ENDPOINTS)
        .chain(BLUEPRINT_EXTRA)
        .collect()
}

fn refs_text(refs: &[ItemRef]) -> String {
    refs.iter().map(ItemRef::to_text).collect::<Vec<_>>().join("; ")
}

/// A table as CSV: the header (the seed's names), then one record per
/// item, each field as `field(item, column key)` says.
fn table_csv<T>(columns: &[Column], items: &[T], field: impl Fn(&T, &str) -> String) -> String {
    let mut records = vec![columns.iter().map(|c| c.1.to_string()).collect::<Vec<_>>()];
    records.extend(items.iter().map(|item| columns.iter().map(|(key, _, _)| field(item, key)).collect()));
    write(&records)
}

/// The CJM's stages as CSV.
pub fn cjm_to_csv(map: &Cjm) -> String {
    table_csv(&cjm_columns(), &map.stages, |stage, key| match key {
        "emotion_score" => stage.emotion_score.map(|s| s.to_string()).unwrap_or_default(),
        "id" => stage.id.clone(),
        other => stage.column(other).to_string(),
    })
}

/// The communication map's rows as CSV.
pub fn communication_to_csv(map: &CommunicationMap) -> String {
    table_csv(&comm_columns(), &map.rows, |row, key| match key {
        "number" => row.number.to_string(),
        "trigger" => row.trigger.url(),
        "scenario" => row.trigger.scenario.clone(),
        "stages" => refs_text(&row.stages),
        "cells" => refs_text(&row.cells),
        "id" => row.id.clone(),
        other => row.column(other).to_string(),
    })
}

fn bindings_text(bindings: &[EndpointBinding]) -> String {
    bindings.iter().map(EndpointBinding::url).collect::<Vec<_>>().join("; ")
}

/// The integration points' rows as CSV.
pub fn integration_to_csv(map: &IntegrationMap) -> String {
    table_csv(&integration_columns(), &map.rows, |row, key| match key {
        "alias" => row.alias.as_ref().map(|a| a.as_str().to_string()).unwrap_or_default(),
        "bot_id" => row.bot_id.as_ref().map(|b| b.as_str().to_string()).unwrap_or_default(),
        "id" => row.id.clone(),
        other => row.column(other).to_string(),
    })
}

/// The blueprint's stages as CSV, one record per stage.
pub fn blueprint_to_csv(map: &Blueprint) -> String {
    table_csv(&blueprint_columns(), &map.stages, |stage, key| match key {
        "name" => stage.name.clone(),
        "cjm_stages" => refs_text(&stage.cjm_stages),
        "id" => stage.id.clone(),
        key => match Lane::ALL.iter().find(|lane| lane.as_str() == key) {
            Some(lane) => stage.cell(*lane).text.clone(),
            None => lane_of_endpoints(key).map(|lane| bindings_text(&stage.cell(lane).endpoints)).unwrap_or_default(),
        },
    })
}

/// The lane whose endpoints column `key` is.
fn lane_of_endpoints(key: &str) -> Option<Lane> {
    BLUEPRINT_ENDPOINTS.iter().position(|c| c.0 == key).map(|i| Lane::ALL[i])
}

/// The content as CSV.
pub fn export(content: &MapContent) -> String {
    match content {
        MapContent::Cjm(m) => cjm_to_csv(m),
        MapContent::Communication(m) => communication_to_csv(m),
        MapContent::Integration(m) => integration_to_csv(m),
        MapContent::Blueprint(m) => blueprint_to_csv(m),
    }
}

/// Where a problem the server found in a `kind` map imported from `text`
/// (a link to nothing, an endpoint that does not exist) sits in the text:
/// the line of its record and its column.
pub fn locate(kind: super::MapKind, text: &str, error: &FieldError) -> Option<CsvError> {
    use super::MapKind;
    let columns = match kind {
        MapKind::Cjm => cjm_columns(),
        MapKind::Blueprint => blueprint_columns(),
        MapKind::Communication => comm_columns(),
        MapKind::Integration => integration_columns(),
    };
    let table = Table::parse(text, columns).ok()?;
    let located = table.locate(error);
    (located.line > 1).then_some(located)
}

/// Replaces the stages (CJM, blueprint) or rows (communication map,
/// integration points) of `base` with those of `text`; the map's other
/// fields (persona, process, a blueprint's crossings) stay. A column the
/// file lacks keeps, in each record whose id is one of `base`'s items, that
/// item's value (a table of texts unbinds and unlinks nothing); a record
/// without an id is a new item, whose made-up id is none of `base`'s. A
/// CJM's or blueprint's file without the id column at all takes each
/// stage's id by its name, where one stage alone has that name
/// ([`ByName`]): other maps link to those ids.
pub fn import(base: &MapContent, text: &str) -> Result<MapContent, CsvError> {
    match base {
        MapContent::Cjm(m) => Ok(MapContent::Cjm(Cjm { persona: m.persona.clone(), stages: cjm_from_csv(text, &m.stages)? })),
        MapContent::Communication(m) => {
            Ok(MapContent::Communication(CommunicationMap { process: m.process.clone(), rows: communication_from_csv(text, &m.rows)? }))
        }
        MapContent::Integration(m) => Ok(MapContent::Integration(IntegrationMap { rows: integration_from_csv(text, &m.rows)? })),
        MapContent::Blueprint(m) => {
            let stages = blueprint_from_csv(text, &m.stages)?;
            if let Some(crossing) = m.crossings.iter().find(|c| !stages.iter().any(|s| s.id == c.stage)) {
                return Err(CsvError::at(1, None, CsvProblem::StageCrossed { stage: crossing.stage.clone() }));
            }
            // The stages were validated as read; the crossings are the saved
            // map's, and every stage they are drawn at is still there.
            Ok(MapContent::Blueprint(Blueprint { persona: m.persona.clone(), stages, crossings: m.crossings.clone() }))
        }
    }
}

/// A parsed table: each record as (line, value per known column key).
struct Table {
    /// For each CSV column, the index into the kind's columns.
    order: Vec<usize>,
    columns: Vec<Column>,
    rows: Vec<Record>,
}

impl Table {
    fn parse(text: &str, columns: Vec<Column>) -> Result<Self, CsvError> {
        let mut records = read(text)?.into_iter();
        let header = records.next().ok_or_else(|| CsvError::at(1, None, CsvProblem::Empty))?;
        let mut order = Vec::new();
        for name in &header.fields {
            let wanted = normalize(name);
            let index = columns
                .iter()
                .position(|(key, ru, en)| normalize(ru) == wanted || normalize(en) == wanted || *key == wanted)
                .ok_or_else(|| CsvError::at(header.line, None, CsvProblem::UnknownColumn { name: name.trim().to_string() }))?;
            if order.contains(&index) {
                return Err(CsvError::at(header.line, None, CsvProblem::DuplicateColumn { name: name.trim().to_string() }));
            }
            order.push(index);
        }
        let rows: Vec<Record> = records.collect();
        if rows.len() > MAX_ROWS {
            return Err(CsvError::at(rows[MAX_ROWS].line, None, CsvProblem::TooManyRows { max: MAX_ROWS }));
        }
        for row in &rows {
            if row.fields.len() != order.len() {
                return Err(CsvError::at(
                    row.line,
                    None,
                    CsvProblem::FieldCount { expected: order.len(), found: row.fields.len() },
                ));
            }
            for (value, &col) in row.fields.iter().zip(&order) {
                // Links and endpoints are bounded by their count (MAX_LINKS), not by length.
                if value.chars().count() > MAX_CELL && !is_link_column(columns[col].0) {
                    return Err(CsvError::at(row.line, Some(columns[col].1), CsvProblem::Invalid { problem: Problem::TooLong { max: MAX_CELL } }));
                }
            }
        }
        Ok(Table { order, columns, rows })
    }

    /// Copies the text `columns` of `record` the file has into `item`'s
    /// fields (`slot` gives a field by its column key); the others keep
    /// the item's.
    fn texts<T>(&self, record: &Record, columns: &[Column], item: &mut T, slot: for<'a> fn(&'a mut T, &str) -> Option<&'a mut String>) {
        for (key, _, _) in columns.iter().filter(|(key, _, _)| self.has(key)) {
            if let Some(field) = slot(item, key) {
                *field = self.get(record, key).to_string();
            }
        }
    }

    /// Whether the file has column `key`.
    fn has(&self, key: &str) -> bool {
        self.order.iter().any(|&col| self.columns[col].0 == key)
    }

    /// The value of column `key` in record `row` ("" if the column is absent).
    fn get<'a>(&self, row: &'a Record, key: &str) -> &'a str {
        self.order
            .iter()
            .position(|&col| self.columns[col].0 == key)
            .map(|i| row.fields[i].as_str())
            .unwrap_or("")
    }

    fn error(&self, row: &Record, key: &str, problem: Problem) -> CsvError {
        self.located(row, key, CsvProblem::Invalid { problem })
    }

    fn located(&self, row: &Record, key: &str, problem: CsvProblem) -> CsvError {
        let header = self.columns.iter().find(|c| c.0 == key).map(|c| c.1);
        CsvError::at(row.line, header, problem)
    }

    /// Maps a content validation error (`rows[3].id`,
    /// `stages[0].front_stage.endpoints[1].alias`) to its line and column:
    /// the field's path after the row if it names a column, else its last
    /// part, else its longest leading part that does.
    fn locate(&self, error: &FieldError) -> CsvError {
        let index = error.field.split_once('[').and_then(|(_, rest)| rest.split_once(']')).and_then(|(n, _)| n.parse::<usize>().ok());
        let path = error.field.split_once("].").map(|(_, k)| k.split('[').next().unwrap_or(k)).unwrap_or("");
        let is_column = |key: &str| self.columns.iter().any(|c| c.0 == key);
        // The whole path, else its last part (`trigger.scenario` is the
        // scenario column), else ever shorter heads (`trigger.alias`).
        let last = path.rsplit('.').next().unwrap_or(path);
        let mut key = if is_column(path) || !is_column(last) { path } else { last };
        while !is_column(key) {
            match key.rsplit_once('.') {
                Some((head, _)) => key = head,
                None => break,
            }
        }
        match index.and_then(|i| self.rows.get(i)) {
            Some(row) => self.error(row, key, error.problem.clone()),
            None => CsvError::at(1, None, CsvProblem::Invalid { problem: error.problem.clone() }),
        }
    }
}

/// A column of links or endpoint bindings (`map_…#id; …`, `/bots/…; …`).
fn is_link_column(key: &str) -> bool {
    matches!(key, "stages" | "cells" | "cjm_stages") || key.ends_with(".endpoints")
}

fn normalize(header: &str) -> String {
    header.trim().to_lowercase()
}

/// The items a file replaces, by id: what a record with one of their ids
/// starts from.
struct Before<'a, T> {
    by_id: std::collections::HashMap<&'a str, &'a T>,
}

impl<'a, T: Clone + Default> Before<'a, T> {
    fn new(items: &'a [T], id: fn(&T) -> &str) -> Self {
        Before { by_id: items.iter().map(|item| (id(item), item)).filter(|(id, _)| !id.is_empty()).collect() }
    }

    /// The item of `id` as it was (the file's columns are then written
    /// over it), or an empty one for a new id or none.
    fn start(&self, id: &str) -> (T, bool) {
        match self.by_id.get(id) {
            Some(item) => ((*item).clone(), true),
            None => (T::default(), false),
        }
    }

    /// Every id of the items, which a made-up id must not take: it would
    /// inherit the links to the item it is not.
    fn ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.by_id.keys().copied()
    }
}

/// A file without an id column, read over stages that other maps link to
/// (a CJM's, a blueprint's): a record takes the id of the one stage of
/// the same name (trimmed), if only one has it and no record before took
/// it, so a spreadsheet that lost the column keeps the stages' links.
/// A file with the column goes by it alone.
struct ByName<'a> {
    ids: std::collections::HashMap<&'a str, Option<&'a str>>,
}

impl<'a> ByName<'a> {
    fn new<T>(items: &'a [T], id: fn(&T) -> &str, name: fn(&T) -> &str) -> Self {
        let mut ids: std::collections::HashMap<&'a str, Option<&'a str>> = std::collections::HashMap::new();
        for item in items {
            // A name two stages share names neither.
            ids.entry(name(item).trim()).and_modify(|taken| *taken = None).or_insert(Some(id(item)));
        }
        ids.remove("");
        ByName { ids }
    }

    /// The id of the stage named `name`, once.
    fn claim(&mut self, name: &str) -> Option<String> {
        self.ids.get_mut(name.trim()).and_then(Option::take).map(str::to_string)
    }
}

/// Unique ids for rows that came without one: `prefix` + a number, none of
/// the file's ids nor of `taken`.
fn fill_ids<'a, 'b>(ids: impl Iterator<Item = &'a mut String>, prefix: &str, taken: impl Iterator<Item = &'b str>) {
    let mut ids: Vec<&mut String> = ids.collect();
    let mut used: std::collections::HashSet<String> = ids.iter().filter(|id| !id.is_empty()).map(|id| id.to_string()).collect();
    used.extend(taken.map(str::to_string));
    let mut n = 0;
    for id in ids.iter_mut().filter(|id| id.is_empty()) {
        loop {
            n += 1;
            let candidate = format!("{prefix}{n}");
            if used.insert(candidate.clone()) {
                **id = candidate;
                break;
            }
        }
    }
}

fn refs_from(table: &Table, row: &Record, key: &str) -> Result<Vec<ItemRef>, CsvError> {
    table
        .get(row, key)
        .split(';')
        .filter(|s| !s.trim().is_empty())
        .map(|s| ItemRef::parse_text(s).ok_or_else(|| table.located(row, key, CsvProblem::BadRef)))
        .collect()
}

/// CJM stages from CSV, replacing `base`'s ([`import`]).
pub fn cjm_from_csv(text: &str, base: &[CjmStage]) -> Result<Vec<CjmStage>, CsvError> {
    let table = Table::parse(text, cjm_columns())?;
    let before = Before::new(base, |s| &s.id);
    let mut by_name = (!table.has("id")).then(|| ByName::new(base, |s| &s.id, |s| &s.stage));
    let mut stages = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let named = by_name.as_mut().and_then(|names| names.claim(table.get(row, "stage")));
        let id = named.as_deref().unwrap_or(table.get(row, "id").trim());
        let (mut stage, _) = before.start(id);
        stage.id = id.to_string();
        table.texts(row, &cjm::COLUMNS, &mut stage, CjmStage::column_mut);
        if table.has("emotion_score") {
            let score = table.get(row, "emotion_score").trim();
            stage.emotion_score = if score.is_empty() {
                None
            } else {
                match score.parse::<i8>() {
                    Ok(s) if (EMOTION_MIN..=EMOTION_MAX).contains(&s) => Some(s),
                    _ => return Err(table.error(row, "emotion_score", Problem::OutOfRange)),
                }
            };
        }
        stages.push(stage);
    }
    fill_ids(stages.iter_mut().map(|s| &mut s.id), "s", before.ids());
    let content = MapContent::Cjm(Cjm { persona: String::new(), stages });
    content.validate().map_err(|errors| table.locate(&errors[0]))?;
    let MapContent::Cjm(cjm) = content else { unreachable!() };
    Ok(cjm.stages)
}

/// Communication-map rows from CSV, replacing `base`'s ([`import`]).
pub fn communication_from_csv(text: &str, base: &[CommRow]) -> Result<Vec<CommRow>, CsvError> {
    let table = Table::parse(text, comm_columns())?;
    let before = Before::new(base, |r| &r.id);
    let mut rows = Vec::with_capacity(table.rows.len());
    for (i, record) in table.rows.iter().enumerate() {
        let id = table.get(record, "id").trim();
        let (mut row, known) = before.start(id);
        row.id = id.to_string();
        table.texts(record, &communication::COLUMNS, &mut row, CommRow::column_mut);
        let number = table.get(record, "number").trim();
        if !number.is_empty() {
            row.number = match number.parse::<i64>() {
                Ok(n) if (0..=1_000_000).contains(&n) => n,
                _ => return Err(table.error(record, "number", Problem::OutOfRange)),
            };
        } else if table.has("number") || !known {
            row.number = (i + 1) as i64;
        }
        if table.has("trigger") {
            (row.trigger.bot_id, row.trigger.alias) =
                ApiTrigger::parse_url(table.get(record, "trigger")).map_err(|p| table.error(record, "trigger", p))?;
        }
        if table.has("scenario") {
            row.trigger.scenario = table.get(record, "scenario").trim().to_string();
        }
        if table.has("stages") {
            row.stages = refs_from(&table, record, "stages")?;
        }
        if table.has("cells") {
            row.cells = refs_from(&table, record, "cells")?;
        }
        rows.push(row);
    }
    fill_ids(rows.iter_mut().map(|r| &mut r.id), "r", before.ids());
    let content = MapContent::Communication(CommunicationMap { process: String::new(), rows });
    content.validate().map_err(|errors| table.locate(&errors[0]))?;
    let MapContent::Communication(map) = content else { unreachable!() };
    Ok(map.rows)
}

/// Integration-points rows from CSV, replacing `base`'s ([`import`]).
pub fn integration_from_csv(text: &str, base: &[IntegrationRow]) -> Result<Vec<IntegrationRow>, CsvError> {
    let table = Table::parse(text, integration_columns())?;
    let before = Before::new(base, |r| &r.id);
    let mut rows = Vec::with_capacity(table.rows.len());
    for record in &table.rows {
        let id = table.get(record, "id").trim();
        let (mut row, _) = before.start(id);
        row.id = id.to_string();
        table.texts(record, &integration::COLUMNS, &mut row, IntegrationRow::column_mut);
        if table.has("alias") {
            let alias = table.get(record, "alias").trim();
            row.alias = if alias.is_empty() { None } else { Some(crate::Alias::parse(alias).map_err(|p| table.error(record, "alias", p))?) };
        }
        if table.has("bot_id") {
            let bot = table.get(record, "bot_id").trim();
            row.bot_id = if bot.is_empty() {
                None
            } else {
                Some(crate::BotId::parse(bot).ok_or_else(|| table.located(record, "bot_id", CsvProblem::BadBot))?)
            };
        }
        rows.push(row);
    }
    // Not the editor's `point-N`: a made-up id must not take an existing row's.
    fill_ids(rows.iter_mut().map(|r| &mut r.id), "p", before.ids());
    let content = MapContent::Integration(IntegrationMap { rows });
    content.validate().map_err(|errors| table.locate(&errors[0]))?;
    let MapContent::Integration(map) = content else { unreachable!() };
    Ok(map.rows)
}

/// A blueprint lane's endpoints from `/bots/{bot}/call/{alias}; …`.
fn bindings_from(table: &Table, row: &Record, key: &str) -> Result<Vec<EndpointBinding>, CsvError> {
    table
        .get(row, key)
        .split(';')
        .filter(|s| !s.trim().is_empty())
        .map(|s| match ApiTrigger::parse_url(s) {
            Ok((Some(bot_id), Some(alias))) => Ok(EndpointBinding { bot_id, alias }),
            Ok(_) => Err(table.located(row, key, CsvProblem::BadBinding)),
            Err(problem) => Err(table.error(row, key, problem)),
        })
        .collect()
}

/// Service Blueprint stages from CSV, replacing `base`'s ([`import`]): a
/// file without a lane's endpoints column or without the CJM stages
/// column keeps those of the stage of the same id.
pub fn blueprint_from_csv(text: &str, base: &[BlueprintStage]) -> Result<Vec<BlueprintStage>, CsvError> {
    let table = Table::parse(text, blueprint_columns())?;
    let before = Before::new(base, |s| &s.id);
    let mut by_name = (!table.has("id")).then(|| ByName::new(base, |s| &s.id, |s| &s.name));
    let mut stages = Vec::with_capacity(table.rows.len());
    for record in &table.rows {
        let named = by_name.as_mut().and_then(|names| names.claim(table.get(record, "name")));
        let id = named.as_deref().unwrap_or(table.get(record, "id").trim());
        let (mut stage, _) = before.start(id);
        stage.id = id.to_string();
        if table.has("name") {
            stage.name = table.get(record, "name").to_string();
        }
        if table.has("cjm_stages") {
            stage.cjm_stages = refs_from(&table, record, "cjm_stages")?;
        }
        for (lane, endpoints) in Lane::ALL.into_iter().zip(BLUEPRINT_ENDPOINTS) {
            if table.has(endpoints.0) {
                stage.cell_mut(lane).endpoints = bindings_from(&table, record, endpoints.0)?;
            }
            if table.has(lane.as_str()) {
                stage.cell_mut(lane).text = table.get(record, lane.as_str()).to_string();
            }
        }
        stages.push(stage);
    }
    // Not the editor's `stage-N`: a made-up id must not take an existing
    // stage's (its crossings, bindings and the links to its cells).
    fill_ids(stages.iter_mut().map(|s| &mut s.id), "s", before.ids());
    let content = MapContent::Blueprint(Blueprint { stages, ..Default::default() });
    content.validate().map_err(|errors| table.locate(&errors[0]))?;
    let MapContent::Blueprint(map) = content else { unreachable!() };
    Ok(map.stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4180_quoting_round_trips() {
        let records = vec![
            vec!["a".to_string(), "with, comma".into(), "with \"quotes\"".into()],
            vec!["multi\r\nline".into(), "".into(), "semi;colon".into()],
        ];
        let text = write(&records);
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("\"with \"\"quotes\"\"\""));
        let back: Vec<_> = read(&text).unwrap().into_iter().map(|r| r.fields).collect();
        assert_eq!(back, records);
    }

    #[test]
    fn reads_lf_semicolons_and_reports_lines() {
        let records = read("a;b\n1;\"x\ny\"\n2;3").unwrap();
        assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2, 4]);
        assert_eq!(records[1].fields, ["1", "x\ny"]);
        let err = read("a,b\n1,\"open\n2,3\n").unwrap_err();
        assert_eq!((err.line, err.problem), (2, CsvProblem::UnclosedQuote));
        let err = read("a,b\n1,x\"y\n").unwrap_err();
        assert_eq!((err.line, err.problem.clone()), (2, CsvProblem::StrayQuote));
        assert!(err.message(Locale::Ru).starts_with("Строка 2: лишняя кавычка"));
    }
}
