//! The cases of [`BlobStore`]: blobs written whole,
//! read back in ranges, deleted, and stored once.

#[allow(unused_imports)]
use super::*;

/// `put_blob` stores verified content in one step; `delete_blob` removes it.
pub async fn put_blob_round_trip_and_delete(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let content = pattern(200_000, 2);
    let digest = Digest::sha256(&content);
    assert_err!(s.blob_size(&digest).await, Error::BlobNotFound(_));
    let size = s
        .put_blob(&digest, body(content.chunks(7_000).map(<[u8]>::to_vec)))
        .await
        .expect("put");
    assert_eq!(size, content.len() as u64);
    assert_eq!(read_all(&*s, &digest, None).await.expect("read"), content);
    assert_eq!(stored_blobs(&*s).await, vec![digest.clone()]);

    s.delete_blob(&digest).await.expect("delete");
    assert_err!(s.blob_size(&digest).await, Error::BlobNotFound(_));
    assert_err!(s.read_blob(&digest, None).await, Error::BlobNotFound(_));
    assert_err!(s.delete_blob(&digest).await, Error::BlobNotFound(_));
    assert!(stored_blobs(&*s).await.is_empty());
}

/// Ranges return exactly the bytes asked for, across internal chunk
/// boundaries.
pub async fn ranges_select_the_right_bytes(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let content = pattern(2 * 1024 * 1024 + 1000, 3);
    let len = content.len() as u64;
    let digest = upload(&*s, &repo("octo/ranges"), &content, 300_000).await;
    let cases: Vec<(&str, ByteRange, std::ops::Range<u64>)> = vec![
        ("first byte", ByteRange::inclusive(0, 0), 0..1),
        (
            "last byte",
            ByteRange::inclusive(len - 1, len - 1),
            len - 1..len,
        ),
        ("suffix of one", ByteRange::Last(1), len - 1..len),
        (
            "across a chunk boundary",
            ByteRange::Within(299_990..300_010),
            299_990..300_010,
        ),
        (
            "across 1 MiB",
            ByteRange::Within(1_048_000..1_049_000),
            1_048_000..1_049_000,
        ),
        ("open-ended", ByteRange::From(len - 5000), len - 5000..len),
        (
            "end clipped",
            ByteRange::inclusive(len - 10, len + 1000),
            len - 10..len,
        ),
        ("suffix longer than blob", ByteRange::Last(len + 1), 0..len),
        ("everything", ByteRange::From(0), 0..len),
    ];
    for (what, range, expected) in cases {
        let content_range = s
            .read_blob(&digest, Some(range.clone()))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(content_range.range, expected, "{what}");
        assert_eq!(content_range.size, len, "{what}");
        let got = read_all(&*s, &digest, Some(range)).await.expect("read");
        let want = &content[expected.start as usize..expected.end as usize];
        assert!(got == want, "{what}: wrong bytes");
    }
}

/// A range that starts at or past the end, or is empty, is not satisfiable
/// and reports the blob's size.
pub async fn ranges_past_the_end_are_not_satisfiable(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let digest = upload(&*s, &repo("octo/ranges"), b"0123456789", 4).await;
    let cases = [
        ("start at size", ByteRange::From(10)),
        ("start past size", ByteRange::inclusive(11, 20)),
        ("empty range", ByteRange::Within(3..3)),
        (
            "reversed range",
            ByteRange::Within(std::ops::Range { start: 5, end: 2 }),
        ),
        ("empty suffix", ByteRange::Last(0)),
    ];
    for (what, range) in cases {
        match s.read_blob(&digest, Some(range)).await {
            Err(Error::RangeNotSatisfiable { size, .. }) => assert_eq!(size, 10, "{what}"),
            other => panic!("{what}: expected RangeNotSatisfiable, got {other:?}"),
        }
    }
}

/// A zero-byte blob uploads, reads back empty, and has no satisfiable range.
pub async fn empty_blob_round_trips(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/empty");
    let session = s.start_upload(&r).await.expect("start");
    let digest = Digest::sha256(b"");
    assert_eq!(
        s.finish_upload(&r, &session.id, &digest)
            .await
            .expect("finish"),
        0
    );
    assert_eq!(s.blob_size(&digest).await.expect("stat"), 0);
    assert!(read_all(&*s, &digest, None).await.expect("read").is_empty());
    assert_err!(
        s.read_blob(&digest, Some(ByteRange::From(0))).await,
        Error::RangeNotSatisfiable { size: 0, .. }
    );
}

/// Many sessions committing the same content at once all succeed and leave
/// exactly one stored blob.
pub async fn concurrent_commits_of_one_digest_keep_one_copy(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let content = Bytes::from(pattern(1_500_000, 6));
    let digest = Digest::sha256(&content);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (s, content, digest) = (Arc::clone(&s), content.clone(), digest.clone());
        tasks.push(tokio::spawn(async move {
            let r = repo(&format!("octo/app{i}"));
            if i % 2 == 0 {
                let session = s.start_upload(&r).await?;
                s.append_upload(&r, &session.id, 0, body([content])).await?;
                s.finish_upload(&r, &session.id, &digest).await
            } else {
                s.put_blob(&digest, body([content])).await
            }
        }));
    }
    for task in tasks {
        let size = task.await.expect("task").expect("every commit succeeds");
        assert_eq!(size, 1_500_000);
    }
    assert_eq!(stored_blobs(&*s).await, vec![digest.clone()]);
    assert_eq!(read_all(&*s, &digest, None).await.expect("read"), content);
    for i in (0..8).step_by(2) {
        assert!(s
            .is_blob_linked(&repo(&format!("octo/app{i}")), &digest)
            .await
            .expect("linked"));
    }
}

/// `list_blobs` pages visit every blob once, in digest order; a blob
/// stored between pages shows up later exactly when it sorts after the
/// page.
pub async fn blobs_page_through_every_digest_once(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let put = |s: Arc<dyn Storage>, i: usize| -> BoxFuture<'static, String> {
        Box::pin(async move {
            let content = pattern(100 + i, i as u8);
            let digest = Digest::sha256(&content);
            s.put_blob(&digest, body([content])).await.expect("put");
            digest.as_str().to_owned()
        })
    };
    let mut initial = Vec::new();
    for i in 0..9 {
        initial.push(put(s.clone(), i).await);
    }
    let list = bind(s.clone(), |s, request: PageRequest| {
        Box::pin(async move { listed(s.list_blobs(&request).await, Digest::as_str) })
    });
    let add = {
        let s = s.clone();
        move |round: usize| put(s.clone(), 50 + round)
    };
    walk_pages(2, initial, Vec::new(), list, add).await;
    // A `last` that is no stored digest is a position all the same.
    let after = s
        .list_blobs(&PageRequest::after("sha256:8", None))
        .await
        .expect("after");
    assert!(after.items.iter().all(|d| d.as_str() > "sha256:8"));
}
