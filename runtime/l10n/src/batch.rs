//! Job size limits and batching (CONTRACT 7.4 step 11). Sizes are JavaScript
//! string lengths (UTF-16 units), so the numbers in errors match the original.

use crate::allowlist::Item;
use crate::error::L10nError;
use crate::js::js_len;

pub const MAX_BATCH_ITEMS: usize = 80;
pub const MAX_BATCH_CHARS: usize = 4000;
pub const MAX_JOB_ITEMS: usize = 800;
pub const MAX_JOB_CHARS: usize = 60_000;

/// Refuses a job too large to translate, before any model call.
pub fn check_job_size(items: &[Item]) -> Result<(), L10nError> {
    if items.len() > MAX_JOB_ITEMS {
        return Err(L10nError::bad_request(format!(
            "Too many translatable items ({})",
            items.len()
        )));
    }
    let chars: usize = items.iter().map(|i| js_len(&i.value)).sum();
    if chars > MAX_JOB_CHARS {
        return Err(L10nError::bad_request(format!(
            "Input too large ({chars} chars)"
        )));
    }
    Ok(())
}

/// Splits items, in order, into batches of at most 80 items and 4,000
/// characters; a single item over 4,000 characters is refused.
pub fn batches(items: &[Item]) -> Result<Vec<Vec<Item>>, L10nError> {
    let mut out: Vec<Vec<Item>> = Vec::new();
    let mut current: Vec<Item> = Vec::new();
    let mut chars = 0;
    for item in items {
        let n = js_len(&item.value);
        if n > MAX_BATCH_CHARS {
            return Err(L10nError::bad_request(format!(
                "Item too large for translation batch ({})",
                item.path
            )));
        }
        if !current.is_empty() && (current.len() >= MAX_BATCH_ITEMS || chars + n > MAX_BATCH_CHARS)
        {
            out.push(std::mem::take(&mut current));
            chars = 0;
        }
        current.push(item.clone());
        chars += n;
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowlist::EntryType;

    fn items(n: usize, len: usize) -> Vec<Item> {
        (0..n)
            .map(|i| Item {
                path: format!("p{i}"),
                kind: EntryType::String,
                value: "a".repeat(len),
            })
            .collect()
    }

    #[test]
    fn splits_by_count_and_chars() {
        let b = batches(&items(170, 1)).unwrap_or_default();
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![80, 80, 10]);
        let b = batches(&items(5, 1500)).unwrap_or_default();
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1]);
        let b = batches(&items(2, 2000)).unwrap_or_default();
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn refuses_oversized() {
        assert_eq!(
            batches(&items(1, 4001)).err().map(|e| e.message),
            Some("Item too large for translation batch (p0)".into())
        );
        assert_eq!(
            check_job_size(&items(801, 1)).err().map(|e| e.message),
            Some("Too many translatable items (801)".into())
        );
        assert_eq!(
            check_job_size(&items(16, 4000))
                .err()
                .map(|e| (e.status, e.message)),
            Some((400, "Input too large (64000 chars)".into()))
        );
        assert_eq!(check_job_size(&items(800, 75)), Ok(()));
        // UTF-16: an emoji counts twice.
        let mut emoji = items(1, 0);
        emoji[0].value = "😀".repeat(2001);
        assert!(batches(&emoji).is_err());
    }
}
