//! The administration commands of the built binary, run against a data
//! directory in a temporary directory: what they print, what they store,
//! and how they fail.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{free_port, spawn_quiet, user_with_secret, BIN};

/// Runs `minimal-registry --data-dir DIR ARGS...`, which may fail.
fn admin(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run minimal-registry")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Runs a command that must succeed, and gives its standard output.
fn ok(data_dir: &Path, args: &[&str]) -> String {
    common::admin(data_dir, args)
}

/// A data directory in which each of `commands` has run, successfully.
fn data_dir_after(commands: &[&[&str]]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for args in commands {
        ok(dir.path(), args);
    }
    dir
}

/// The row of `token list` whose ID column is `id`.
fn token_row(listing: &str, id: &str) -> String {
    listing
        .lines()
        .find(|line| line.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no token {id} in\n{listing}"))
        .to_owned()
}

#[test]
fn a_token_is_printed_once_listed_without_its_secret_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["user", "create", "alice"]);
    assert!(
        data.join("registry.db").exists(),
        "the store lives in <data-dir>/registry.db"
    );

    let created = admin(
        &data,
        &[
            "token",
            "create",
            "alice",
            "--scopes",
            "read:packages,write:packages",
            "--note",
            "ci laptop",
            "--expires-in-days",
            "30",
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let secret = stdout(&created);
    let secret = secret.trim_end();
    assert!(secret.starts_with("wharf_pat_") && !secret.contains(char::is_whitespace));
    assert_eq!(
        stdout(&created).lines().count(),
        1,
        "only the token on stdout"
    );
    assert!(stderr(&created).contains("created token 1 for alice"));
    assert!(stderr(&created).contains("shown only once"));
    assert!(!stderr(&created).contains(secret));

    let listing = ok(&data, &["token", "list", "alice"]);
    assert!(
        !listing.contains(secret),
        "the listing shows the secret:\n{listing}"
    );
    assert!(listing.starts_with("ID  NOTE "), "{listing}");
    for header in ["SCOPES", "CREATED", "EXPIRES", "LAST USED", "REVOKED"] {
        assert!(
            listing.lines().next().unwrap().contains(header),
            "{listing}"
        );
    }
    let row = token_row(&listing, "1");
    assert!(row.contains("ci laptop"), "{row}");
    assert!(row.contains("read:packages,write:packages"), "{row}");
    let fields: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        fields[fields.len() - 2..],
        ["never", "no"],
        "last used, revoked: {row}"
    );

    ok(&data, &["token", "revoke", "1"]);
    let row = token_row(&ok(&data, &["token", "list", "alice"]), "1");
    let revoked = row.split_whitespace().last().unwrap();
    assert!(revoked.ends_with('Z'), "revoked token still live: {row}");

    // Revoking again is harmless and says so.
    let again = admin(&data, &["token", "revoke", "1"]);
    assert!(again.status.success());
    assert!(stderr(&again).contains("already revoked"));

    // The store never held the secret: its bytes are nowhere in the database.
    let database = std::fs::read(data.join("registry.db")).unwrap();
    let wal = std::fs::read(data.join("registry.db-wal")).unwrap_or_default();
    for bytes in [&database, &wal] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
}

#[test]
fn each_token_is_different_and_lists_in_creation_order() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let first = user_with_secret(data, "alice", "read:packages");
    let second = ok(
        data,
        &["token", "create", "alice", "--scopes", "delete:packages"],
    );
    assert_ne!(first, second);
    let listing = ok(data, &["token", "list", "alice"]);
    let ids: Vec<&str> = listing
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids, ["1", "2"]);
    assert!(token_row(&listing, "2").contains("delete:packages"));
}

#[test]
fn organizations_members_and_repository_access() {
    let dir = data_dir_after(&[
        &["user", "create", "alice"],
        &["user", "create", "bob"],
        &["org", "create", "acme"],
        &["org", "add-member", "acme", "alice", "--role", "admin"],
        &["org", "add-member", "acme", "bob"],
    ]);
    let data = dir.path();
    let members = ok(data, &["org", "members", "acme"]);
    assert!(
        members.lines().any(|l| l.starts_with("alice  admin")),
        "{members}"
    );
    assert!(
        members.lines().any(|l| l.starts_with("bob    member")),
        "{members}"
    );

    ok(
        data,
        &["repo-access", "set", "acme/app", "bob", "--role", "write"],
    );
    let access = ok(data, &["repo-access", "list", "acme/app"]);
    assert!(access.contains("user:bob"), "{access}");
    assert!(access.contains("write"), "{access}");
    ok(data, &["repo-access", "remove", "acme/app", "bob"]);
    assert!(!ok(data, &["repo-access", "list", "acme/app"]).contains("bob"));

    let accounts = ok(data, &["user", "list"]);
    assert!(accounts.contains("acme   organization"), "{accounts}");
    assert!(accounts.contains("alice  user"), "{accounts}");
}

#[test]
fn a_workflow_token_is_bound_to_its_repository() {
    let dir = data_dir_after(&[&["org", "create", "acme"]]);
    let data = dir.path();
    let created = admin(data, &["workflow-token", "create", "acme/app"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let secret = stdout(&created);
    assert!(secret.trim_end().starts_with("wharf_pat_"));
    assert!(stderr(&created).contains("for acme/app (packages: write)"));
    let listing = ok(data, &["workflow-token", "list", "acme/app"]);
    assert!(listing.contains("packages:write"), "{listing}");
    assert!(!listing.contains(secret.trim_end()));
    assert!(
        ok(data, &["workflow-token", "list", "acme/other"])
            .lines()
            .count()
            == 1
    );
}

#[test]
fn mistakes_are_refused_with_a_clear_message() {
    let dir = data_dir_after(&[&["user", "create", "alice"], &["org", "create", "acme"]]);
    let data = dir.path();
    #[rustfmt::skip]
    let table: &[(&[&str], i32, &str)] = &[
        // arguments                                                     status  message
        (&["user", "create", "alice"],                                    1, "already exists"),
        (&["user", "create", "ACME"],                                     1, "already exists"),
        (&["user", "create", "not/valid"],                                2, "invalid value"),
        (&["user", "create", "a_b"],                                      2, "single hyphens"),
        (&["user", "create", "a.b"],                                      2, "single hyphens"),
        (&["user", "create", "a--b"],                                     2, "two hyphens in a row"),
        (&["user", "create", "ab-"],                                      2, "starts nor ends with a hyphen"),
        (&["user", "create", &"a".repeat(40)],                            2, "1 to 39 characters"),
        (&["user", "create", "v2"],                                       2, "reserved"),
        (&["user", "create", "Token"],                                    2, "reserved"),
        (&["user", "create", "metrics"],                                  2, "reserved"),
        (&["user", "create", "users"],                                    2, "reserved"),
        (&["org", "create", "orgs"],                                      2, "reserved"),
        (&["org", "create", "a_b"],                                       2, "single hyphens"),
        (&["org", "create", "packages"],                                  2, "reserved"),
        (&["org", "create", "alice"],                                     1, "already exists"),
        (&["org", "add-member", "nope", "alice"],                         1, "unknown organization nope"),
        (&["org", "add-member", "alice", "alice"],                        1, "alice is a user, not an organization"),
        (&["org", "add-member", "acme", "bob"],                           1, "bob"),
        (&["org", "add-member", "acme", "alice", "--role", "boss"],       2, "member or admin"),
        (&["token", "create", "bob", "--scopes", "read:packages"],        1, "unknown user bob"),
        (&["token", "create", "acme", "--scopes", "read:packages"],       1, "acme is an organization, not a user"),
        (&["token", "create", "alice", "--scopes", "read:pkgs"],          2, "unknown token scope `read:pkgs`"),
        (&["token", "create", "alice", "--scopes", ""],                   1, "at least one scope"),
        (&["token", "create", "alice"],                                   2, "--scopes"),
        (&["token", "list", "bob"],                                       1, "unknown user bob"),
        (&["token", "revoke", "42"],                                      1, "no token has id 42"),
        (&["token", "revoke", "x"],                                       2, "invalid value"),
        (&["workflow-token", "create", "nobody/app"],                     1, "unknown owner nobody"),
        (&["workflow-token", "create", "app"],                            2, "OWNER/REPO"),
        (&["repo-access", "set", "acme/app", "bob", "--role", "write"],   1, "unknown user bob"),
        (&["repo-access", "set", "acme/app", "alice", "--role", "owner"], 2, "unknown repository role"),
        (&["repo-access", "remove", "acme/app", "alice"],                 1, "not found"),
    ];
    for (args, status, message) in table {
        let output = admin(data, args);
        assert_eq!(
            output.status.code(),
            Some(*status),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(message),
            "{args:?}: expected {message:?} in {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{args:?} wrote to stdout");
    }
}

#[test]
fn the_data_dir_may_come_after_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let output = Command::new(BIN)
        .args(["user", "create", "carol", "--data-dir", data])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(ok(dir.path(), &["user", "list"]).contains("carol"));
}

/// Starts the registry on a free port over `data_dir`; killed on drop.
struct Registry {
    child: std::process::Child,
    base: String,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    fn start(data_dir: &Path) -> Registry {
        let port = free_port();
        Registry {
            child: spawn_quiet(port, data_dir),
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The status of `GET /v2/` with these Basic credentials, once the
    /// registry answers.
    async fn login_status(&self, client: &reqwest::Client, user: &str, token: &str) -> u16 {
        for _ in 0..200 {
            let sent = client
                .get(format!("{}/v2/", self.base))
                .basic_auth(user, Some(token))
                .send()
                .await;
            if let Ok(response) = sent {
                return response.status().as_u16();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the registry did not come up at {}", self.base);
    }
}

#[tokio::test]
async fn a_token_made_by_the_cli_logs_in_to_the_running_registry_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let token = user_with_secret(data, "alice", "read:packages");
    let token = token.as_str();
    let registry = Registry::start(data);
    let client = reqwest::Client::new();
    assert_eq!(registry.login_status(&client, "alice", token).await, 200);
    assert_eq!(
        registry
            .login_status(&client, "alice", "wharf_pat_wrong")
            .await,
        401
    );

    // Revoked from the command line while the registry runs: refused once
    // the registry's cache (two seconds) has let go of the token.
    ok(data, &["token", "revoke", "1"]);
    let mut status = 0;
    for _ in 0..100 {
        status = registry.login_status(&client, "alice", token).await;
        if status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 401, "a revoked token still logs in");
    let listing = ok(data, &["token", "list", "alice"]);
    let row = token_row(&listing, "1");
    // ID NOTE SCOPES CREATED EXPIRES LAST-USED REVOKED, no spaces inside.
    let fields: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(fields.len(), 7, "{row}");
    assert!(
        fields[5].ends_with('Z'),
        "the login is recorded as a use: {row}"
    );
    assert!(fields[6].ends_with('Z'), "the token is revoked: {row}");
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_the_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new/data");
    ok(&data, &["user", "create", "alice"]);
    assert_eq!(mode(&dir.path().join("new")), 0o700);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("registry.db")), 0o600);
}
