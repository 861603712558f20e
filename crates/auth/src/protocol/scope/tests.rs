use super::*;

fn scope(s: &str) -> Scope {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn scopes_parse_and_display_as_written() {
    for s in [
        "repository:octocat/app:pull",
        "repository:octocat/app:pull,push",
        "repository:octocat/app/release:pull,push,delete",
        "repository:octocat/app:*",
        "repository(plugin):octocat/app:pull",
        "registry:catalog:*",
        "repository:octocat/app:",
    ] {
        assert_eq!(scope(s).to_string(), s);
    }
}

#[test]
fn scopes_normalize_action_order_and_duplicates() {
    let cases = [
        ("repository:a/b:push,pull", "repository:a/b:pull,push"),
        ("repository:a/b:pull,pull,,", "repository:a/b:pull"),
        ("repository:a/b:pull,*", "repository:a/b:*"),
        ("registry:catalog:", "registry:catalog:"),
    ];
    for (input, shown) in cases {
        assert_eq!(scope(input).to_string(), shown, "{input}");
    }
}

#[test]
fn malformed_scopes_are_rejected_with_the_rule_they_break() {
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("repository", "no `:`"),
        ("repository:a/b", "one `:`"),
        ("Repository:a/b:pull", "resource type"),
        ("repository(:a/b:pull", "resource type"),
        ("repository(Plugin):a/b:pull", "resource type"),
        ("repository():a/b:pull", "resource type"),
        ("repository:A/b:pull", "invalid repository name"),
        (
            "repository:registry.example:5000/a/b:pull",
            "invalid repository name",
        ),
        ("repository:a/b:pull,write", "unknown action `write`"),
        ("repository:a/b:PULL", "unknown action"),
        ("namespace:a:pull", "unknown resource type `namespace`"),
        ("registry:users:*", "unknown registry resource"),
        ("registry(x):catalog:*", "takes no class"),
    ];
    for (input, expected) in cases {
        let error = Scope::parse(input).expect_err(input).to_string();
        assert!(error.contains(expected), "{input}: {error}");
    }
}

#[test]
fn intersection_keeps_common_actions_of_the_same_resource_only() {
    let cases = [
        (
            "repository:a/b:pull,push",
            "repository:a/b:pull",
            Some("repository:a/b:pull"),
        ),
        (
            "repository:a/b:*",
            "repository:a/b:pull,push",
            Some("repository:a/b:pull,push"),
        ),
        (
            "repository:a/b:*",
            "repository:a/b:*",
            Some("repository:a/b:*"),
        ),
        (
            "repository:a/b:push",
            "repository:a/b:pull",
            Some("repository:a/b:"),
        ),
        (
            "repository(plugin):a/b:pull",
            "repository:a/b:pull",
            Some("repository:a/b:pull"),
        ),
        (
            "repository(plugin):a/b:pull",
            "repository(plugin):a/b:*",
            Some("repository(plugin):a/b:pull"),
        ),
        ("repository:a/b:pull", "repository:a/c:pull", None),
        ("registry:catalog:*", "repository:catalog:*", None),
    ];
    for (a, b, expected) in cases {
        let got = scope(a).intersect(&scope(b)).map(|s| s.to_string());
        assert_eq!(got.as_deref(), expected, "{a} ∩ {b}");
    }
}

#[test]
fn a_request_merges_repeated_and_space_separated_scopes() {
    let set = ScopeSet::from_request([
        "repository:a/b:pull",
        "repository:a/c:pull  repository:a/b:push",
        "registry:catalog:*",
    ])
    .expect("valid request");
    assert_eq!(
        set.to_string(),
        "registry:catalog:* repository:a/b:pull,push repository:a/c:pull"
    );
    assert_eq!(set.len(), 3);
    assert!(set.allows(&scope("repository:a/b:push")));
    assert!(!set.allows(&scope("repository:a/c:push")));
    assert!(ScopeSet::from_request(["repository:a/b:pull bad"]).is_err());
    assert!(ScopeSet::from_request([""]).expect("empty").is_empty());
}

#[test]
fn scope_sets_travel_as_lists_of_strings_and_as_jwt_access_entries() {
    let set: ScopeSet = "repository:a/b:pull,push registry:catalog:*"
        .parse()
        .expect("valid");
    let json = serde_json::to_string(&set).expect("serializes");
    assert_eq!(json, r#"["registry:catalog:*","repository:a/b:pull,push"]"#);
    assert_eq!(
        serde_json::from_str::<ScopeSet>(&json).expect("parses"),
        set
    );

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Claim {
        #[serde(with = "access_claim")]
        access: ScopeSet,
    }
    let json = serde_json::to_string(&Claim {
        access: set.clone(),
    })
    .expect("serializes");
    assert_eq!(
        json,
        r#"{"access":[{"type":"registry","name":"catalog","actions":["*"]},{"type":"repository","name":"a/b","actions":["pull","push"]}]}"#
    );
    let back: Claim = serde_json::from_str(&json).expect("parses");
    assert_eq!(back.access, set);
    let bad = r#"{"access":[{"type":"namespace","name":"a","actions":["pull"]}]}"#;
    assert!(serde_json::from_str::<Claim>(bad).is_err());
}
