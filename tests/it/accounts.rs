//! Many accounts in one run, against moto: its STS assumes a role into any account
//! id, its S3 keeps each account's buckets apart, and its Organizations lists the
//! accounts it created. State is checked per account through the S3 API with that
//! account's own credentials.

use aws_config::BehaviorVersion;
use aws_config::sts::AssumeRoleProvider;
use s3cors::model::CorsConfig;
use s3cors::s3::{AwsS3, BucketTarget, S3Api};
use serde_json::Value;

use crate::support::work::{Work, get_rule};
use crate::support::{Fault, Proxy, moto, sdk_config, unique_bucket};

const A1: &str = "111111111111";
const A2: &str = "222222222222";
const A3: &str = "333333333333";

fn role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/s3cors")
}

/// An SDK configuration acting as `account`, through a role assumed with moto's STS.
async fn account_sdk(account: &str) -> aws_config::SdkConfig {
    let base = sdk_config(moto().endpoint()).await;
    let provider = AssumeRoleProvider::builder(role(account))
        .session_name("s3cors-tests")
        .configure(&base)
        .build()
        .await;
    base.into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .behavior_version(BehaviorVersion::latest())
        .build()
}

/// The S3 layer acting as `account`.
async fn as_account(account: &str) -> AwsS3 {
    AwsS3::from_sdk_config(account_sdk(account).await, true)
}

/// Creates bucket `name` in `account`.
async fn create_in(account: &str, name: &str) {
    let conf = aws_sdk_s3::config::Builder::from(&account_sdk(account).await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
        .create_bucket()
        .bucket(name)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "creating {name} in {account}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
}

fn target(account: &str, name: &str) -> BucketTarget {
    BucketTarget {
        expected_owner: Some(account.to_owned()),
        ..BucketTarget::new(name)
    }
}

fn accounts_yaml(extra: &str) -> String {
    format!(
        "version: 1\naccounts:\n  - id: \"{A1}\"\n    role_arn: {}\n  - id: \"{A2}\"\n    role_arn: {}\n    external_id: s3cors-tests\n  - id: \"{A3}\"\n    profile: third\n{extra}",
        role(A1),
        role(A2)
    )
}

/// A profile `third` that assumes account 3's role with the test credentials,
/// in shared config files of the scratch dir.
fn third_profile_env(work: &Work) -> Vec<(&'static str, String)> {
    let config = work.path("aws-config");
    let credentials = work.path("aws-credentials");
    std::fs::write(
        &config,
        format!(
            "[profile base]\nregion = us-east-1\n\n[profile third]\nrole_arn = {}\nsource_profile = base\nregion = us-east-1\n",
            role(A3)
        ),
    )
    .unwrap();
    std::fs::write(
        &credentials,
        "[base]\naws_access_key_id = test\naws_secret_access_key = test\n",
    )
    .unwrap();
    vec![
        ("AWS_CONFIG_FILE", config.display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            credentials.display().to_string(),
        ),
    ]
}

fn run(work: &Work, env: &[(&'static str, String)], args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("s3cors")
        .unwrap()
        .current_dir(work.dir.path())
        .envs(crate::support::aws_env(&work.endpoint))
        .envs(env.iter().cloned())
        .args(["--path-style", "--color", "never"])
        .args(args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("running s3cors")
}

fn ok(work: &Work, env: &[(&'static str, String)], args: &[&str], code: i32) -> String {
    let out = run(work, env, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "s3cors {args:?}\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `(bucket, account)` of every planned bucket.
fn planned_accounts(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| {
            (
                b["bucket"].as_str().unwrap().to_owned(),
                b["account"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn three_accounts_are_planned_applied_drifted_and_imported_in_one_run() {
    let prefix = unique_bucket("acct");
    // In each account: one exact entry and one bucket for the account's own
    // `match:`; and one bucket for the `match:` without `account:` (every account).
    let mut expected = Vec::new();
    for account in [A1, A2, A3] {
        for kind in ["exact", "own", "any"] {
            let name = format!("{prefix}-{kind}-{}", &account[..1]);
            create_in(account, &name).await;
            expected.push((name, account.to_owned()));
        }
    }
    // A bucket of account 1 that only a `match:` for account 2 could select.
    let stray = format!("{prefix}-own-x");
    create_in(A1, &stray).await;
    expected.sort();

    let work = Work::new();
    let env = third_profile_env(&work);
    let rules = "    rules:\n      - AllowedOrigins: [\"https://app.example.com\"]\n        AllowedMethods: [GET]\n        AllowedHeaders: [Authorization]\n";
    let mut buckets = String::from("buckets:\n");
    for account in [A1, A2, A3] {
        let n = &account[..1];
        buckets.push_str(&format!(
            "  - name: {prefix}-exact-{n}\n    account: \"{account}\"\n{rules}  - match: \"{prefix}-own-{n}\"\n    account: \"{account}\"\n{rules}"
        ));
    }
    buckets.push_str(&format!("  - match: \"{prefix}-any-*\"\n{rules}"));
    work.policy("accounts.yaml", &accounts_yaml(""));
    work.policy("buckets.yaml", &format!("version: 1\n{buckets}"));

    // plan: every bucket, in its own account, and nothing else.
    let report: Value = serde_json::from_str(&ok(&work, &env, &["plan", "--format", "json"], 0))
        .expect("plan json");
    assert_eq!(planned_accounts(&report), expected, "{report:#}");
    assert!(!expected.iter().any(|(b, _)| b == &stray));

    // --account narrows every command to one account.
    let only: Value = serde_json::from_str(&ok(
        &work,
        &env,
        &["plan", "--format", "json", "--account", A2],
        0,
    ))
    .unwrap();
    let want: Vec<_> = expected.iter().filter(|(_, a)| a == A2).cloned().collect();
    assert_eq!(planned_accounts(&only), want);

    // A saved plan records each bucket's account and credentials; apply uses them.
    ok(&work, &env, &["plan", "--out", "plan.json"], 0);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(work.path("plan.json")).unwrap()).unwrap();
    for b in saved["buckets"].as_array().unwrap() {
        let account = b["account"].as_str().unwrap();
        let access = &b["access"];
        match account {
            A1 => assert_eq!(access["role_arn"], role(A1).as_str()),
            A2 => {
                assert_eq!(access["role_arn"], role(A2).as_str());
                assert_eq!(access["external_id"], "s3cors-tests");
            }
            A3 => assert_eq!(access["profile"], "third"),
            other => panic!("unexpected account {other}"),
        }
    }
    ok(&work, &env, &["apply", "plan.json"], 0);
    for (name, account) in &expected {
        let s3 = as_account(account).await;
        let live = s3.get_cors(&target(account, name)).await.expect("read");
        assert_eq!(
            live,
            Some(get_rule("https://app.example.com")),
            "{name} in {account}"
        );
    }
    // Each account's buckets are its own: the caller's account does not list them.
    let caller = crate::support::aws_s3(moto().endpoint()).await;
    let mine = caller.list_buckets(Some(&prefix)).await.expect("list");
    assert!(mine.is_empty(), "{mine:?}");
    assert_eq!(
        as_account(A1)
            .await
            .get_cors(&target(A1, &stray))
            .await
            .unwrap(),
        None,
        "a bucket no entry selects in its account stays untouched"
    );

    // drift: in sync, then one bucket of account 2 changed out of band.
    ok(&work, &env, &["drift"], 0);
    let (drifted, _) = expected.iter().find(|(_, a)| a == A2).unwrap();
    let other: CorsConfig = get_rule("https://elsewhere.example.com");
    as_account(A2)
        .await
        .put_cors(&target(A2, drifted), &other)
        .await
        .unwrap();
    let drift: Value = serde_json::from_str(&ok(&work, &env, &["drift", "--format", "json"], 2))
        .expect("drift json");
    let text = drift.to_string();
    assert!(text.contains(drifted.as_str()), "{drift:#}");
    ok(&work, &env, &["drift", "--account", A1], 0);

    // import from every account writes each bucket with its account.
    let yaml = ok(
        &work,
        &env,
        &[
            "import",
            "--accounts-from",
            "policies/accounts.yaml",
            "--match",
            &format!("{prefix}-*"),
        ],
        0,
    );
    let imported: s3cors::policy::raw::PolicyFile = serde_yaml::from_str(&yaml).expect("yaml");
    let mut got: Vec<(String, String)> = imported
        .buckets
        .iter()
        .map(|b| (b.name.clone().unwrap(), b.account.clone().unwrap()))
        .collect();
    got.sort();
    let mut want = expected.clone();
    want.push((stray.clone(), A1.to_owned()));
    want.sort();
    assert_eq!(got, want, "{yaml}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_whose_role_cannot_be_assumed_is_reported_once_and_the_others_go_on() {
    let prefix = unique_bucket("noassume");
    let good = format!("{prefix}-1");
    create_in(A1, &good).await;
    let bad_role = format!("arn:aws:iam::{A2}:role/{prefix}");
    let proxy = Proxy::with_fault(
        moto().endpoint(),
        &Fault::new("status")
            .ops("AssumeRole")
            .buckets(&bad_role)
            .status(403)
            .code("AccessDenied"),
        &[],
    );
    let work = Work::through(&proxy);
    work.policy(
        "p.yaml",
        &format!(
            "version: 1\naccounts:\n  - id: \"{A1}\"\n    role_arn: {}\n  - id: \"{A2}\"\n    role_arn: {bad_role}\nbuckets:\n  - match: \"{prefix}-*\"\n    rules: [{{AllowedOrigins: [\"*\"], AllowedMethods: [GET]}}]\n  - name: {prefix}-in-2\n    account: \"{A2}\"\n    rules: []\n",
            role(A1)
        ),
    );
    let out = work.run(&["plan", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches(&format!("account {A2}")).count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains(&bad_role), "{stderr}");
    assert!(stderr.contains("trust policy"), "the fix: {stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("plan json");
    assert_eq!(
        planned_accounts(&report),
        vec![(good.clone(), A1.to_owned())],
        "{report:#}"
    );
    assert!(proxy.count("faulted", "AssumeRole") >= 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_organization_item_covers_every_account_organizations_lists() {
    let base = sdk_config(moto().endpoint()).await;
    let org = aws_sdk_organizations::Client::new(&base);
    // moto keeps one organisation per server: create it once, reuse it after.
    if let Err(e) = org.create_organization().send().await {
        let text = aws_sdk_organizations::error::DisplayErrorContext(&e).to_string();
        assert!(text.contains("AlreadyInOrganization"), "{text}");
    }
    let prefix = unique_bucket("org");
    let created = org
        .create_account()
        .email(format!("{prefix}@example.com"))
        .account_name(&prefix)
        .send()
        .await
        .expect("create account");
    let account = created
        .create_account_status()
        .and_then(|s| s.account_id())
        .expect("account id")
        .to_owned();
    let name = format!("{prefix}-b");
    create_in(&account, &name).await;

    let work = Work::new();
    work.policy(
        "p.yaml",
        &format!(
            "version: 1\naccounts:\n  - organization: {{role_name: s3cors}}\nbuckets:\n  - match: \"{prefix}-*\"\n    rules: [{{AllowedOrigins: [\"*\"], AllowedMethods: [GET]}}]\n"
        ),
    );
    let report = work.plan_json(&["--account", &account]);
    assert_eq!(
        planned_accounts(&report),
        vec![(name.clone(), account.clone())],
        "{report:#}"
    );
    ok(
        &work,
        &[],
        &["apply", "--auto-approve", "--account", &account],
        0,
    );
    let s3 = as_account(&account).await;
    let live = s3.get_cors(&target(&account, &name)).await.unwrap();
    assert!(live.is_some(), "applied in the organisation's account");
    // An account the organisation does not list is refused by name.
    let out = work.run(&["plan", "--account", "999999999998"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("undeclared-account"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_that_act_in_another_account_are_refused() {
    let prefix = unique_bucket("wrongacct");
    let work = Work::new();
    // Profile `third` assumes a role in account 3; declared for account 4 it would
    // read and write account 3's buckets as if they were account 4's.
    let env = third_profile_env(&work);
    work.policy(
        "p.yaml",
        &format!(
            "version: 1\naccounts:\n  - id: \"444444444444\"\n    profile: third\nbuckets:\n  - name: {prefix}\n    account: \"444444444444\"\n    rules: []\n"
        ),
    );
    let out = run(&work, &env, &["plan"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("act in account 333333333333, not in 444444444444"),
        "{stderr}"
    );
}
