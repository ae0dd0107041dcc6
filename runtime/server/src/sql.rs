//! `Sql` on SQLite with D1 semantics: one statement per call (a second
//! statement in the text is an error, as with D1's `prepare`), `?`
//! placeholders, and `batch` as one transaction.

use std::rc::Rc;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, TransactionBehavior};
use sf_core::ports::{PortError, Sql, SqlRow, SqlStatement, SqlValue};

use crate::db::Db;

pub struct NativeSql {
    db: Rc<Db>,
}

impl NativeSql {
    pub(crate) fn new(db: Rc<Db>) -> Self {
        Self { db }
    }
}

fn to_sqlite(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::Integer(*i),
        SqlValue::Real(f) => Value::Real(*f),
        SqlValue::Text(s) => Value::Text(s.clone()),
    }
}

fn from_sqlite(v: ValueRef<'_>) -> SqlValue {
    match v {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(i) => SqlValue::Integer(i),
        ValueRef::Real(f) => SqlValue::Real(f),
        ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
        // The port has no blob type and our schema stores none; keep the bytes
        // readable rather than failing the whole query.
        ValueRef::Blob(b) => SqlValue::Text(String::from_utf8_lossy(b).into_owned()),
    }
}

/// Runs one statement to completion (including `... RETURNING` ones, whose
/// rows are discarded) and returns the number of rows it changed.
pub(crate) fn run_statement(c: &Connection, stmt: &SqlStatement) -> rusqlite::Result<u64> {
    let mut prepared = c.prepare_cached(&stmt.sql)?;
    let params: Vec<Value> = stmt.params.iter().map(to_sqlite).collect();
    let readonly = prepared.readonly();
    let mut rows = prepared.query(rusqlite::params_from_iter(params))?;
    while rows.next()?.is_some() {}
    drop(rows);
    // `changes()` keeps the count of the last writing statement; a SELECT
    // changed nothing.
    Ok(if readonly { 0 } else { c.changes() })
}

pub(crate) fn query_statement(
    c: &Connection,
    stmt: &SqlStatement,
) -> rusqlite::Result<Vec<SqlRow>> {
    let mut prepared = c.prepare_cached(&stmt.sql)?;
    let names: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let params: Vec<Value> = stmt.params.iter().map(to_sqlite).collect();
    let mut rows = prepared.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut columns = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            columns.push((name.clone(), from_sqlite(row.get_ref(i)?)));
        }
        out.push(SqlRow { columns });
    }
    Ok(out)
}

impl Sql for NativeSql {
    async fn execute(&self, stmt: SqlStatement) -> Result<u64, PortError> {
        self.db.with("sql", |c| run_statement(c, &stmt))
    }

    async fn query(&self, stmt: SqlStatement) -> Result<Vec<SqlRow>, PortError> {
        self.db.with("sql", |c| query_statement(c, &stmt))
    }

    async fn batch(&self, stmts: Vec<SqlStatement>) -> Result<(), PortError> {
        self.db.with("sql", |c| {
            // IMMEDIATE takes the write lock up front, so the batch cannot fail
            // half-way with SQLITE_BUSY on a lock upgrade.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for s in &stmts {
                run_statement(&tx, s)?;
            }
            tx.commit()
        })
    }
}
