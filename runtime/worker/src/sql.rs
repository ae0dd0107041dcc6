//! The `Sql` port on D1 (`SF_D1`).

use js_sys::futures::JsFuture;
use js_sys::{Array, Object, Reflect, JSON};
use sf_core::ports::{PortError, Sql, SqlRow, SqlStatement, SqlValue};
use wasm_bindgen::{JsCast, JsValue};
use worker::{D1Database, D1PreparedStatement};

use crate::js::js_message;

pub struct CfSql(pub(crate) Result<D1Database, String>);

fn sql_err(e: impl std::fmt::Display) -> PortError {
    PortError::new("sql", e.to_string())
}

/// D1 has no BigInt parameters: integers travel as JS numbers, exact up to 2^53.
fn sql_param(v: &SqlValue) -> JsValue {
    match v {
        SqlValue::Null => JsValue::NULL,
        SqlValue::Integer(i) => JsValue::from_f64(*i as f64),
        SqlValue::Real(f) => JsValue::from_f64(*f),
        SqlValue::Text(s) => JsValue::from_str(s),
    }
}

/// D1 returns every number as a JS number, so the INTEGER/REAL distinction is
/// lost on the way out: integral values within 2^53 come back as `Integer`.
fn sql_cell(v: &JsValue) -> SqlValue {
    if v.is_null() || v.is_undefined() {
        return SqlValue::Null;
    }
    if let Some(s) = v.as_string() {
        return SqlValue::Text(s);
    }
    if let Some(n) = v.as_f64() {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        if n.fract() == 0.0 && n.abs() <= EXACT {
            return SqlValue::Integer(n as i64);
        }
        return SqlValue::Real(n);
    }
    if let Some(b) = v.as_bool() {
        return SqlValue::Integer(i64::from(b));
    }
    // BLOBs arrive as arrays of bytes; the port has no blob type, keep them readable.
    SqlValue::Text(
        JSON::stringify(v)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default(),
    )
}

impl CfSql {
    fn db(&self) -> Result<&D1Database, PortError> {
        self.0
            .as_ref()
            .map_err(|e| PortError::new("sql", e.clone()))
    }

    fn prepare(&self, stmt: &SqlStatement) -> Result<D1PreparedStatement, PortError> {
        let args: Vec<JsValue> = stmt.params.iter().map(sql_param).collect();
        self.db()?
            .prepare(stmt.sql.as_str())
            .bind(&args)
            .map_err(sql_err)
    }
}

impl Sql for CfSql {
    async fn execute(&self, stmt: SqlStatement) -> Result<u64, PortError> {
        let res = self.prepare(&stmt)?.run().await.map_err(sql_err)?;
        let changes = res.meta().map_err(sql_err)?.and_then(|m| m.changes);
        Ok(changes.unwrap_or(0) as u64)
    }

    async fn query(&self, stmt: SqlStatement) -> Result<Vec<SqlRow>, PortError> {
        let prepared = self.prepare(&stmt)?;
        let promise = prepared
            .inner()
            .all()
            .map_err(|e| sql_err(js_message(&e)))?;
        let result = JsFuture::from(promise)
            .await
            .map_err(|e| sql_err(js_message(&e)))?;
        let rows = Reflect::get(&result, &JsValue::from_str("results"))
            .map_err(|e| sql_err(js_message(&e)))?;
        let Some(rows) = rows.dyn_ref::<Array>() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(rows.length() as usize);
        for row in rows.iter() {
            let Some(obj) = row.dyn_ref::<Object>() else {
                continue;
            };
            // Object.entries keeps the select order for column names that are not integers.
            let columns = Object::entries(obj)
                .iter()
                .filter_map(|entry| {
                    let pair = entry.dyn_into::<Array>().ok()?;
                    Some((pair.get(0).as_string()?, sql_cell(&pair.get(1))))
                })
                .collect();
            out.push(SqlRow { columns });
        }
        Ok(out)
    }

    async fn batch(&self, stmts: Vec<SqlStatement>) -> Result<(), PortError> {
        if stmts.is_empty() {
            return Ok(());
        }
        let prepared = stmts
            .iter()
            .map(|s| self.prepare(s))
            .collect::<Result<Vec<_>, _>>()?;
        self.db()?.batch(prepared).await.map_err(sql_err)?;
        Ok(())
    }
}
