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
    assert_upload_not_found(
        s.upload_status(&r, &session.id).await,
        "a finished session is gone",
    );
}

/// Finishing with the wrong digest stores nothing, links nothing, reports
/// both digests and ends the session.
pub async fn digest_mismatch_leaves_nothing_behind(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let claimed = Digest::sha256(b"what the client claimed");
    let session = start_with(&*s, &r, b"what was sent").await;
    match s.finish_upload(&r, &session.id, &claimed).await {
        Err(Error::DigestMismatch { expected, actual }) => {
            assert_eq!(expected, claimed);
            assert_eq!(actual, Digest::sha256(b"what was sent"));
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    assert!(stored_blobs(&*s).await.is_empty());
    assert!(!s.is_blob_linked(&r, &claimed).await.expect("linked?"));
    assert_upload_not_found(s.upload_status(&r, &session.id).await, "status");

    let put = s.put_blob(&claimed, body([&b"not it"[..]])).await;
    assert!(matches!(put, Err(Error::DigestMismatch { .. })), "{put:?}");
    assert!(stored_blobs(&*s).await.is_empty());
}

/// A chunk whose offset is not the session's size is refused with the
/// current size, and changes nothing.
pub async fn chunk_at_wrong_offset_reports_current_offset(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let session = start_with(&*s, &r, b"hello").await;
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
    let finished = "the refused chunks left no trace";
    resume_and_finish(&*s, &r, &session.id, b"hello world", 5, finished).await;
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
    let session = start_with(&*s, &r, b"data").await;
    let odd: Digest = "blake9:0123456789abcdef"
        .parse()
        .expect("well-formed digest");
    assert_err!(
        s.finish_upload(&r, &session.id, &odd).await,
        Error::UnsupportedAlgorithm(_)
    );
    assert_err!(
        s.put_blob(&odd, body([&b"data"[..]])).await,
        Error::UnsupportedAlgorithm(_)
    );
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
        assert_upload_not_found(s.upload_status(r, &id).await, &format!("{what}: status"));
        assert_upload_not_found(
            s.append_upload(r, &id, 0, body([&b"x"[..]])).await,
            &format!("{what}: append"),
        );
        assert_upload_not_found(
            s.finish_upload(r, &id, &Digest::sha256(b"")).await,
            &format!("{what}: finish"),
        );
        assert_upload_not_found(s.cancel_upload(r, &id).await, &format!("{what}: cancel"));
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
    let session = start_with(&*s, &r, b"abc").await;
    s.cancel_upload(&r, &session.id).await.expect("cancel");
    assert_upload_not_found(s.upload_status(&r, &session.id).await, "status");
    assert_upload_not_found(
        s.append_upload(&r, &session.id, 3, body([&b"d"[..]])).await,
        "append",
    );
    assert!(stored_blobs(&*s).await.is_empty());
}

/// Sessions idle for longer than the maximum age are purged; recent ones
/// are kept.
pub async fn abandoned_sessions_expire(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let old = start_with(&*s, &r, b"abc").await;
    assert_eq!(
        s.purge_expired_uploads(Duration::from_secs(3600))
            .await
            .expect("purge"),
        0
    );
    // Margins wide enough for a loaded machine: the fresh session must not
    // age past the limit between its start and the purge.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let fresh = s.start_upload(&r).await.expect("start");
    assert_eq!(
        s.purge_expired_uploads(Duration::from_millis(1000))
            .await
            .expect("purge"),
        1
    );
    assert_upload_not_found(s.upload_status(&r, &old.id).await, "expired session");
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
    let session = start_with(&*s, &r, &content[..1_000_000]).await;
    let Some(s) = fixture.reopen().await else {
        return;
    };
    let status = s
        .upload_status(&r, &session.id)
        .await
        .expect("status after reopen");
    assert_eq!(status.offset, 1_000_000);
    assert_eq!(status.started, session.started);
    let finished = "finish after reopen";
    resume_and_finish(&*s, &r, &session.id, &content, 1_000_000, finished).await;
    assert_eq!(
        read_all(&*s, &Digest::sha256(&content), None)
            .await
            .expect("read"),
        content
    );
}

/// `upload_sessions` pages visit every open session once, in id order,
/// with its owner; a session started between pages shows up later exactly
/// when its id sorts after the page, and a cancelled or finished one is
/// not listed. A backend that lists no sessions (the default, for
/// sessions that do not outlive the process) passes trivially.
pub async fn open_sessions_page_through_every_session_once(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let start =
        |(s, r): (Arc<dyn Storage>, RepositoryName), i: usize| -> BoxFuture<'static, String> {
            Box::pin(async move {
                let owner = format!("user:{i}");
                let session = s.start_upload_for(&r, &owner).await.expect("start");
                session.id.to_string()
            })
        };
    let mut initial = Vec::new();
    for i in 0..7 {
        initial.push(start((s.clone(), r.clone()), i).await);
    }
    let cancelled = start_with(&*s, &r, b"cancelled").await.id;
    s.cancel_upload(&r, &cancelled).await.expect("cancel");
    let finished = start_with(&*s, &r, b"finished").await.id;
    s.finish_upload(&r, &finished, &Digest::sha256(b"finished"))
        .await
        .expect("finish");
    let all = s
        .upload_sessions(&PageRequest::all())
        .await
        .expect("sessions");
    if all.items.is_empty() {
        return;
    }
    for session in &all.items {
        let n = initial
            .iter()
            .position(|id| *id == session.id.as_str())
            .expect("an open session");
        assert_eq!(session.repository, r);
        assert_eq!(session.owner, Some(format!("user:{n}")));
    }
    let list = bind(s.clone(), |s, request: PageRequest| {
        Box::pin(async move { listed(s.upload_sessions(&request).await, |s| s.id.as_str()) })
    });
    let add = {
        let (s, r) = (s.clone(), r.clone());
        move |round: usize| start((s.clone(), r.clone()), 100 + round)
    };
    let hidden = vec![cancelled.to_string(), finished.to_string()];
    walk_pages(2, initial, hidden, list, add).await;
}
