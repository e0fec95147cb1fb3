//! What a trace event's `detail` says, as a typed value. The server writes
//! the details of calls, runs, messages, deliveries and replies through
//! [`Detail`]'s `Display` — English, as the API's trace search and the
//! logs read it — and the studio reads them back with [`Detail::parse`],
//! knowing the event's step, to say them in the reader's language. Words
//! that are not ComOps's own stay as written: an API error's message, a
//! template's or script's error, a handover note, a messenger's retry reason
//! ([`Detail::Text`]), a dead letter's reason, an http step's error.

use std::fmt;

/// What follows the count in a `run.skipped` step's text
/// ([`Detail::Skipped`]); the store writes the text itself when it
/// counts the skipped leads in SQL (`store::events::at_once`).
pub const SKIPPED_TEXT: &str = " lead(s) skipped: a run from this endpoint is still active for them";

/// How many recipients a call resolved: leads reached, ids not resolved
/// and, of those, the ones whose addresses are inactive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recipients {
    pub leads: usize,
    pub unresolved: usize,
    pub inactive: usize,
}

/// One try of an http step that has retries: `(n, of)`.
pub type Attempt = Option<(u32, u32)>;

/// How one try of an http step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpOutcome {
    /// The business system answered with this status.
    Status(u16),
    /// No answer: the client's error (timeout, refused…), in English.
    Error(String),
}

/// What a person's message did (`user.reply`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// A `/start` with a link code linked the chat to a business user.
    Linked { user: String },
    /// A `/start` with a code that is unknown, used or expired.
    BadLinkCode,
    /// The reply went to the run waiting for it.
    Resumed { run: String },
    /// Nothing waited: the bot's entry scenario started.
    EntryStarted { scenario: String },
    /// Nothing waited and the bot has no entry scenario.
    NoEntry,
    /// An operator has the conversation: the bot stayed out.
    OperatorHas,
}

/// A trace event's detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// `api.call`: a live call accepted; runs of `scenario` written.
    Accepted { scenario: String, recipients: Recipients },
    /// `api.call`: a live call accepted on an endpoint bound to no scenario.
    AcceptedUnbound,
    /// `api.call`: a dry run, and how many messages its preview rendered.
    DryRun { recipients: Recipients, previewed: usize },
    /// `run.skipped`: leads a call started no run for, one from the same
    /// endpoint being still active for each.
    Skipped { leads: usize },
    /// `scenario.message`: queued for this many addresses.
    Queued { addresses: usize },
    /// `scenario.message`: the lead has no active address; blocked on
    /// this channel when that is why.
    NoAddress { blocked_on: Option<String> },
    /// `messenger.send`: delivered; the messenger's id of the message.
    Delivered { message_id: String },
    /// `messenger.send`: given up on; why.
    DeadLetter { reason: String },
    /// `callback.http`: one try of an http step (`target` is `METHOD
    /// host`, never the path or query: they may carry secrets).
    Http { target: String, outcome: HttpOutcome, attempt: Attempt },
    /// `scenario.run`: a `run` step started a run of `scenario`.
    RunStarted { scenario: String },
    /// `scenario.end`: the run ended reaching `goal`.
    Goal { goal: String },
    /// `scenario.ignored`: an input the run did not take, and why.
    Ignored(Ignored),
    /// `scenario.error`: why the run failed, where the engine says it.
    Failed(Failure),
    /// `scenario.script`: a script step finished (its error is its own).
    ScriptFinished,
    /// `scenario.set`: what a `set` or `script` step changed on the lead.
    LeadChanged { attributes: Vec<String>, add_tags: Vec<String>, remove_tags: Vec<String>, status: Option<String> },
    /// `report.blocked`: the person blocked the bot on `channel`; the
    /// endpoint's `scenario` reports it.
    BlockReported { channel: String, scenario: String },
    /// `job.run`: a scheduled job started `runs` runs of `scenario`.
    JobStarted { job: String, runs: usize, scenario: String },
    /// `api.schedule`: a job for `scenario` scheduled at `at` (ms).
    JobScheduled { job: String, scenario: String, at: i64 },
    /// `api.cancel`: a job of `scenario` cancelled before its next run.
    JobCancelled { job: String, scenario: String },
    /// `operator.message`: an operator wrote to this many addresses.
    OperatorSent { operator: String, addresses: usize },
    /// `user.reply`: what the person's message did; the chat where its
    /// address is not personal (a phone or an email is never named).
    Reply { chat: Option<String>, outcome: ReplyOutcome },
    /// Anything else, as written.
    Text(String),
}

/// Why a run failed, where the engine says it (`scenario.error`); a
/// template's, script's or http step's error is its own text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The run outlived its 30 days.
    Expired,
    NoReply,
    /// An ask's question was not delivered and the step has no branch for it.
    Undelivered,
    /// The step the run was at is no longer in the scenario's version.
    ScenarioChanged,
    NoScenario { name: String },
    /// The run took its most steps (the interpreter's `MAX_STEPS`).
    StepLimit { max: u32 },
    /// One step ran this many times in a row (`MAX_REPEATS`): a loop.
    Repeated { times: u32 },
    /// An ask got no reply it takes after `reasks` re-asks and has no
    /// branch for it; `why`: what was wrong with the last reply.
    NoValidReply { reasks: u32, why: crate::scenario::reply::ReplyError },
}

/// Why a run did not take an input (`scenario.ignored`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    Ended,
    TimeoutNotYet,
    WaitNotElapsed,
    /// The run does not wait for this kind of input (`reply`, `timeout`…).
    NotWaitingFor { input: String },
}

impl Detail {
    /// Reads the detail of an event of `step` as [`Detail`]'s `Display`
    /// wrote it; anything else — another step's, or text that would not
    /// write back the same — is [`Detail::Text`].
    pub fn parse(step: &str, text: &str) -> Self {
        match read(step, text) {
            Some(detail) if detail.to_string() == text => detail,
            _ => Detail::Text(text.to_string()),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Expired => f.write_str("the run expired (30 days)"),
            Failure::NoReply => f.write_str("no reply before the timeout"),
            Failure::Undelivered => f.write_str("the question could not be delivered"),
            Failure::ScenarioChanged => f.write_str("the scenario changed under the run"),
            Failure::NoScenario { name } => write!(f, "scenario {name} does not exist"),
            Failure::StepLimit { max } => write!(f, "step limit: a run takes at most {max} steps"),
            Failure::Repeated { times } => write!(f, "the step ran {times} times in a row"),
            Failure::NoValidReply { reasks, why } => write!(f, "no valid reply after {reasks} re-asks ({why})"),
        }
    }
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ignored::Ended => f.write_str("the run has ended"),
            Ignored::TimeoutNotYet => f.write_str("the timeout has not come yet"),
            Ignored::WaitNotElapsed => f.write_str("the wait has not elapsed yet"),
            Ignored::NotWaitingFor { input } => write!(f, "the run does not wait for {input}"),
        }
    }
}

impl fmt::Display for Recipients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} lead(s), {} unresolved", self.leads, self.unresolved)?;
        if self.inactive > 0 {
            write!(f, " ({} inactive)", self.inactive)?;
        }
        Ok(())
    }
}

impl fmt::Display for ReplyOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyOutcome::Linked { user } => write!(f, "linked to user {user}"),
            ReplyOutcome::BadLinkCode => f.write_str("unknown, used or expired link code"),
            ReplyOutcome::Resumed { run } => write!(f, "resumed {run}"),
            ReplyOutcome::EntryStarted { scenario } => write!(f, "started the entry scenario {scenario}"),
            ReplyOutcome::NoEntry => f.write_str("no run is waiting for this lead and the bot has no entry scenario"),
            ReplyOutcome::OperatorHas => f.write_str("an operator has the conversation"),
        }
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detail::Accepted { scenario, recipients } => write!(f, "accepted; scenario {scenario}; {recipients}"),
            Detail::AcceptedUnbound => f.write_str("accepted; no scenario bound to this endpoint"),
            Detail::DryRun { recipients, previewed } => write!(f, "dry run; {recipients}; {previewed} message(s) previewed"),
            Detail::Skipped { leads } => write!(f, "{leads}{SKIPPED_TEXT}"),
            Detail::Queued { addresses } => write!(f, "queued for {addresses} address(es)"),
            Detail::NoAddress { blocked_on: None } => f.write_str("no active channel address"),
            Detail::NoAddress { blocked_on: Some(channel) } => write!(f, "no active channel address: blocked on {channel}"),
            Detail::Delivered { message_id } => write!(f, "message {message_id}"),
            Detail::DeadLetter { reason } => write!(f, "dead letter: {reason}"),
            Detail::Http { target, outcome, attempt } => {
                match outcome {
                    HttpOutcome::Status(code) => write!(f, "{target} → {code}")?,
                    HttpOutcome::Error(error) => write!(f, "{target}: {error}")?,
                }
                if let Some((n, of)) = attempt {
                    write!(f, " (attempt {n} of {of})")?;
                }
                Ok(())
            }
            Detail::LeadChanged { attributes, add_tags, remove_tags, status } => {
                f.write_str(&lead_change_text(["attributes", "+tags", "-tags", "status"], attributes, add_tags, remove_tags, status.as_deref()))
            }
            Detail::RunStarted { scenario } => write!(f, "start {scenario}"),
            Detail::Goal { goal } => write!(f, "goal {goal}"),
            Detail::Ignored(why) => write!(f, "{why}"),
            Detail::Failed(why) => write!(f, "{why}"),
            Detail::ScriptFinished => f.write_str("finished"),
            Detail::BlockReported { channel, scenario } => write!(f, "blocked on {channel}: {scenario} reports it"),
            Detail::JobStarted { job, runs, scenario } => write!(f, "job {job}: {runs} run(s) of {scenario}"),
            Detail::JobScheduled { job, scenario, at } => write!(f, "job {job} for scenario {scenario} at {at}"),
            Detail::JobCancelled { job, scenario } => write!(f, "job {job} for scenario {scenario} cancelled"),
            Detail::OperatorSent { operator, addresses } => write!(f, "by {operator} to {addresses} address(es)"),
            Detail::Reply { chat: Some(chat), outcome } => write!(f, "chat {chat}: {outcome}"),
            Detail::Reply { chat: None, outcome } => write!(f, "{outcome}"),
            Detail::Text(text) => f.write_str(text),
        }
    }
}

/// A lead change as [`Detail::LeadChanged`] writes it, each part led by
/// its label (attributes, tags added, tags removed, status), so the
/// studio can word it with its own labels.
pub fn lead_change_text(labels: [&str; 4], attributes: &[String], add_tags: &[String], remove_tags: &[String], status: Option<&str>) -> String {
    let [attributes_label, add_label, remove_label, status_label] = labels;
    let mut parts = Vec::new();
    for (label, items) in [(attributes_label, attributes), (add_label, add_tags), (remove_label, remove_tags)] {
        if !items.is_empty() {
            parts.push(format!("{label} {}", items.join(", ")));
        }
    }
    if let Some(status) = status {
        parts.push(format!("{status_label} {status}"));
    }
    parts.join("; ")
}

/// The variant of `step` that `text` looks like, if any ([`Detail::parse`]
/// checks that it writes back the same).
fn read(step: &str, text: &str) -> Option<Detail> {
    match step {
        "api.call" => read_call(text),
        "run.skipped" => Some(Detail::Skipped { leads: number(text.strip_suffix(SKIPPED_TEXT)?)? }),
        "scenario.message" => {
            if let Some(rest) = text.strip_prefix("queued for ") {
                return Some(Detail::Queued { addresses: number(rest.strip_suffix(" address(es)")?)? });
            }
            let blocked_on = match text.strip_prefix("no active channel address")? {
                "" => None,
                rest => Some(rest.strip_prefix(": blocked on ")?.to_string()),
            };
            Some(Detail::NoAddress { blocked_on })
        }
        "messenger.send" => match text.strip_prefix("dead letter: ") {
            Some(reason) => Some(Detail::DeadLetter { reason: reason.into() }),
            None => {
                let id = text.strip_prefix("message ")?;
                (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| Detail::Delivered { message_id: id.into() })
            }
        },
        "callback.http" => read_http(text),
        "scenario.set" => read_lead_change(text),
        "scenario.ignored" => Some(Detail::Ignored(match written(text, [Ignored::Ended, Ignored::TimeoutNotYet, Ignored::WaitNotElapsed]) {
            Some(why) => why,
            None => Ignored::NotWaitingFor { input: text.strip_prefix("the run does not wait for ")?.into() },
        })),
        "scenario.error" => Some(Detail::Failed(match written(text, [Failure::Expired, Failure::NoReply, Failure::Undelivered, Failure::ScenarioChanged]) {
            Some(why) => why,
            None => read_failure(text)?,
        })),
        "scenario.script" => (text == "finished").then_some(Detail::ScriptFinished),
        "scenario.run" => Some(Detail::RunStarted { scenario: text.strip_prefix("start ")?.into() }),
        "scenario.end" => Some(Detail::Goal { goal: text.strip_prefix("goal ")?.into() }),
        "report.blocked" => {
            let (channel, scenario) = text.strip_prefix("blocked on ")?.strip_suffix(" reports it")?.split_once(": ")?;
            Some(Detail::BlockReported { channel: channel.into(), scenario: scenario.into() })
        }
        "job.run" => {
            let (job, rest) = text.strip_prefix("job ")?.split_once(": ")?;
            let (runs, scenario) = rest.split_once(" run(s) of ")?;
            Some(Detail::JobStarted { job: job.into(), runs: number(runs)?, scenario: scenario.into() })
        }
        "api.schedule" => {
            let (job, rest) = text.strip_prefix("job ")?.split_once(" for scenario ")?;
            let (scenario, at) = rest.rsplit_once(" at ")?;
            Some(Detail::JobScheduled { job: job.into(), scenario: scenario.into(), at: at.parse().ok()? })
        }
        "api.cancel" => {
            let (job, scenario) = text.strip_prefix("job ")?.strip_suffix(" cancelled")?.split_once(" for scenario ")?;
            Some(Detail::JobCancelled { job: job.into(), scenario: scenario.into() })
        }
        "operator.message" => {
            let (operator, addresses) = text.strip_prefix("by ")?.rsplit_once(" to ")?;
            Some(Detail::OperatorSent { operator: operator.into(), addresses: number(addresses.strip_suffix(" address(es)")?)? })
        }
        "user.reply" => match read_reply(text) {
            Some(outcome) => Some(Detail::Reply { chat: None, outcome }),
            None => {
                let (chat, outcome) = text.strip_prefix("chat ")?.split_once(": ")?;
                Some(Detail::Reply { chat: Some(chat.into()), outcome: read_reply(outcome)? })
            }
        },
        _ => None,
    }
}

/// An `api.call`'s: accepted (bound or not) or a dry run; anything else
/// is the API's error message.
fn read_call(text: &str) -> Option<Detail> {
    if let Some(rest) = text.strip_prefix("accepted; ") {
        if rest == "no scenario bound to this endpoint" {
            return Some(Detail::AcceptedUnbound);
        }
        let (scenario, recipients) = rest.strip_prefix("scenario ")?.split_once("; ")?;
        return Some(Detail::Accepted { scenario: scenario.into(), recipients: read_recipients(recipients)? });
    }
    let (recipients, previewed) = text.strip_prefix("dry run; ")?.rsplit_once("; ")?;
    Some(Detail::DryRun { recipients: read_recipients(recipients)?, previewed: number(previewed.strip_suffix(" message(s) previewed")?)? })
}

fn number(text: &str) -> Option<usize> {
    text.parse().ok()
}

fn read_recipients(text: &str) -> Option<Recipients> {
    let (leads, rest) = text.split_once(" lead(s), ")?;
    let (unresolved, rest) = rest.split_once(" unresolved")?;
    let inactive = match rest {
        "" => 0,
        _ => number(rest.strip_prefix(" (")?.strip_suffix(" inactive)")?)?,
    };
    Some(Recipients { leads: number(leads)?, unresolved: number(unresolved)?, inactive })
}

fn read_reply(text: &str) -> Option<ReplyOutcome> {
    if let Some(outcome) = written(text, [ReplyOutcome::BadLinkCode, ReplyOutcome::NoEntry, ReplyOutcome::OperatorHas]) {
        return Some(outcome);
    }
    Some(if let Some(user) = text.strip_prefix("linked to user ") {
        ReplyOutcome::Linked { user: user.into() }
    } else if let Some(run) = text.strip_prefix("resumed ") {
        ReplyOutcome::Resumed { run: run.into() }
    } else {
        ReplyOutcome::EntryStarted { scenario: text.strip_prefix("started the entry scenario ")?.into() }
    })
}

/// The one of `fixed` (variants without values) that `Display` writes as
/// `text`: their words are written once, in `Display`.
fn written<T: fmt::Display, const N: usize>(text: &str, fixed: [T; N]) -> Option<T> {
    fixed.into_iter().find(|value| value.to_string() == text)
}

/// A failure with a name or a number in it, as [`Failure`]'s `Display`
/// writes it.
fn read_failure(text: &str) -> Option<Failure> {
    let between = |prefix: &str, suffix: &str| text.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(suffix));
    if let Some(name) = between("scenario ", " does not exist") {
        return Some(Failure::NoScenario { name: name.into() });
    }
    if let Some(max) = between("step limit: a run takes at most ", " steps") {
        return Some(Failure::StepLimit { max: max.parse().ok()? });
    }
    if let Some(times) = between("the step ran ", " times in a row") {
        return Some(Failure::Repeated { times: times.parse().ok()? });
    }
    let (reasks, why) = between("no valid reply after ", ")")?.split_once(" re-asks (")?;
    use crate::scenario::reply::ReplyError as E;
    let why = written(why, [E::Empty, E::NotANumber, E::NotAPhone, E::NotAnEmail, E::NotAChoice, E::NotAContact, E::NotARating])?;
    Some(Failure::NoValidReply { reasks: reasks.parse().ok()?, why })
}

/// `METHOD host → 200 (attempt 1 of 3)` or `METHOD host: error`.
fn read_http(text: &str) -> Option<Detail> {
    let (method, rest) = text.split_once(' ')?;
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    let (rest, attempt) = match rest.strip_suffix(')').and_then(|r| r.rsplit_once(" (attempt ")) {
        Some((rest, tries)) => {
            let (n, of) = tries.split_once(" of ")?;
            (rest, Some((n.parse().ok()?, of.parse().ok()?)))
        }
        None => (rest, None),
    };
    let (host, outcome) = if let Some((host, code)) = rest.split_once(" → ") {
        (host, HttpOutcome::Status(code.parse().ok()?))
    } else {
        let (host, error) = rest.split_once(": ")?;
        (host, HttpOutcome::Error(error.into()))
    };
    if host.contains(char::is_whitespace) {
        return None;
    }
    Some(Detail::Http { target: format!("{method} {host}"), outcome, attempt })
}

/// `attributes a, b; +tags x; -tags y; status vip` (any of the parts, in
/// that order).
fn read_lead_change(text: &str) -> Option<Detail> {
    let (mut attributes, mut add_tags, mut remove_tags, mut status) = (Vec::new(), Vec::new(), Vec::new(), None);
    let list = |items: &str| items.split(", ").map(str::to_string).collect::<Vec<_>>();
    for part in text.split("; ") {
        if let Some(items) = part.strip_prefix("attributes ") {
            attributes = list(items);
        } else if let Some(items) = part.strip_prefix("+tags ") {
            add_tags = list(items);
        } else if let Some(items) = part.strip_prefix("-tags ") {
            remove_tags = list(items);
        } else {
            status = Some(part.strip_prefix("status ")?.to_string());
        }
    }
    Some(Detail::LeadChanged { attributes, add_tags, remove_tags, status })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant, with the step that writes it.
    fn every_kind() -> Vec<(&'static str, Detail)> {
        let recipients = Recipients { leads: 1, unresolved: 2, inactive: 1 };
        let reply = |chat: Option<&str>, outcome| ("user.reply", Detail::Reply { chat: chat.map(str::to_string), outcome });
        vec![
            ("api.call", Detail::Accepted { scenario: "order_notice".into(), recipients }),
            ("api.call", Detail::Accepted { scenario: "order_notice".into(), recipients: Recipients { leads: 3, unresolved: 0, inactive: 0 } }),
            ("api.call", Detail::AcceptedUnbound),
            ("api.call", Detail::DryRun { recipients, previewed: 2 }),
            ("run.skipped", Detail::Skipped { leads: 2 }),
            ("scenario.message", Detail::Queued { addresses: 2 }),
            ("scenario.message", Detail::NoAddress { blocked_on: None }),
            ("scenario.message", Detail::NoAddress { blocked_on: Some("telegram".into()) }),
            ("messenger.send", Detail::Delivered { message_id: "4711".into() }),
            ("messenger.send", Detail::DeadLetter { reason: "blocked by the user".into() }),
            ("callback.http", Detail::Http { target: "POST crm.example.com:8443".into(), outcome: HttpOutcome::Status(503), attempt: Some((1, 3)) }),
            ("callback.http", Detail::Http { target: "GET 127.0.0.1:9000".into(), outcome: HttpOutcome::Status(200), attempt: None }),
            ("callback.http", Detail::Http { target: "POST crm.example.com".into(), outcome: HttpOutcome::Error("timed out after 5000 ms".into()), attempt: Some((3, 3)) }),
            ("scenario.set", Detail::LeadChanged { attributes: vec!["city".into(), "size".into()], add_tags: vec!["vip".into()], remove_tags: vec![], status: Some("active".into()) }),
            ("scenario.set", Detail::LeadChanged { attributes: vec![], add_tags: vec![], remove_tags: vec!["new".into()], status: None }),
            ("scenario.ignored", Detail::Ignored(Ignored::Ended)),
            ("scenario.ignored", Detail::Ignored(Ignored::TimeoutNotYet)),
            ("scenario.ignored", Detail::Ignored(Ignored::WaitNotElapsed)),
            ("scenario.ignored", Detail::Ignored(Ignored::NotWaitingFor { input: "a reply".into() })),
            ("scenario.error", Detail::Failed(Failure::Expired)),
            ("scenario.error", Detail::Failed(Failure::NoReply)),
            ("scenario.error", Detail::Failed(Failure::Undelivered)),
            ("scenario.error", Detail::Failed(Failure::ScenarioChanged)),
            ("scenario.error", Detail::Failed(Failure::NoScenario { name: "order_notice".into() })),
            ("scenario.error", Detail::Failed(Failure::StepLimit { max: 1000 })),
            ("scenario.error", Detail::Failed(Failure::Repeated { times: 10 })),
            ("scenario.error", Detail::Failed(Failure::NoValidReply { reasks: 2, why: crate::scenario::reply::ReplyError::NotAPhone })),
            ("scenario.script", Detail::ScriptFinished),
            ("scenario.run", Detail::RunStarted { scenario: "survey".into() }),
            ("scenario.end", Detail::Goal { goal: "thanked".into() }),
            ("report.blocked", Detail::BlockReported { channel: "telegram".into(), scenario: "report_blocked".into() }),
            ("job.run", Detail::JobStarted { job: "job_01".into(), runs: 12, scenario: "webinar_reminder".into() }),
            ("api.schedule", Detail::JobScheduled { job: "job_01".into(), scenario: "webinar_reminder".into(), at: 1_764_000_000_000 }),
            ("api.cancel", Detail::JobCancelled { job: "job_01".into(), scenario: "webinar_reminder".into() }),
            ("operator.message", Detail::OperatorSent { operator: "anna@example.com".into(), addresses: 1 }),
            reply(Some("540278913"), ReplyOutcome::Resumed { run: "run_01".into() }),
            reply(None, ReplyOutcome::Linked { user: "125".into() }),
            reply(Some("1"), ReplyOutcome::BadLinkCode),
            reply(Some("1"), ReplyOutcome::EntryStarted { scenario: "welcome".into() }),
            reply(Some("1"), ReplyOutcome::NoEntry),
            reply(None, ReplyOutcome::OperatorHas),
        ]
    }

    #[test]
    fn every_detail_reads_back_as_written() {
        for (step, detail) in every_kind() {
            let text = detail.to_string();
            assert_eq!(Detail::parse(step, &text), detail, "{step}: {text}");
        }
    }

    #[test]
    fn the_english_is_what_the_api_has_always_said() {
        let recipients = Recipients { leads: 1, unresolved: 0, inactive: 0 };
        assert_eq!(Detail::Accepted { scenario: "s".into(), recipients }.to_string(), "accepted; scenario s; 1 lead(s), 0 unresolved");
        assert_eq!(
            Detail::DryRun { recipients: Recipients { inactive: 2, unresolved: 2, ..recipients }, previewed: 1 }.to_string(),
            "dry run; 1 lead(s), 2 unresolved (2 inactive); 1 message(s) previewed"
        );
        let http = Detail::Http { target: "POST crm".into(), outcome: HttpOutcome::Status(200), attempt: Some((2, 3)) };
        assert_eq!(http.to_string(), "POST crm → 200 (attempt 2 of 3)");
    }

    #[test]
    fn other_words_stay_as_written() {
        for (step, text) in [
            ("api.call", "Endpoint not found"),
            ("api.call", "accepted; whatever"),
            ("scenario.error", "Script error at line 23: ReferenceError: foo is not defined"),
            ("messenger.send", "Telegram answered 502: Bad Gateway"),
            ("messenger.send", "message too long"),
            ("scenario.message", "queued for many address(es)"),
            ("scenario.set", "attributes a; status vip; extra"),
            ("scenario.set", ""),
            // A handover's note is the scenario author's own words, even
            // when they look like another step's.
            ("scenario.handover", "start VIP onboarding"),
            ("scenario.handover", "status vip"),
            ("scenario.handover", "goal: call back"),
            ("some.new.step", "queued for 1 address(es)"),
        ] {
            assert_eq!(Detail::parse(step, text), Detail::Text(text.into()), "{step}: {text:?}");
        }
    }
}
