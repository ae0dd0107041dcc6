//! Job status reports to Paris and R2 job logs (CONTRACT 7.4, 10.3, 10.5).
//! Logs never hold a grant: the job is written with its `grant` redacted.

use serde_json::{json, Value};

use crate::job::L10nJob;

/// Status values Paris accepts in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Running,
    Succeeded,
    Superseded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Superseded => "superseded",
            JobStatus::Failed => "failed",
        }
    }
}

/// Replaces every `grant` string, at any depth, by `"[redacted]"`.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if k == "grant" && v.is_string() {
                        json!("[redacted]")
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// The fields a report carries besides the job.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFields<'a> {
    pub status: JobStatus,
    pub base_fingerprint: &'a str,
    pub base_updated_at: Option<&'a str>,
    /// `layerKey`: the normalised locale once known, else the job's.
    pub locale: &'a str,
    pub error: Option<&'a str>,
    pub occurred_at_ms: u64,
    /// Defaults to the job's.
    pub widget_type: Option<&'a str>,
}

/// Body of `POST /api/l10n/jobs/report`.
pub fn report_body(job: &L10nJob, f: &ReportFields<'_>) -> Value {
    json!({
        "v": 1,
        "publicId": job.public_id,
        "layer": "locale",
        "layerKey": f.locale,
        "baseFingerprint": f.base_fingerprint,
        "status": f.status.as_str(),
        "widgetType": f.widget_type.unwrap_or(&job.widget_type),
        "workspaceId": job.workspace_id,
        "baseUpdatedAt": f.base_updated_at,
        "error": f.error,
        "occurredAt": iso_time(f.occurred_at_ms),
    })
}

/// R2 key of a job log: `l10n/{publicId}/{locale}/{fingerprint}.{ms}.json`,
/// the fingerprint being the current one, else the job's, else its
/// `baseUpdatedAt`, else `unknown`.
pub fn log_key(job: &L10nJob, current_fingerprint: Option<&str>, now_ms: u64) -> String {
    let fp = current_fingerprint
        .filter(|s| !s.is_empty())
        .or(job.base_fingerprint.as_deref().filter(|s| !s.is_empty()))
        .or(if job.v == 1 {
            job.base_updated_at.as_deref()
        } else {
            None
        }
        .filter(|s| !s.is_empty()))
        .unwrap_or("unknown");
    format!(
        "l10n/{}/{}/{}.{}.json",
        job.public_id, job.locale, fp, now_ms
    )
}

/// `new Date(ms).toISOString()`: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso_time(ms: u64) -> String {
    let secs = ms / 1000;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    // Howard Hinnant's days-to-civil.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{:03}Z",
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::parse_job;

    fn job() -> L10nJob {
        parse_job(
            &json!({"v": 2, "agentId": "l10n.instance.v1", "grant": "v1.secret.mac",
            "publicId": "wgt_1", "widgetType": "faq", "locale": "FR", "baseFingerprint": "jobfp",
            "kind": "user", "workspaceId": "ws", "nested": [{"grant": "v1.other"}]}),
        )
        .expect("valid job")
    }

    #[test]
    fn redacts_grants_everywhere() {
        let text = redact(&job().raw).to_string();
        assert!(!text.contains("secret") && !text.contains("v1.other"));
        assert_eq!(text.matches("[redacted]").count(), 2);
    }

    #[test]
    fn keys_and_bodies() {
        let j = job();
        assert_eq!(log_key(&j, Some("cur"), 5), "l10n/wgt_1/FR/cur.5.json");
        assert_eq!(log_key(&j, None, 5), "l10n/wgt_1/FR/jobfp.5.json");
        let body = report_body(
            &j,
            &ReportFields {
                status: JobStatus::Failed,
                base_fingerprint: "cur",
                base_updated_at: None,
                locale: "fr",
                error: Some("boom"),
                occurred_at_ms: 0,
                widget_type: None,
            },
        );
        assert_eq!(
            body.to_string(),
            r#"{"v":1,"publicId":"wgt_1","layer":"locale","layerKey":"fr","baseFingerprint":"cur","status":"failed","widgetType":"faq","workspaceId":"ws","baseUpdatedAt":null,"error":"boom","occurredAt":"1970-01-01T00:00:00.000Z"}"#
        );
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso_time(1_772_150_400_123), "2026-02-27T00:00:00.123Z");
        assert_eq!(iso_time(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
