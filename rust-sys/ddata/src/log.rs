//! Log records (`dd_system_next_log`): the C library prints nothing; it
//! queues records (level, a stable event name, string fields) that the
//! host drains when the event fd is readable. [`System::forward_logs`]
//! hands them to `tracing` under the target `"ddata"`.
//!
//! The records come as canonical JSON objects with string values and one
//! integer (`time_ms`); the small reader below handles exactly that shape,
//! so the crate needs no JSON dependency.

use crate::error::{Error, Result, Status};
use crate::system::System;

/// A record's severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Routine detail.
    Debug,
    /// Something an operator may want to know (a member joined).
    Info,
    /// Something that may need attention (a member unreachable).
    Warn,
    /// A failure (a durable write failed).
    Error,
}

/// One log record: `event` is a stable dotted name (`member.up`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// The stable event name.
    pub event: String,
    /// The severity.
    pub level: LogLevel,
    /// Key-value fields, keys in sorted order.
    pub fields: Vec<(String, String)>,
    /// When it happened, in the system's clock (milliseconds).
    pub time_ms: u64,
}

impl LogRecord {
    /// The value of field `key`, if present.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn parse(text: &str) -> Result<LogRecord> {
        let mut p = Reader {
            s: text.as_bytes(),
            i: 0,
        };
        let mut rec = LogRecord {
            event: String::new(),
            level: LogLevel::Info,
            fields: Vec::new(),
            time_ms: 0,
        };
        p.expect(b'{')?;
        loop {
            let key = p.string()?;
            p.expect(b':')?;
            match key.as_str() {
                "event" => rec.event = p.string()?,
                "level" => {
                    rec.level = match p.string()?.as_str() {
                        "debug" => LogLevel::Debug,
                        "warn" => LogLevel::Warn,
                        "error" => LogLevel::Error,
                        _ => LogLevel::Info,
                    }
                }
                "time_ms" => rec.time_ms = p.number()?,
                "fields" => {
                    p.expect(b'{')?;
                    if !p.eat(b'}') {
                        loop {
                            let k = p.string()?;
                            p.expect(b':')?;
                            let v = p.string()?;
                            rec.fields.push((k, v));
                            if p.eat(b'}') {
                                break;
                            }
                            p.expect(b',')?;
                        }
                    }
                }
                _ => return Err(bad()),
            }
            if p.eat(b'}') {
                return Ok(rec);
            }
            p.expect(b',')?;
        }
    }
}

fn bad() -> Error {
    Error::new(Status::Corrupt, "log record is not the expected JSON")
}

struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(bad())
        }
    }

    fn number(&mut self) -> Result<u64> {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(bad)
    }

    fn string(&mut self) -> Result<String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i).ok_or_else(bad)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|_| bad()),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or_else(bad)?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = self.s.get(self.i..self.i + 4).ok_or_else(bad)?;
                            self.i += 4;
                            let v = u32::from_str_radix(std::str::from_utf8(hex).map_err(|_| bad())?, 16)
                                .map_err(|_| bad())?;
                            let ch = char::from_u32(v).unwrap_or('\u{fffd}');
                            let mut tmp = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
    }
}

impl System {
    /// Drains the queued log records into `tracing` (target `"ddata"`),
    /// one event each with `event` and `fields` (as `k=v ...`); returns
    /// how many. Call it when the event fd is readable.
    pub fn forward_logs(&self) -> Result<usize> {
        let mut n = 0;
        while let Some(rec) = self.next_log()? {
            let fields: Vec<String> = rec.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let fields = fields.join(" ");
            let event = rec.event.as_str();
            match rec.level {
                LogLevel::Debug => {
                    tracing::debug!(target: "ddata", event, fields = %fields, time_ms = rec.time_ms, "{event} {fields}")
                }
                LogLevel::Info => {
                    tracing::info!(target: "ddata", event, fields = %fields, time_ms = rec.time_ms, "{event} {fields}")
                }
                LogLevel::Warn => {
                    tracing::warn!(target: "ddata", event, fields = %fields, time_ms = rec.time_ms, "{event} {fields}")
                }
                LogLevel::Error => {
                    tracing::error!(target: "ddata", event, fields = %fields, time_ms = rec.time_ms, "{event} {fields}")
                }
            }
            n += 1;
        }
        Ok(n)
    }
}
