//! `sf events`: watch and summarise interaction records on a local data
//! directory, and manage the queue's dead-letter store.
//!
//! - `tail`: prints each new `copilot_events_v1` row as one line (polls).
//! - `stats --day D`: counts by agent, intent and outcome (`--json` for tools).
//! - `dlq list | replay [--id N]`: the native queue's dead letters.
//!
//! These read `<data-dir>/sf.sqlite3`, the file `sf serve` writes; they are
//! safe to run next to a live server (WAL readers never block it).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print new interaction records as they are filed, until Ctrl-C.
    Tail(TailArgs),
    /// Counts of one day's interactions by agent, intent and outcome.
    Stats(StatsArgs),
    /// The dead-letter store of the events queue.
    #[command(subcommand)]
    Dlq(DlqCommand),
}

#[derive(Debug, Args)]
pub struct DataDir {
    /// The data directory of `sf serve`.
    #[arg(long, default_value = ".sf")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct TailArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// Poll interval in milliseconds.
    #[arg(long, default_value_t = 500)]
    pub interval_ms: u64,
    /// Print the rows already filed first.
    #[arg(long)]
    pub from_start: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// UTC day of the events, YYYY-MM-DD.
    #[arg(long)]
    pub day: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List dead letters (oldest first).
    List {
        #[command(flatten)]
        dir: DataDir,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Put dead letters back on the queue (all of them without --id).
    Replay {
        #[command(flatten)]
        dir: DataDir,
        /// Id of a dead letter to replay; repeat for several.
        #[arg(long = "id")]
        ids: Vec<i64>,
    },
}

pub fn run(cmd: EventsCommand) -> i32 {
    let result = match cmd {
        EventsCommand::Tail(a) => tail(&a),
        EventsCommand::Stats(a) => stats(&a),
        EventsCommand::Dlq(DlqCommand::List { dir, limit, json }) => {
            dlq_list(&dir.data_dir, limit, json)
        }
        EventsCommand::Dlq(DlqCommand::Replay { dir, ids }) => dlq_replay(&dir.data_dir, &ids),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sf events: {e}");
            1
        }
    }
}

/// The database must exist: these commands read what `sf serve` wrote and
/// must not silently create an empty one somewhere else.
fn check_db(data_dir: &Path) -> Result<(), String> {
    let path = sf_server::db::db_path(data_dir);
    if path.is_file() {
        Ok(())
    } else {
        Err(format!(
            "no database at {} (start `sf serve --data-dir {}` first, or pass --data-dir)",
            path.display(),
            data_dir.display()
        ))
    }
}

fn valid_day(day: &str) -> bool {
    day.len() == 10
        && day.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        })
}

const TAIL_COLUMNS: &str = "rowid, requestId, day, occurredAtMs, agentId, intent, outcome, opsCount, provider, model, latencyMs";

fn tail(a: &TailArgs) -> Result<(), String> {
    check_db(&a.dir.data_dir)?;
    let mut conn = sf_server::db::open(&a.dir.data_dir)?;
    sf_server::db::ensure_schema(&mut conn)?;
    let mut last: i64 = if a.from_start {
        0
    } else {
        conn.query_row(
            "SELECT coalesce(max(rowid), 0) FROM copilot_events_v1",
            [],
            |r| r.get(0),
        )
        .map_err(|e| format!("reading copilot_events_v1: {e}"))?
    };
    let sql = format!(
        "SELECT {TAIL_COLUMNS} FROM copilot_events_v1 WHERE rowid > ?1 ORDER BY rowid LIMIT 500"
    );
    let stdout = std::io::stdout();
    eprintln!(
        "sf events: watching {} (Ctrl-C to stop)",
        sf_server::db::db_path(&a.dir.data_dir).display()
    );
    loop {
        let mut stmt = conn
            .prepare_cached(&sql)
            .map_err(|e| format!("reading copilot_events_v1: {e}"))?;
        let rows = stmt
            .query_map([last], |r| {
                let text = |i: usize| {
                    r.get::<_, Option<String>>(i)
                        .map(|v| v.unwrap_or_else(|| "-".into()))
                };
                let int = |i: usize| {
                    r.get::<_, Option<i64>>(i)
                        .map(|v| v.map_or_else(|| "-".to_owned(), |n| n.to_string()))
                };
                Ok((
                    r.get::<_, i64>(0)?,
                    format!(
                        "{} {} {} {} intent={} outcome={} ops={} {}/{} {}ms",
                        text(2)?,
                        int(3)?,
                        text(1)?,
                        text(4)?,
                        text(5)?,
                        text(6)?,
                        int(7)?,
                        text(8)?,
                        text(9)?,
                        int(10)?
                    ),
                ))
            })
            .map_err(|e| format!("reading copilot_events_v1: {e}"))?;
        let mut printed = 0;
        {
            let mut out = stdout.lock();
            for row in rows {
                let (rowid, line) = row.map_err(|e| format!("reading copilot_events_v1: {e}"))?;
                last = rowid;
                printed += 1;
                // A closed pipe (`| head`) ends the tail quietly.
                if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                    return Ok(());
                }
            }
        }
        if printed == 0 {
            std::thread::sleep(Duration::from_millis(a.interval_ms.max(10)));
        }
    }
}

/// (agentId, intent, outcome, count) of one group; NULL is `(none)`.
type StatRow = (String, String, String, i64);

/// Counts by agent, intent and outcome; NULL is reported as `(none)`.
fn stats(a: &StatsArgs) -> Result<(), String> {
    if !valid_day(&a.day) {
        return Err(format!("--day {:?}: expected YYYY-MM-DD (UTC)", a.day));
    }
    check_db(&a.dir.data_dir)?;
    let mut conn = sf_server::db::open(&a.dir.data_dir)?;
    sf_server::db::ensure_schema(&mut conn)?;
    let read = |e| format!("reading copilot_events_v1: {e}");
    let mut rows: Vec<StatRow> = Vec::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT agentId, coalesce(intent, '(none)'), coalesce(outcome, '(none)'), count(*) \
                 FROM copilot_events_v1 WHERE day = ?1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            )
            .map_err(read)?;
        let it = stmt
            .query_map([a.day.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(read)?;
        for row in it {
            rows.push(row.map_err(read)?);
        }
    }
    let mut user_outcomes: Vec<(String, i64)> = Vec::new();
    {
        let read = |e| format!("reading copilot_outcomes_v1: {e}");
        let mut stmt = conn
            .prepare("SELECT event, count(*) FROM copilot_outcomes_v1 WHERE day = ?1 GROUP BY 1 ORDER BY 1")
            .map_err(read)?;
        let it = stmt
            .query_map([a.day.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(read)?;
        for row in it {
            user_outcomes.push(row.map_err(read)?);
        }
    }
    let summary = summarise(&a.day, &rows, &user_outcomes);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        );
    } else {
        print!("{}", render_text(&summary));
    }
    Ok(())
}

fn tally(rows: &[StatRow], key: impl Fn(&StatRow) -> &str) -> Map<String, Value> {
    let mut pairs: Vec<(String, i64)> = Vec::new();
    for r in rows {
        let k = key(r);
        match pairs.iter_mut().find(|(n, _)| n == k) {
            Some((_, c)) => *c += r.3,
            None => pairs.push((k.to_owned(), r.3)),
        }
    }
    pairs.sort();
    pairs.into_iter().map(|(k, c)| (k, json!(c))).collect()
}

/// The JSON summary of one day (also what the text output renders).
pub fn summarise(day: &str, rows: &[StatRow], user_outcomes: &[(String, i64)]) -> Value {
    json!({
        "day": day,
        "total": rows.iter().map(|r| r.3).sum::<i64>(),
        "byAgent": tally(rows, |r| &r.0),
        "byIntent": tally(rows, |r| &r.1),
        "byOutcome": tally(rows, |r| &r.2),
        "rows": rows.iter().map(|r| json!({"agentId": r.0, "intent": r.1, "outcome": r.2, "count": r.3})).collect::<Vec<_>>(),
        "userOutcomes": user_outcomes.iter().map(|(k, c)| (k.clone(), json!(c))).collect::<Map<String, Value>>(),
    })
}

fn render_text(s: &Value) -> String {
    let mut out = format!(
        "{}: {} interaction(s)\n",
        s["day"].as_str().unwrap_or_default(),
        s["total"]
    );
    for (title, field) in [
        ("by agent", "byAgent"),
        ("by intent", "byIntent"),
        ("by outcome", "byOutcome"),
        ("user outcomes (copilot_outcomes_v1)", "userOutcomes"),
    ] {
        out.push_str(&format!("{title}:\n"));
        let map = s[field].as_object().cloned().unwrap_or_default();
        if map.is_empty() {
            out.push_str("  (none)\n");
        }
        for (k, v) in map {
            out.push_str(&format!("  {k:<32} {v}\n"));
        }
    }
    out
}

fn dlq_list(data_dir: &Path, limit: usize, as_json: bool) -> Result<(), String> {
    check_db(data_dir)?;
    let store = sf_server::QueueStore::open(data_dir)?;
    let dead = store.dead_letters(limit)?;
    if as_json {
        let list: Vec<Value> = dead
            .iter()
            .map(|d| {
                json!({
                    "id": d.id, "queue": d.queue, "attempts": d.attempts,
                    "createdAtMs": d.created_at_ms, "failedAtMs": d.failed_at_ms,
                    "lastError": d.last_error,
                    "body": serde_json::from_str::<Value>(&d.body).unwrap_or(Value::String(d.body.clone())),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
        return Ok(());
    }
    if dead.is_empty() {
        println!("no dead letters");
    }
    for d in &dead {
        // The body can be large and can hold user input: a short prefix only.
        let preview: String = d.body.chars().take(120).collect();
        println!(
            "{} queue={} attempts={} failedAtMs={} error={}\n    {}{}",
            d.id,
            d.queue,
            d.attempts,
            d.failed_at_ms,
            d.last_error.as_deref().unwrap_or("-"),
            preview,
            if d.body.chars().count() > 120 {
                "..."
            } else {
                ""
            }
        );
    }
    Ok(())
}

fn dlq_replay(data_dir: &Path, ids: &[i64]) -> Result<(), String> {
    check_db(data_dir)?;
    let mut store = sf_server::QueueStore::open(data_dir)?;
    let moved = store.replay(if ids.is_empty() { None } else { Some(ids) })?;
    println!("replayed {moved} message(s)");
    if !ids.is_empty() && moved < ids.len() {
        return Err(format!(
            "{} of the given id(s) are not in the dead-letter store (see `sf events dlq list`)",
            ids.len() - moved
        ));
    }
    Ok(())
}
