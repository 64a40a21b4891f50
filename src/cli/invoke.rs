//! `agentform invoke RUNTIME`: sends a prompt (or a JSON payload) to a
//! runtime of the spec with InvokeAgentRuntime and prints the answer as it
//! arrives: a server-sent-event stream event by event, anything else as
//! its bytes come.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};

use super::{Ctx, OK};
use crate::model::Address;
use crate::spec;

pub(super) struct Options {
    pub runtime: String,
    pub prompt: Option<String>,
    pub payload: Option<PathBuf>,
    pub session: Option<String>,
    pub endpoint: Option<String>,
}

pub(super) async fn exec(ctx: &Ctx, opts: Options) -> Result<i32> {
    let payload = match (&opts.prompt, &opts.payload) {
        (Some(p), None) => serde_json::to_vec(&serde_json::json!({ "prompt": p }))?,
        (None, Some(f)) => {
            let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .with_context(|| format!("{} is not JSON", f.display()))?;
            bytes
        }
        _ => bail!("give the runtime a --prompt TEXT or a --payload FILE (JSON)"),
    };
    if let Some(s) = &opts.session
        && !(33..=256).contains(&s.len())
    {
        bail!(
            "--session must be 33 to 256 characters (AgentCore's runtime session ids); omit it for a new session"
        );
    }
    let l = match ctx.load_with(spec::Paths::Ignore) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let Some(runtime) = l.spec.runtimes.get(&opts.runtime) else {
        let have: Vec<&str> = l.spec.runtimes.keys().map(String::as_str).collect();
        bail!(
            "the spec has no runtime `{}`{}",
            opts.runtime,
            if have.is_empty() {
                String::new()
            } else {
                format!(" (it has: {})", have.join(", "))
            }
        );
    };
    if let Some(e) = &opts.endpoint
        && e != "DEFAULT"
        && !runtime.endpoints.contains_key(e)
    {
        bail!(
            "runtime {} has no endpoint `{e}` in the spec (DEFAULT always exists)",
            opts.runtime
        );
    }
    let aws = ctx.aws(&l).await?;
    let account = aws.account().await?;
    let observed = aws.observe(&account, &l.spec.project, &[]).await?;
    let known = crate::plan::known_ids(&observed);
    let arn = known
        .get(&Address::Runtime(opts.runtime.clone()))
        .and_then(|i| i.arn.clone())
        .ok_or_else(|| {
            anyhow!(
                "runtime {} does not exist in the account yet; run `agentform apply` first",
                opts.runtime
            )
        })?;
    let session = opts
        .session
        .clone()
        .unwrap_or_else(crate::aws::new_session_id);
    let mut answer = aws
        .invoke_runtime(&arn, opts.endpoint.as_deref(), &session, payload)
        .await?;
    eprintln!(
        "session: {}",
        answer.session_id.as_deref().unwrap_or(&session)
    );
    let mut out = std::io::stdout().lock();
    if answer.is_event_stream() {
        let mut events = Events::default();
        while let Some(chunk) = answer.next_chunk().await? {
            for data in events.push(&chunk) {
                write!(out, "{}", shown(&data))?;
                out.flush()?;
            }
        }
        writeln!(out)?;
    } else {
        let mut last = b'\n';
        while let Some(chunk) = answer.next_chunk().await? {
            out.write_all(&chunk)?;
            out.flush()?;
            last = chunk.last().copied().unwrap_or(last);
        }
        if last != b'\n' {
            writeln!(out)?;
        }
    }
    Ok(OK)
}

/// An event's data as the user reads it: a JSON string's text (agents
/// stream text chunks as JSON strings), else the data as sent, on a line.
fn shown(data: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(data) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{data}\n"),
    }
}

/// Server-sent events split out of a byte stream as it arrives: the data
/// of each complete event (its `data:` lines joined by newlines).
#[derive(Default)]
struct Events {
    buffer: String,
}

impl Events {
    fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buffer.push_str(&String::from_utf8_lossy(chunk));
        let normalised = self.buffer.replace("\r\n", "\n");
        let mut out = Vec::new();
        let mut rest = normalised.as_str();
        while let Some(end) = rest.find("\n\n") {
            let event = &rest[..end];
            rest = &rest[end + 2..];
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if !data.is_empty() {
                out.push(data.join("\n"));
            }
        }
        self.buffer = rest.to_string();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_split_across_chunks() {
        let mut e = Events::default();
        assert!(e.push(b"data: \"Hel").is_empty());
        assert_eq!(
            e.push(b"lo\"\n\ndata: \" world\"\r\n\r\n: comment\n\n"),
            ["\"Hello\"", "\" world\""]
        );
        assert_eq!(e.push(b"data: a\ndata: b\n\n"), ["a\nb"]);
        assert_eq!(shown("\"Hello\""), "Hello");
        assert_eq!(shown("{\"x\":1}"), "{\"x\":1}\n");
    }
}
