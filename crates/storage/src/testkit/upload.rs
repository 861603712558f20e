//! The cases of [`UploadStore`]: resumable upload
//! sessions, verification, interruption, cancellation, expiry, restarts.

#[allow(unused_imports)]
use super::*;

/// Chunks appended in several calls are read back byte for byte, and the
/// finished blob is linked to the session's repository.
pub async fn upload_round_trip_reads_back_the_same_bytes(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let content = pattern(3 * 1024 * 1024 + 17, 1);
    let digest = Digest::sha256(&content);
    let session = s.start_upload(&r).await.expect("start");
    assert_eq!(session.offset, 0);
    assert_eq!(session.repository, r);

    let (first, second) = content.split_at(1_500_000);
    let st = s
        .append_upload(
            &r,
            &session.id,
            0,
            body(first.chunks(65_536).map(<[u8]>::to_vec)),
        )
        .await
        .expect("first append");
    assert_eq!(st.offset, first.len() as u64);
    let st = s
        .append_upload(&r, &session.id, st.offset, body([second.to_vec()]))
        .await
        .expect("second append");
    assert_eq!(st.offset, content.len() as u64);
    let status = s.upload_status(&r, &session.id).await.expect("status");
    assert_eq!(status.offset, content.len() as u64);
    assert_eq!(status.started, session.started);

    assert!(!s.is_blob_linked(&r, &digest).await.expect("linked?"));
    let size = s
        .finish_upload(&r, &session.id, &digest)
        .await
        .expect("finish");
    assert_eq!(size, content.len() as u64);
    assert_eq!(s.blob_size(&digest).await.expect("stat"), size);
    assert!(s.is_blob_linked(&r, &digest).await.expect("linked?"));
    assert_eq!(read_all(&*s, &digest, None).await.expect("read"), content);
    assert!(
        matches!(
            s.upload_status(&r, &session.id).await,
            Err(Error::UploadNotFound { .. })
        ),
        "a finished session is gone"
    );
}

/// Finishing with the wrong digest stores nothing, links nothing, reports
/// both digests and ends the session.
pub async fn digest_mismatch_leaves_nothing_behind(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let claimed = Digest::sha256(b"what the client claimed");
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &session.id, 0, body([&b"what was sent"[..]]))
        .await
        .expect("append");
    match s.finish_upload(&r, &session.id, &claimed).await {
        Err(Error::DigestMismatch { expected, actual }) => {
            assert_eq!(expected, claimed);
            assert_eq!(actual, Digest::sha256(b"what was sent"));
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    assert!(s
        .list_blobs(&PageRequest::all())
        .await
        .expect("list")
        .items
        .is_empty());
    assert!(!s.is_blob_linked(&r, &claimed).await.expect("linked?"));
    assert!(matches!(
        s.upload_status(&r, &session.id).await,
        Err(Error::UploadNotFound { .. })
    ));

    let put = s.put_blob(&claimed, body([&b"not it"[..]])).await;
    assert!(matches!(put, Err(Error::DigestMismatch { .. })), "{put:?}");
    assert!(s
        .list_blobs(&PageRequest::all())
        .await
        .expect("list")
        .items
        .is_empty());
}

/// A chunk whose offset is not the session's size is refused with the
/// current size, and changes nothing.
pub async fn chunk_at_wrong_offset_reports_current_offset(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &session.id, 0, body([&b"hello"[..]]))
        .await
        .expect("append");
    for requested in [0, 3, 6, 1000] {
        match s
            .append_upload(&r, &session.id, requested, body([&b"XXXX"[..]]))
            .await
        {
            Err(Error::WrongOffset {
                requested: got,
                current,
            }) => {
                assert_eq!((got, current), (requested, 5));
            }
            other => panic!("offset {requested}: expected WrongOffset, got {other:?}"),
        }
    }
    s.append_upload(&r, &session.id, 5, body([&b" world"[..]]))
        .await
        .expect("append at the right offset");
    s.finish_upload(&r, &session.id, &Digest::sha256(b"hello world"))
        .await
        .expect("the refused chunks left no trace");
}

/// A body that fails midway keeps what arrived; the upload resumes from the
/// reported offset and verifies.
pub async fn interrupted_body_keeps_received_bytes_and_resumes(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let content = pattern(3_000_000, 4);
    let session = s.start_upload(&r).await.expect("start");
    let sent = &content[..1_234_567];
    let offset = match s
        .append_upload(
            &r,
            &session.id,
            0,
            failing_body(sent.chunks(100_000).map(<[u8]>::to_vec)),
        )
        .await
    {
        Err(Error::BodyInterrupted { offset, .. }) => offset,
        other => panic!("expected BodyInterrupted, got {other:?}"),
    };
    assert_eq!(offset, sent.len() as u64);
    let status = s.upload_status(&r, &session.id).await.expect("status");
    assert_eq!(status.offset, offset);
    resume_and_finish(&*s, &r, &session.id, &content, offset, "finish").await;
}

/// An append whose request is dropped midway (the server cancelled the
/// handler) leaves a session whose reported offset is a prefix of what was
/// sent, from which the upload resumes and verifies.
pub async fn dropped_append_leaves_a_resumable_session(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let content = pattern(3_000_000, 7);
    let session = s.start_upload(&r).await.expect("start");
    let sent = content[..2_600_000]
        .chunks(200_000)
        .map(|c| Ok(Bytes::copy_from_slice(c)));
    let never_ends = stream::iter(sent.collect::<Vec<io::Result<Bytes>>>())
        .chain(stream::pending())
        .boxed();
    let task = {
        let (s, r, id) = (Arc::clone(&s), r.clone(), session.id);
        tokio::spawn(async move { s.append_upload(&r, &id, 0, never_ends).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    task.abort();
    assert!(
        task.await.is_err(),
        "the append was still waiting for the body"
    );

    let offset = s
        .upload_status(&r, &session.id)
        .await
        .expect("status")
        .offset;
    assert!(
        offset <= 2_600_000,
        "offset {offset} is at most what was sent"
    );
    resume_and_finish(
        &*s,
        &r,
        &session.id,
        &content,
        offset,
        "the kept bytes are exactly a prefix of the content",
    )
    .await;
}

/// Uploads and blobs verify against sha512 digests too.
pub async fn sha512_digests_verify(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let content = pattern(1_200_000, 8);
    let digest = Digest::compute(wharf_reference::Algorithm::Sha512, &content).expect("sha512");
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(
        &r,
        &session.id,
        0,
        body(content.chunks(100_000).map(<[u8]>::to_vec)),
    )
    .await
    .expect("append");
    s.finish_upload(&r, &session.id, &digest)
        .await
        .expect("finish");
    assert_eq!(read_all(&*s, &digest, None).await.expect("read"), content);
    assert!(s.is_blob_linked(&r, &digest).await.expect("linked"));

    let other = pattern(1000, 9);
    let other_digest = Digest::compute(wharf_reference::Algorithm::Sha512, &other).expect("sha512");
    s.put_blob(&other_digest, body([other])).await.expect("put");
    assert_eq!(s.blob_size(&other_digest).await.expect("stat"), 1000);
}

/// A digest of an algorithm that cannot be computed is refused before the
/// session is touched.
pub async fn unsupported_algorithm_is_rejected_and_session_kept(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &session.id, 0, body([&b"data"[..]]))
        .await
        .expect("append");
    let odd: Digest = "blake9:0123456789abcdef"
        .parse()
        .expect("well-formed digest");
    assert!(matches!(
        s.finish_upload(&r, &session.id, &odd).await,
        Err(Error::UnsupportedAlgorithm(_))
    ));
    assert!(matches!(
        s.put_blob(&odd, body([&b"data"[..]])).await,
        Err(Error::UnsupportedAlgorithm(_))
    ));
    assert_eq!(
        s.upload_status(&r, &session.id)
            .await
            .expect("status")
            .offset,
        4
    );
    s.finish_upload(&r, &session.id, &Digest::sha256(b"data"))
        .await
        .expect("finish");
}

/// A session id is only valid in the repository that started it.
pub async fn sessions_are_found_only_through_their_repository(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let (a, b) = (repo("octo/a"), repo("octo/b"));
    let session = s.start_upload(&a).await.expect("start");
    let unknown = UploadId::random();
    for (what, r, id) in [
        ("other repository", &b, session.id),
        ("unknown id", &a, unknown),
    ] {
        let not_found = |res: Result<(), Error>| matches!(res, Err(Error::UploadNotFound { .. }));
        assert!(
            not_found(s.upload_status(r, &id).await.map(drop)),
            "{what}: status"
        );
        assert!(
            not_found(
                s.append_upload(r, &id, 0, body([&b"x"[..]]))
                    .await
                    .map(drop)
            ),
            "{what}: append"
        );
        assert!(
            not_found(
                s.finish_upload(r, &id, &Digest::sha256(b""))
                    .await
                    .map(drop)
            ),
            "{what}: finish"
        );
        assert!(not_found(s.cancel_upload(r, &id).await), "{what}: cancel");
    }
    assert_eq!(
        s.upload_status(&a, &session.id)
            .await
            .expect("status")
            .offset,
        0
    );
}

/// Cancelling ends the session.
pub async fn cancelled_session_is_gone(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &session.id, 0, body([&b"abc"[..]]))
        .await
        .expect("append");
    s.cancel_upload(&r, &session.id).await.expect("cancel");
    assert!(matches!(
        s.upload_status(&r, &session.id).await,
        Err(Error::UploadNotFound { .. })
    ));
    assert!(matches!(
        s.append_upload(&r, &session.id, 3, body([&b"d"[..]])).await,
        Err(Error::UploadNotFound { .. })
    ));
    assert!(s
        .list_blobs(&PageRequest::all())
        .await
        .expect("list")
        .items
        .is_empty());
}

/// Sessions idle for longer than the maximum age are purged; recent ones
/// are kept.
pub async fn abandoned_sessions_expire(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let old = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &old.id, 0, body([&b"abc"[..]]))
        .await
        .expect("append");
    assert_eq!(
        s.purge_expired_uploads(Duration::from_secs(3600))
            .await
            .expect("purge"),
        0
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fresh = s.start_upload(&r).await.expect("start");
    assert_eq!(
        s.purge_expired_uploads(Duration::from_millis(150))
            .await
            .expect("purge"),
        1
    );
    assert!(matches!(
        s.upload_status(&r, &old.id).await,
        Err(Error::UploadNotFound { .. })
    ));
    s.upload_status(&r, &fresh.id)
        .await
        .expect("fresh session kept");
}

/// A persistent backend resumes a session after a restart from the offset
/// it reports, and verifies the whole content at the end.
pub async fn session_resumes_after_reopen(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let content = pattern(2_500_000, 5);
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &session.id, 0, body([content[..1_000_000].to_vec()]))
        .await
        .expect("append");
    let Some(s) = fixture.reopen().await else {
        return;
    };
    let status = s
        .upload_status(&r, &session.id)
        .await
        .expect("status after reopen");
    assert_eq!(status.offset, 1_000_000);
    assert_eq!(status.started, session.started);
    s.append_upload(
        &r,
        &session.id,
        1_000_000,
        body([content[1_000_000..].to_vec()]),
    )
    .await
    .expect("append after reopen");
    s.finish_upload(&r, &session.id, &Digest::sha256(&content))
        .await
        .expect("finish after reopen");
    assert_eq!(
        read_all(&*s, &Digest::sha256(&content), None)
            .await
            .expect("read"),
        content
    );
}
