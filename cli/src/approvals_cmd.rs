//! `sf approvals audit`: the append-only approvals audit trail that `sf serve`
//! wrote (D1 table `approvals_audit`, natively in `.sf/sf.sqlite3`).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// Every decision, human decision, expiry, halt and cost report, oldest first.
    Audit(AuditArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Table,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this UTC day (YYYY-MM-DD).
    #[arg(long)]
    pub day: Option<String>,
    /// `json` (one array, the default) or `table` (for people).
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// The data directory of `sf serve`.
    #[arg(long, default_value = ".sf")]
    pub data_dir: PathBuf,
}

pub fn run(c: ApprovalsCommand) -> i32 {
    let ApprovalsCommand::Audit(a) = c;
    match audit(&a) {
        Ok(out) => {
            println!("{out}");
            0
        }
        Err(e) => {
            eprintln!("sf approvals audit: {e}");
            1
        }
    }
}

const COLUMNS: [&str; 11] = [
    "id",
    "at_ms",
    "day",
    "caller",
    "task_id",
    "approval_id",
    "event",
    "status",
    "actor",
    "reason",
    "cost_usd",
];

fn audit(a: &AuditArgs) -> Result<String, String> {
    if let Some(d) = &a.day {
        let ok = d.len() == 10
            && d.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if !ok {
            return Err(format!("--day {d:?}: expected YYYY-MM-DD (UTC)"));
        }
    }
    let path = sf_server::db::db_path(&a.data_dir);
    if !path.is_file() {
        return Err(format!(
            "no database at {} (start `sf serve --data-dir {}` first, or pass --data-dir)",
            path.display(),
            a.data_dir.display()
        ));
    }
    let mut conn = sf_server::db::open(&a.data_dir)?;
    sf_server::db::ensure_schema(&mut conn)?;
    let sql = format!(
        "SELECT {} FROM approvals_audit WHERE (?1 = '' OR day = ?1) ORDER BY id",
        COLUMNS.join(", ")
    );
    let read = |e: String| format!("reading approvals_audit: {e}");
    let mut stmt = conn.prepare(&sql).map_err(|e| read(e.to_string()))?;
    let day = a.day.clone().unwrap_or_default();
    let rows = stmt
        .query_map([&day], |r| {
            Ok(json!({
                "id": r.get::<_, i64>(0)?, "atMs": r.get::<_, i64>(1)?, "day": r.get::<_, String>(2)?,
                "caller": r.get::<_, String>(3)?, "taskId": r.get::<_, String>(4)?,
                "approvalId": r.get::<_, Option<String>>(5)?, "event": r.get::<_, String>(6)?,
                "status": r.get::<_, Option<String>>(7)?, "actor": r.get::<_, String>(8)?,
                "reason": r.get::<_, Option<String>>(9)?, "costUsd": r.get::<_, Option<f64>>(10)?,
            }))
        })
        .map_err(|e| read(e.to_string()))?
        .collect::<Result<Vec<Value>, _>>()
        .map_err(|e| read(e.to_string()))?;
    Ok(match a.format {
        Format::Json => serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into()),
        Format::Table => table(&rows),
    })
}

fn table(rows: &[Value]) -> String {
    let mut out = format!(
        "{:<5} {:<10} {:<8} {:<24} {:<14} {:<9} {:<9} {:>8}  {}\n",
        "id", "day", "caller", "task", "event", "status", "actor", "cost", "reason"
    );
    for r in rows {
        let s = |k: &str| r[k].as_str().unwrap_or("").to_owned();
        let task: String = s("taskId").chars().take(24).collect();
        let reason: String = s("reason").chars().take(60).collect();
        out.push_str(&format!(
            "{:<5} {:<10} {:<8} {:<24} {:<14} {:<9} {:<9} {:>8.2}  {}\n",
            r["id"],
            s("day"),
            s("caller"),
            task,
            s("event"),
            s("status"),
            s("actor"),
            r["costUsd"].as_f64().unwrap_or(0.0),
            reason
        ));
    }
    out.push_str(&format!("{} rows", rows.len()));
    out
}
