//! Protocol-faithful fakes for tests and benchmarks.
//!
//! ComOps talks to two kinds of outside systems: messengers (Telegram first)
//! and the business systems that call a bot's endpoint. This crate stands in
//! for both, on `127.0.0.1:0`, so tests run offline and benchmarks can push the
//! dispatch engine to a messenger's real limits without a real bot.
//!
//! - [`FakeTelegram`] speaks the documented Telegram Bot API
//!   (`/bot<token>/<method>`, JSON or form bodies, `{"ok": …}` envelopes, the
//!   real error wording, long polling, webhooks, rate limits). A test drives
//!   the *person* side through Rust methods (`user_sends_text`, `block`, …).
//! - [`FakeCrm`] is a tiny business system that records every request and
//!   answers with canned JSON per route.
//!
//! Each fake keeps its server alive while any clone of its handle lives; the
//! last drop stops it.

mod crm;
mod gate;
pub mod smtp;
pub mod telegram;
pub mod vk;
pub mod whatsapp;

pub use crm::{CrmRequest, FakeCrm};
pub use telegram::{
    AnsweredCallback, CallbackQuery, Chat, Contact, FakeTelegram, Limits, Message, MessageEntity,
    Outage, PhotoSize, SentMessage, Update, User,
};
