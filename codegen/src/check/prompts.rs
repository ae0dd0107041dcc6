//! prompts.yaml: the versioned instruction text of the agents that prompt a model.

use super::agents::Agents;
use super::Ck;
use crate::load;
use crate::load::{rel_of, MAX_PROMPT_BYTES};
use crate::ops::PromptDef;
use crate::raw_ops::PromptsFile;

pub(super) fn check(ck: &mut Ck, f: &PromptsFile, ag: &Agents) -> Vec<PromptDef> {
    let mut out: Vec<PromptDef> = Vec::new();
    for p in &f.prompts {
        let p = &p.value;
        // Rule: a prompt belongs to a declared agent (by its canonical id).
        let agent = ag
            .agent_ns
            .resolve(ck, load::PROMPTS, &p.agent)
            .and_then(|_| ag.agent_defs.iter().position(|a| a.name == p.agent.value));
        // Rule: an agent has one prompt (which one would run?).
        if let Some(a) = agent {
            if out.iter().any(|o| o.agent == a) {
                ck.err(
                    load::PROMPTS,
                    p.agent.referenced,
                    format!("agent `{}` has two prompts", p.agent.value),
                    Some("keep one entry per agent".to_string()),
                );
                continue;
            }
        }
        // Rule: a version is a short token without spaces (it is recorded in every event).
        let v = &p.version.value;
        if v.is_empty()
            || v.len() > 64
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
        {
            ck.err(
                load::PROMPTS,
                p.version.referenced,
                format!("invalid prompt version `{v}`"),
                Some(
                    "use letters, digits and `.`, `-`, `_`, `@`, e.g. `sdr-copilot-2026-01`"
                        .to_string(),
                ),
            );
        }
        // Rule: the prompt file stays under policy/ and exists (a missing text is a build error, not an empty prompt).
        let Some(rel) = rel_of(&p.file.value) else {
            ck.err(
                load::PROMPTS,
                p.file.referenced,
                format!("invalid prompt file path `{}`", p.file.value),
                Some(
                    "give a path relative to policy/, without `..`, e.g. `prompts/sdr.copilot.md`"
                        .to_string(),
                ),
            );
            continue;
        };
        let Some(text) = ck.src.text(&rel) else {
            ck.err(
                load::PROMPTS,
                p.file.referenced,
                format!("prompt file `{rel}` not found"),
                Some(format!(
                    "create `{rel}` with the prompt text, or fix the path (relative to policy/)"
                )),
            );
            continue;
        };
        let text = text.strip_suffix('\n').unwrap_or(text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        // Rule: a prompt text is non-empty and small.
        if text.trim().is_empty() || text.len() > MAX_PROMPT_BYTES {
            ck.err(
                load::PROMPTS,
                p.file.referenced,
                format!("prompt file `{rel}` is empty or larger than {MAX_PROMPT_BYTES} bytes"),
                Some("write the instruction text in the file".to_string()),
            );
            continue;
        }
        if let Some(agent) = agent {
            out.push(PromptDef {
                agent,
                version: v.clone(),
                file: rel,
                text: text.to_string(),
            });
        }
    }
    out
}
