//! A fake SMTP server (RFC 5321) that keeps every message it accepts.
//!
//! It speaks enough of the protocol for a real client such as `lettre`:
//! the `220` greeting, `EHLO`/`HELO` (advertising `8BITMIME`, `SIZE` and
//! `AUTH PLAIN LOGIN`), `AUTH PLAIN` and `AUTH LOGIN` (RFC 4954, with or
//! without an initial response), `MAIL FROM`, `RCPT TO`, `DATA` with
//! dot-unstuffing, `RSET`, `NOOP` and `QUIT`, with the usual reply codes
//! and enhanced status codes (RFC 3463). Out of order commands get `503`.
//!
//! A test plays the mail system's side through Rust: [`FakeSmtp::refuse`]
//! makes a mailbox unknown (`550 5.1.1` at `RCPT TO`), [`FakeSmtp::answer_next`]
//! makes the next `RCPT TO` answer a given code once (`451 4.7.1`
//! greylisting, say), and [`FakeSmtp::start_with_login`] demands `AUTH`
//! before `MAIL`. [`FakeSmtp::wait_for_messages`] returns what arrived, each
//! as a [`ReceivedMail`] that decodes its headers (RFC 2047 encoded words)
//! and its body (`base64` / `quoted-printable`) for assertions.
//!
//! There is no TLS (`STARTTLS` is not offered): clients connect with TLS
//! off, as they would to a relay on the same host.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::gate::{lock, TaskGuard};

/// The host name the server greets with.
const HOST: &str = "fake-smtp.comops.test";
/// The longest command line we read (RFC 5321 §4.5.3.1.4 says 512; AUTH
/// lines may be longer).
const MAX_LINE: usize = 16 * 1024;
/// The largest message we take (advertised as `SIZE`).
const MAX_MESSAGE: usize = 10 * 1024 * 1024;

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The `MAIL FROM` address (without `<>`).
    pub mail_from: String,
    /// The accepted `RCPT TO` addresses.
    pub rcpt_to: Vec<String>,
    /// The message as sent after `DATA`, dot-unstuffed, CRLF line ends.
    pub data: String,
    /// The user name of a successful `AUTH`, if any.
    pub authenticated_as: Option<String>,
    pub at: Instant,
}

impl ReceivedMail {
    /// The header block and the body.
    fn split(&self) -> (&str, &str) {
        self.data.split_once("\r\n\r\n").unwrap_or((&self.data, ""))
    }

    /// The raw value of the first header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let (headers, _) = self.split();
        let mut unfolded: Vec<String> = Vec::new();
        for line in headers.split("\r\n") {
            match unfolded.last_mut() {
                Some(last) if line.starts_with([' ', '\t']) => last.push_str(line),
                _ => unfolded.push(line.to_string()),
            }
        }
        unfolded.into_iter().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_string())
        })
    }

    /// A header's value with RFC 2047 encoded words (`=?utf-8?b?…?=`)
    /// decoded.
    pub fn decoded_header(&self, name: &str) -> Option<String> {
        self.header(name).map(|value| decode_words(&value))
    }

    /// The decoded `Subject`.
    pub fn subject(&self) -> Option<String> {
        self.decoded_header("Subject")
    }

    /// The body decoded from its `Content-Transfer-Encoding` and read as
    /// UTF-8, with `\n` line ends.
    pub fn text(&self) -> String {
        let (_, body) = self.split();
        let encoding = self.header("Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
        let bytes = match encoding.as_str() {
            "base64" => {
                let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                base64::engine::general_purpose::STANDARD.decode(compact).unwrap_or_default()
            }
            "quoted-printable" => decode_quoted_printable(body),
            _ => body.as_bytes().to_vec(),
        };
        String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
    }
}

#[derive(Default)]
struct Inner {
    mails: Vec<ReceivedMail>,
    /// Lower-cased addresses answered `550` at `RCPT TO`.
    refused: HashSet<String>,
    /// Answers for the next `RCPT TO` commands, one each.
    next_answers: VecDeque<(u16, String)>,
    /// When set, `MAIL` needs a successful `AUTH` with these.
    login: Option<(String, String)>,
}

struct State {
    inner: std::sync::Mutex<Inner>,
    changed: Notify,
}

/// A running fake SMTP server. Clones share it; it stops with the last clone.
#[derive(Clone)]
pub struct FakeSmtp {
    state: Arc<State>,
    addr: SocketAddr,
    _tasks: Arc<TaskGuard>,
}

impl FakeSmtp {
    /// A server on `127.0.0.1` with a free port, taking mail without `AUTH`
    /// (an `AUTH` is still accepted with any credentials).
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start() -> Self {
        Self::start_inner(None).await
    }

    /// A server that wants `AUTH` with `username` and `password` before
    /// `MAIL` (`530 5.7.0` otherwise, `535 5.7.8` for wrong credentials).
    pub async fn start_with_login(username: &str, password: &str) -> Self {
        Self::start_inner(Some((username.to_string(), password.to_string()))).await
    }

    async fn start_inner(login: Option<(String, String)>) -> Self {
        let state = Arc::new(State {
            inner: std::sync::Mutex::new(Inner { login, ..Inner::default() }),
            changed: Notify::new(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("fake smtp: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake smtp: local address");
        let accepting = state.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let state = accepting.clone();
                tokio::spawn(async move {
                    if let Err(e) = Session::new(state).run(stream).await {
                        tracing::debug!(error = %e, "fake smtp: session ended");
                    }
                });
            }
        });
        Self { state, addr, _tasks: Arc::new(TaskGuard(vec![server])) }
    }

    /// `127.0.0.1`.
    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// From now on `RCPT TO:<address>` is answered `550 5.1.1` (no such
    /// mailbox).
    pub fn refuse(&self, address: &str) {
        lock(&self.state.inner).refused.insert(address.trim().to_ascii_lowercase());
    }

    /// The next `RCPT TO` (whatever the address) is answered `code text`
    /// once, e.g. `answer_next(451, "4.7.1 Greylisted, try again later")`.
    pub fn answer_next(&self, code: u16, text: &str) {
        lock(&self.state.inner).next_answers.push_back((code, text.to_string()));
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        lock(&self.state.inner).mails.clone()
    }

    /// Waits until at least `n` messages arrived or `timeout` passes; returns
    /// all of them (fewer than `n` on timeout).
    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.state.changed.notified();
            {
                let inner = lock(&self.state.inner);
                if inner.mails.len() >= n || tokio::time::Instant::now() >= deadline {
                    return inner.mails.clone();
                }
            }
            let _ = tokio::time::timeout_at(deadline, changed).await;
        }
    }
}

/// One client connection: the SMTP state machine.
struct Session {
    state: Arc<State>,
    greeted: bool,
    authenticated_as: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

type Io = std::io::Result<()>;

impl Session {
    fn new(state: Arc<State>) -> Self {
        Self { state, greeted: false, authenticated_as: None, mail_from: None, rcpt_to: Vec::new() }
    }

    async fn run(mut self, stream: TcpStream) -> Io {
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        reply(&mut write, 220, &format!("{HOST} ESMTP ComOps fake")).await?;
        while let Some(line) = read_line(&mut reader).await? {
            let (verb, argument) = match line.split_once(' ') {
                Some((verb, rest)) => (verb.to_ascii_uppercase(), rest.trim().to_string()),
                None => (line.to_ascii_uppercase(), String::new()),
            };
            match verb.as_str() {
                "EHLO" => {
                    self.reset();
                    self.greeted = true;
                    let lines = [
                        format!("{HOST} greets {argument}"),
                        "8BITMIME".to_string(),
                        format!("SIZE {MAX_MESSAGE}"),
                        "AUTH PLAIN LOGIN".to_string(),
                        "ENHANCEDSTATUSCODES".to_string(),
                    ];
                    reply_lines(&mut write, 250, &lines).await?;
                }
                "HELO" => {
                    self.reset();
                    self.greeted = true;
                    reply(&mut write, 250, HOST).await?;
                }
                "AUTH" => self.auth(&argument, &mut reader, &mut write).await?,
                "MAIL" => {
                    let login_needed = lock(&self.state.inner).login.is_some();
                    if !self.greeted {
                        reply(&mut write, 503, "5.5.1 Error: send HELO/EHLO first").await?;
                    } else if login_needed && self.authenticated_as.is_none() {
                        reply(&mut write, 530, "5.7.0 Authentication required").await?;
                    } else if let Some(address) = path(&argument, "FROM:") {
                        self.reset();
                        self.mail_from = Some(address);
                        reply(&mut write, 250, "2.1.0 Ok").await?;
                    } else {
                        reply(&mut write, 501, "5.5.4 Syntax: MAIL FROM:<address>").await?;
                    }
                }
                "RCPT" => {
                    let Some(address) = path(&argument, "TO:") else {
                        reply(&mut write, 501, "5.5.4 Syntax: RCPT TO:<address>").await?;
                        continue;
                    };
                    if self.mail_from.is_none() {
                        reply(&mut write, 503, "5.5.1 Error: need MAIL command").await?;
                        continue;
                    }
                    let (code, text) = {
                        let mut inner = lock(&self.state.inner);
                        if let Some(answer) = inner.next_answers.pop_front() {
                            answer
                        } else if inner.refused.contains(&address.to_ascii_lowercase()) {
                            (550, format!("5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"))
                        } else {
                            (250, "2.1.5 Ok".to_string())
                        }
                    };
                    if code == 250 {
                        self.rcpt_to.push(address);
                    }
                    reply(&mut write, code, &text).await?;
                }
                "DATA" => {
                    if self.rcpt_to.is_empty() {
                        reply(&mut write, 554, "5.5.1 Error: no valid recipients").await?;
                        continue;
                    }
                    reply(&mut write, 354, "End data with <CR><LF>.<CR><LF>").await?;
                    let Some(data) = read_data(&mut reader).await? else {
                        reply(&mut write, 552, "5.3.4 Message size exceeds fixed limit").await?;
                        self.reset();
                        continue;
                    };
                    let mail = ReceivedMail {
                        mail_from: self.mail_from.take().unwrap_or_default(),
                        rcpt_to: std::mem::take(&mut self.rcpt_to),
                        data,
                        authenticated_as: self.authenticated_as.clone(),
                        at: Instant::now(),
                    };
                    let queued = {
                        let mut inner = lock(&self.state.inner);
                        inner.mails.push(mail);
                        inner.mails.len()
                    };
                    self.state.changed.notify_waiters();
                    reply(&mut write, 250, &format!("2.0.0 Ok: queued as FAKE{queued:05}")).await?;
                }
                "RSET" => {
                    self.reset();
                    reply(&mut write, 250, "2.0.0 Ok").await?;
                }
                "NOOP" => reply(&mut write, 250, "2.0.0 Ok").await?,
                "QUIT" => {
                    reply(&mut write, 221, "2.0.0 Bye").await?;
                    return Ok(());
                }
                _ => reply(&mut write, 502, "5.5.2 Error: command not recognized").await?,
            }
        }
        Ok(())
    }

    /// Forgets the current transaction (not the login).
    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
    }

    /// `AUTH PLAIN [initial]` or `AUTH LOGIN [initial user]`.
    async fn auth<R, W>(&mut self, argument: &str, reader: &mut R, write: &mut W) -> Io
    where
        R: AsyncBufRead + Unpin,
        W: AsyncWriteExt + Unpin,
    {
        if !self.greeted {
            return reply(write, 503, "5.5.1 Error: send HELO/EHLO first").await;
        }
        if self.authenticated_as.is_some() {
            return reply(write, 503, "5.5.1 Error: already authenticated").await;
        }
        let (mechanism, initial) = match argument.split_once(' ') {
            Some((mechanism, initial)) => (mechanism.to_ascii_uppercase(), Some(initial.trim().to_string())),
            None => (argument.to_ascii_uppercase(), None),
        };
        let credentials = match mechanism.as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(initial) => initial,
                    None => {
                        reply(write, 334, "").await?;
                        read_line(reader).await?.unwrap_or_default()
                    }
                };
                // authzid \0 authcid \0 passwd
                decode_base64(&response).and_then(|plain| {
                    let mut fields = plain.split('\0');
                    let (_authzid, user, password) = (fields.next()?, fields.next()?, fields.next()?);
                    Some((user.to_string(), password.to_string()))
                })
            }
            "LOGIN" => {
                let user = match initial {
                    Some(initial) => initial,
                    None => {
                        reply(write, 334, "VXNlcm5hbWU6").await?; // "Username:"
                        read_line(reader).await?.unwrap_or_default()
                    }
                };
                reply(write, 334, "UGFzc3dvcmQ6").await?; // "Password:"
                let password = read_line(reader).await?.unwrap_or_default();
                decode_base64(&user).zip(decode_base64(&password))
            }
            _ => return reply(write, 504, "5.5.4 Unrecognized authentication type").await,
        };
        let Some((user, password)) = credentials else {
            return reply(write, 501, "5.5.2 Cannot decode the response").await;
        };
        let accepted = match &lock(&self.state.inner).login {
            Some((expected_user, expected_password)) => user == *expected_user && password == *expected_password,
            None => true,
        };
        if accepted {
            self.authenticated_as = Some(user);
            reply(write, 235, "2.7.0 Authentication successful").await
        } else {
            reply(write, 535, "5.7.8 Error: authentication failed").await
        }
    }
}

/// `FROM:<a@b> SIZE=…` → `a@b` (the null path `<>` is an empty address).
fn path(argument: &str, prefix: &str) -> Option<String> {
    let head = argument.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = argument[prefix.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_string())
}

/// One command line without its CRLF; `None` at the end of the stream.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let read = (&mut *reader).take(MAX_LINE as u64).read_until(b'\n', &mut line).await?;
    if read == 0 {
        return Ok(None);
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

/// The message after `354`, up to the lone `.` line, dot-unstuffed (RFC
/// 5321 §4.5.2); `None` when it is over the size limit (the rest is read
/// and dropped).
async fn read_data<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Option<String>> {
    let mut data: Vec<u8> = Vec::new();
    let mut too_large = false;
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed in DATA"));
        }
        if line == b".\r\n" || line == b".\n" {
            break;
        }
        let line = if line.starts_with(b".") { &line[1..] } else { &line[..] };
        if data.len() + line.len() > MAX_MESSAGE {
            too_large = true;
        } else {
            data.extend_from_slice(line);
        }
    }
    if too_large {
        return Ok(None);
    }
    // The CRLF before the final dot ends the last line, not the message.
    if data.ends_with(b"\r\n") {
        data.truncate(data.len() - 2);
    }
    Ok(Some(String::from_utf8_lossy(&data).into_owned()))
}

async fn reply<W: AsyncWriteExt + Unpin>(write: &mut W, code: u16, text: &str) -> Io {
    let line = if text.is_empty() { format!("{code} \r\n") } else { format!("{code} {text}\r\n") };
    write.write_all(line.as_bytes()).await?;
    write.flush().await
}

/// A multi-line reply: `250-first`, …, `250 last`.
async fn reply_lines<W: AsyncWriteExt + Unpin>(write: &mut W, code: u16, lines: &[String]) -> Io {
    let mut out = String::new();
    for (index, line) in lines.iter().enumerate() {
        let separator = if index + 1 == lines.len() { ' ' } else { '-' };
        out.push_str(&format!("{code}{separator}{line}\r\n"));
    }
    write.write_all(out.as_bytes()).await?;
    write.flush().await
}

fn decode_base64(text: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

/// Quoted-printable (RFC 2045 §6.7): `=XX` bytes and `=` soft line breaks.
fn decode_quoted_printable(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            if bytes[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if bytes[i + 1..].starts_with(b"\n") {
                i += 2;
                continue;
            }
            if let Some(byte) = bytes.get(i + 1..i + 3).and_then(|hex| std::str::from_utf8(hex).ok()).and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Decodes RFC 2047 encoded words (`=?charset?B?…?=`, `=?charset?Q?…?=`;
/// the charset is taken to be UTF-8); whitespace between two encoded words
/// is dropped, as the RFC says.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut pending_space = String::new();
    let mut last_was_word = false;
    while !rest.is_empty() {
        if let Some((decoded, after)) = encoded_word(rest) {
            if !last_was_word {
                out.push_str(&pending_space);
            }
            pending_space.clear();
            out.push_str(&decoded);
            rest = after;
            last_was_word = true;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        rest = &rest[c.len_utf8()..];
        if c.is_whitespace() {
            pending_space.push(c);
        } else {
            out.push_str(&pending_space);
            pending_space.clear();
            out.push(c);
            last_was_word = false;
        }
    }
    out.push_str(&pending_space);
    out
}

/// One encoded word at the start of `text`: its decoded text and the rest.
fn encoded_word(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix("=?")?;
    let (_charset, body) = body.split_once('?')?;
    let (encoding, body) = body.split_once('?')?;
    let end = body.find("?=")?;
    let (payload, after) = (&body[..end], &body[end + 2..]);
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD.decode(payload).ok()?,
        "Q" | "q" => decode_quoted_printable(&payload.replace('_', " ")),
        _ => return None,
    };
    Some((String::from_utf8_lossy(&bytes).into_owned(), after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_words_decode() {
        assert_eq!(decode_words("=?utf-8?b?0J/RgNC40LLQtdGC?="), "Привет");
        assert_eq!(decode_words("=?utf-8?b?0J/RgNC4?= =?utf-8?b?0LLQtdGC?= world"), "Привет world");
        assert_eq!(decode_words("=?UTF-8?Q?caf=C3=A9_au_lait?="), "café au lait");
        assert_eq!(decode_words("plain subject"), "plain subject");
    }

    #[test]
    fn quoted_printable_decodes() {
        assert_eq!(decode_quoted_printable("a=3Db=\r\nc"), b"a=bc");
        assert_eq!(String::from_utf8(decode_quoted_printable("=D0=AF")).unwrap(), "Я");
    }

    #[test]
    fn paths_read_angle_addresses() {
        assert_eq!(path("FROM:<a@b.c> SIZE=10", "FROM:"), Some("a@b.c".into()));
        assert_eq!(path("to: <x@y.z>", "TO:"), Some("x@y.z".into()));
        assert_eq!(path("FROM:<>", "FROM:"), Some(String::new()));
        assert_eq!(path("FROM:a@b.c", "FROM:"), None);
    }
}
