use super::*;
use proptest::prelude::*;
use serde_json::json;

fn report(id: &str) -> serde_json::Value {
    json!({
        "id": id,
        "member": "M1",
        "lesson": "l-1",
        "lang": "zh-Hans",
        "played": [[0, 15000], [15000, 30000]],
        "wall": ["2026-03-01T08:00:00Z", "2026-03-01T08:00:30Z"],
        "position_ms": 30000,
        "group_session": null,
    })
}

fn parse(value: &serde_json::Value) -> Result<Vec<WatchReport>, BodyError> {
    parse_watch_body(value.to_string().as_bytes())
}

/// The parse this module replaced: a `Value` tree first, then each report from it.
fn parse_through_a_tree(body: &[u8]) -> Option<Vec<WatchReport>> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let batch = match value {
        serde_json::Value::Object(mut map) if map.contains_key("reports") => {
            if map.len() != 1 {
                return None;
            }
            match map.remove("reports") {
                Some(serde_json::Value::Array(items)) => items,
                _ => return None,
            }
        }
        one => vec![one],
    };
    if batch.len() > MAX_BATCH {
        return None;
    }
    batch
        .into_iter()
        .map(|item| serde_json::from_value(item).ok())
        .collect()
}

#[test]
fn one_report_or_a_batch_parse_into_reports() {
    let one = parse(&report("a")).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].id, "a");
    assert_eq!(one[0].played, [(0, 15_000), (15_000, 30_000)]);
    let batch = parse(&json!({"reports": [report("a"), report("b")]})).unwrap();
    let ids: Vec<&str> = batch.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert!(parse(&json!({"reports": []})).unwrap().is_empty());
    // Key order does not matter, and `device_clock` is optional.
    let mut reordered = serde_json::Map::new();
    for (k, v) in report("c").as_object().unwrap().iter().rev() {
        reordered.insert(k.clone(), v.clone());
    }
    assert_eq!(
        parse(&serde_json::Value::Object(reordered)).unwrap()[0].id,
        "c"
    );
}

#[test]
fn bodies_not_shaped_like_reports_say_why() {
    let cases = [
        ("this is not JSON".to_string(), "not JSON"),
        ("{\"reports\": [".to_string(), "not JSON"),
        (json!([report("a")]).to_string(), "one report"),
        (json!({"reports": {"id": "x"}}).to_string(), "array"),
        (
            json!({"reports": [report("a")], "station": "st"}).to_string(),
            "nothing else",
        ),
        (
            json!({"id": "a", "reports": []}).to_string(),
            "unknown field `reports`",
        ),
        (
            json!({"reports": [report("a"), {"id": "b"}]}).to_string(),
            "report 1: missing field",
        ),
        (format!("{} trailing", report("a")), "not JSON"),
        ("{}".to_string(), "missing field"),
    ];
    for (body, says) in cases {
        let e = parse_watch_body(body.as_bytes()).unwrap_err();
        assert!(e.to_string().contains(says), "{body}: {e}");
    }
}

#[test]
fn a_batch_stops_at_max_batch_reports() {
    let full: Vec<_> = (0..MAX_BATCH).map(|n| report(&n.to_string())).collect();
    assert_eq!(parse(&json!({ "reports": full })).unwrap().len(), MAX_BATCH);
    let mut over = full;
    over.push(report("one-too-many"));
    let e = parse(&json!({ "reports": over })).unwrap_err();
    assert!(e.to_string().contains("at most 10000 reports"), "{e}");
}

#[test]
fn a_report_keeps_one_interval_past_the_limit_and_checks_the_shape_of_the_rest() {
    let many: Vec<[u64; 2]> = (0..3 * MAX_INTERVALS as u64).map(|n| [n, n + 1]).collect();
    let mut body = report("a");
    body["played"] = json!(many);
    let parsed = parse(&body).unwrap();
    assert_eq!(parsed[0].played.len(), MAX_INTERVALS + 1);
    let mut bad_tail = many;
    let mut body = report("a");
    bad_tail.push([5, 6]);
    let mut value = json!(bad_tail);
    value.as_array_mut().unwrap().push(json!([-5, 10]));
    body["played"] = value;
    assert!(matches!(parse(&body), Err(BodyError::NotReports(_))));
}

proptest! {
    /// Whatever the body, the typed parse accepts exactly what the tree parse accepted, with
    /// the same reports (here with few intervals, below the cap).
    #[test]
    fn the_typed_parse_agrees_with_the_tree_parse(
        reports in 0usize..4,
        batch in any::<bool>(),
        drop_field in proptest::option::of(0usize..8),
        extra in proptest::option::of("[a-z]{1,8}"),
        cut in proptest::option::of(0usize..400),
    ) {
        let fields = ["id", "member", "lesson", "lang", "played", "wall", "position_ms", "group_session"];
        let mut items: Vec<serde_json::Value> = (0..reports).map(|n| report(&format!("r{n}"))).collect();
        if let (Some(field), Some(first)) = (drop_field, items.first_mut()) {
            first.as_object_mut().unwrap().remove(fields[field]);
        }
        let mut value = if batch || items.len() != 1 {
            json!({ "reports": items })
        } else {
            items.remove(0)
        };
        if let Some(key) = extra {
            value.as_object_mut().unwrap().insert(key, json!(1));
        }
        let mut text = value.to_string();
        if let Some(cut) = cut {
            text.truncate(cut.min(text.len()));
        }
        let typed = parse_watch_body(text.as_bytes()).ok();
        prop_assert_eq!(typed, parse_through_a_tree(text.as_bytes()));
    }
}
