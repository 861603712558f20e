//! The JSON shapes of the records, which a REST API serializes: pinned
//! here so that a change to them is a deliberate one.

use serde_json::json;
use wharf_auth::{PersonalAccessToken, WorkflowPermission};
use wharf_packages::prelude::*;
use wharf_packages::{
    Collaborator, Cursor, NewVersion, Page, SqlitePackageStore, VersionRecord, WorkflowToken,
};
use wharf_reference::Digest;

mod common;
use common::{octocat_with_a_token, octocat_with_app, NOW};

fn round_trips<T>(value: &T) -> serde_json::Value
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_value(value).expect("serialize");
    let back: T = serde_json::from_value(json.clone()).expect("deserialize");
    assert_eq!(&back, value, "round trip of {json}");
    json
}

#[tokio::test]
async fn a_package_serializes_flat_with_its_settings_and_history() {
    let store = SqlitePackageStore::in_memory().expect("store");
    let record = octocat_with_app(&store).await;
    let name = record.package.name.clone();
    let json = round_trips(&record);
    assert_eq!(
        json,
        json!({
            "id": record.id.get(),
            "name": "octocat/app",
            "visibility": "private",
            "linked_repository": null,
            "inherit_access": false,
            "grants": [{"grantee": "user:octocat", "role": "admin"}],
            "owner": "octocat",
            "metadata": {},
            "version_count": 0,
            "created_at": 1_700_000_000,
            "updated_at": 1_700_000_000,
            "deleted_at": null,
            "unlinked_at": null,
        })
    );

    let version: VersionRecord = store
        .record_version(
            &name,
            &NewVersion::new(
                Digest::sha256(b"{}"),
                wharf_reference::MediaType::OCI_IMAGE_INDEX,
                2,
            )
            .with_tag("latest".parse().expect("tag"))
            .with_platform("linux/amd64"),
            NOW,
        )
        .await
        .expect("version");
    let json = round_trips(&version);
    assert_eq!(
        json,
        json!({
            "id": version.id.get(),
            "digest": Digest::sha256(b"{}").to_string(),
            "media_type": "application/vnd.oci.image.index.v1+json",
            "size": 2,
            "tags": ["latest"],
            "platforms": ["linux/amd64"],
            "created_at": 1_700_000_000,
            "updated_at": 1_700_000_000,
            "deleted_at": null,
        })
    );
}

#[tokio::test]
async fn tokens_serialize_with_their_kind_and_never_a_secret() {
    let store = SqlitePackageStore::in_memory().expect("store");
    let (secret, personal) = octocat_with_a_token(&store).await;
    let json = round_trips(&personal);
    assert_eq!(json["credential"]["kind"], "personal");
    assert_eq!(json["credential"]["owner"], "octocat");
    assert_eq!(json["credential"]["scopes"], json!(["read:packages"]));
    assert!(!json.to_string().contains(secret.expose_secret()));

    let workflow = store
        .insert_workflow_token(
            &WorkflowToken::new(
                PersonalAccessToken::generate().expect("token").hash(),
                "octocat/app".parse().expect("repository"),
                WorkflowPermission::Read,
                None,
            ),
            NOW,
        )
        .await
        .expect("insert");
    let json = round_trips(&workflow);
    assert_eq!(json["credential"]["kind"], "workflow");
    assert_eq!(json["credential"]["repository"], "octocat/app");
    assert_eq!(json["credential"]["packages"], "read");
}

#[test]
fn pages_and_collaborators_have_plain_shapes() {
    let page = Page {
        items: vec![1, 2],
        next: Some(Cursor::new("2")),
    };
    assert_eq!(round_trips(&page), json!({"items": [1, 2], "next": "2"}));
    for (text, valid) in [
        ("user:alice", true),
        ("team:devs", true),
        ("repository:acme/app", false),
        ("alice", false),
        ("user:", false),
        ("team:a/b", false),
    ] {
        let parsed = text.parse::<Collaborator>();
        assert_eq!(parsed.is_ok(), valid, "{text}");
        if let Ok(collaborator) = parsed {
            assert_eq!(round_trips(&collaborator), json!(text));
        }
    }
}
