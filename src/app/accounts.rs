//! The accounts a run covers: those `accounts:` declares by id, every account AWS
//! Organizations lists for an `organization:` item, narrowed by `--account`; and
//! the [`Fleet`] of clients that reaches them, one per account, each of whose
//! credentials is resolved once before any bucket is touched.

use std::collections::BTreeMap;

use anyhow::bail;

use crate::cli::Global;
use crate::model::Access;
use crate::plan::file::PlanFile;
use crate::policy::Policy;
use crate::s3::{AwsS3, Fleet};

/// One account the run covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub access: Access,
}

/// The accounts a run covers and the clients that reach them.
#[derive(Debug)]
pub struct Roster {
    /// Sorted by id; empty when the policies declare no `accounts:` (the caller's
    /// own account only).
    pub accounts: Vec<Account>,
    /// `--account`: only these (empty: all).
    pub only: Vec<String>,
    pub fleet: Fleet,
}

impl Roster {
    /// How to reach account `id`: its declared access, else the caller's own
    /// credentials (an entry's `account:` without `accounts:` is only the expected
    /// bucket owner).
    pub fn access(&self, id: Option<&str>) -> Access {
        id.and_then(|id| self.accounts.iter().find(|a| a.id == id))
            .map(|a| a.access.clone())
            .unwrap_or_default()
    }

    /// The accounts to list buckets in, with how to reach each: the reachable
    /// declared accounts, or the caller's own (`None`) when none is declared.
    pub fn listing(&self) -> Vec<(Option<String>, Access)> {
        if self.accounts.is_empty() {
            return vec![(None, Access::default())];
        }
        self.accounts
            .iter()
            .filter(|a| self.fleet.failure(&a.access).is_none())
            .map(|a| (Some(a.id.clone()), a.access.clone()))
            .collect()
    }

    /// Whether `--account` lets a bucket in `account` through.
    pub fn wanted(&self, account: Option<&str>) -> bool {
        self.only.is_empty() || account.is_some_and(|a| self.only.iter().any(|o| o == a))
    }

    /// Accounts whose credentials could not be had, with why.
    pub fn failures(&self) -> Vec<(&Account, &str)> {
        self.accounts
            .iter()
            .filter_map(|a| self.fleet.failure(&a.access).map(|why| (a, why)))
            .collect()
    }

    /// One paragraph per unreachable account: the account, the role, the error
    /// and the fix. Empty when every account was reached.
    pub fn failure_report(&self) -> String {
        let mut out = String::new();
        for (account, why) in self.failures() {
            let fix = match (&account.access.role_arn, &account.access.profile) {
                (Some(_), _) => {
                    "check that the role exists in that account, that its trust policy \
                     lets the caller assume it (and asks for this external_id, if any), \
                     and that the caller may call sts:AssumeRole on it"
                }
                (None, Some(_)) => {
                    "check that the profile exists in ~/.aws/config and that its \
                     credentials are valid (`aws sts get-caller-identity --profile NAME`)"
                }
                (None, None) => "check the caller's credentials",
            };
            out.push_str(&format!(
                "error: account {} could not be reached with {}: {}\n  = its buckets were \
                 skipped; the other accounts went on\n  = help: {fix}\n",
                account.id,
                crate::text::terminal_safe(&account.access.describe()),
                crate::text::terminal_safe(why),
            ));
        }
        out
    }
}

/// [`Roster::failure_report`] and the accounts whose ListBuckets failed: what a
/// command prints once before exiting 1. Empty when every account answered.
pub fn unreachable_report(roster: &Roster, unlisted: &[(String, crate::s3::S3Error)]) -> String {
    let mut out = roster.failure_report();
    for (account, e) in unlisted {
        out.push_str(&format!(
            "error: account {account}: its buckets could not be listed: {}\n  = its `match:` \
             entries were skipped; the other accounts went on\n  = help: {}\n",
            crate::text::terminal_safe(&e.to_string()),
            e.kind.hint()
        ));
    }
    out
}

/// Each account that could not be reached or listed, as `(account ID)` and why:
/// one entry per account in a report, never one per bucket.
pub fn unreachable_entries(
    roster: &Roster,
    unlisted: &[(String, crate::s3::S3Error)],
) -> Vec<(String, String)> {
    let reached = roster.failures().into_iter().map(|(account, why)| {
        (
            format!("(account {})", account.id),
            format!(
                "could not be reached with {}: {why}",
                account.access.describe()
            ),
        )
    });
    let listed = unlisted.iter().map(|(id, e)| {
        (
            format!("(account {id})"),
            format!("its buckets could not be listed: {e}"),
        )
    });
    reached.chain(listed).collect()
}

/// The partition of the default region, for the role ARNs of organisation accounts.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The accounts the policies cover (listing the organisation when they ask), with
/// `--account` applied, and a connected [`Fleet`] for them.
pub async fn connect(global: &Global, policy: &Policy) -> anyhow::Result<Roster> {
    let default = super::connect(global).await;
    let mut accounts: BTreeMap<String, Access> = policy
        .declared_accounts()
        .map(|(id, access)| (id.to_owned(), access.clone()))
        .collect();
    if let Some(org) = policy.organization() {
        let ids = match default.organization_accounts().await {
            Ok(ids) => ids,
            Err(why) => bail!(
                "`accounts: - organization:` needs the organisation's accounts, but \
                 ListAccounts failed: {}\n  = help: run s3cors with credentials of the \
                 organisation's management account (or a delegated administrator) that \
                 may call organizations:ListAccounts, or declare the accounts by id",
                crate::text::terminal_safe(&why)
            ),
        };
        let partition = partition(default.default_region());
        for id in ids {
            // An account declared by id keeps its own way in.
            accounts
                .entry(id.clone())
                .or_insert_with(|| org.access(partition, &id));
        }
    }
    check_only(&global.account, &accounts, !policy.accounts.is_empty())?;
    let accounts: Vec<Account> = accounts
        .into_iter()
        .filter(|(id, _)| global.account.is_empty() || global.account.contains(id))
        .map(|(id, access)| Account { id, access })
        .collect();
    let mut fleet =
        connect_accesses(global, default, accounts.iter().map(|a| a.access.clone())).await;
    // Credentials that act in another account would read and write that account's
    // buckets: refuse them.
    for account in &accounts {
        if let Some(actual) = fleet.identity(&account.access)
            && actual != account.id
        {
            let why = format!(
                "these credentials act in account {actual}, not in {}",
                account.id
            );
            fleet.refuse(&account.access, why);
        }
    }
    Ok(Roster {
        accounts,
        only: global.account.clone(),
        fleet,
    })
}

/// A fleet for exactly these accesses (apply and rollback take them from the plan).
pub async fn connect_accesses(
    global: &Global,
    default: AwsS3,
    accesses: impl IntoIterator<Item = Access>,
) -> Fleet {
    Fleet::connect(
        default,
        &super::connect_options(global),
        accesses,
        usize::from(global.parallelism),
    )
    .await
}

/// The fleet that reaches every bucket of a saved plan, with the credentials the
/// plan recorded for each (apply uses exactly those, not today's policies).
pub async fn for_plan(global: &Global, file: &PlanFile) -> Fleet {
    let default = super::connect(global).await;
    connect_accesses(
        global,
        default,
        file.buckets.iter().map(|b| b.access.clone()),
    )
    .await
}

/// One paragraph per account of the plan whose credentials could not be had.
pub fn plan_failure_report(fleet: &Fleet, file: &PlanFile) -> String {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = String::new();
    for b in &file.buckets {
        if let Some(why) = fleet.failure(&b.access)
            && seen.insert(&b.access)
        {
            out.push_str(&format!(
                "error: account {} could not be reached with {}: {}\n  = its buckets were not \
                 written\n",
                b.account.as_deref().unwrap_or("(unknown)"),
                crate::text::terminal_safe(&b.access.describe()),
                crate::text::terminal_safe(why),
            ));
        }
    }
    out
}

/// `--account` must name accounts the policies cover, when they declare any.
fn check_only(
    only: &[String],
    accounts: &BTreeMap<String, Access>,
    declared: bool,
) -> anyhow::Result<()> {
    for id in only {
        if !crate::policy::validate::is_account_id(id) {
            bail!("--account {id}: not a 12-digit AWS account ID");
        }
        if declared && !accounts.contains_key(id) {
            let known: Vec<&str> = accounts.keys().map(String::as_str).collect();
            bail!(
                "error[undeclared-account]: --account {id}: no `accounts:` item declares this \
                 account (and the organisation does not list it)\n  = help: covered accounts: {}",
                known.join(", ")
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn only_accounts_must_be_covered() {
        let accounts: BTreeMap<String, Access> =
            [("111111111111".to_owned(), Access::default())].into();
        assert!(check_only(&["111111111111".into()], &accounts, true).is_ok());
        let err = check_only(&["222222222222".into()], &accounts, true).unwrap_err();
        assert!(err.to_string().contains("undeclared-account"), "{err}");
        assert!(check_only(&["222222222222".into()], &BTreeMap::new(), false).is_ok());
        assert!(check_only(&["12".into()], &accounts, true).is_err());
    }
}
