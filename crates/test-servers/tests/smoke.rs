//! The servers start, answer and hand out fresh databases and buckets.

#[test]
fn postgres_hands_out_distinct_databases() {
    let Some(pg) = wharf_test_servers::postgres() else {
        return;
    };
    let a = pg.fresh_database();
    let b = pg.fresh_database();
    assert_ne!(a, b);
    assert!(a.starts_with(&format!("postgres://postgres@127.0.0.1:{}/", pg.port())));
}

#[test]
fn s3_hands_out_distinct_buckets() {
    let Some(s3) = wharf_test_servers::s3() else {
        return;
    };
    assert_ne!(s3.fresh_bucket(), s3.fresh_bucket());
}
