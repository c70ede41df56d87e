//! `accounts:`: which AWS accounts the policies cover and how to reach each (a role
//! assumed through STS, a named profile, or every account of the organisation),
//! and the check that every bucket entry's `account:` is one of them.

use super::suggest::suggest;
use super::{Validator, join};
use crate::diag::{Diagnostic, ErrorCode, Span};
use crate::model::Access;
use crate::policy::yaml::{Node, NodeKind};
use crate::policy::{AccountDecl, AccountKind, Organization};

const ACCOUNT_KEYS: &[&str] = &["id", "role_arn", "external_id", "profile", "organization"];
const ORGANIZATION_KEYS: &[&str] = &["role_name", "external_id"];

/// A 12-digit AWS account ID.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// IAM's characters for role names and path segments (`[\w+=,.@-]`).
fn is_role_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// The account of `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`, or why it is not one.
pub fn role_arn_account(arn: &str) -> Result<&str, &'static str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err("it is not of the form arn:aws:iam::ACCOUNT:role/NAME");
    };
    if !partition.starts_with("aws") {
        return Err("its partition is not aws, aws-cn or aws-us-gov");
    }
    if !is_account_id(account) {
        return Err("its account is not 12 digits");
    }
    let Some(name) = resource.strip_prefix("role/") else {
        return Err("it names no role (`role/NAME`)");
    };
    let valid = !name.is_empty()
        && !name.ends_with('/')
        && name.len() <= 512
        && name
            .split('/')
            .all(|seg| !seg.is_empty() && seg.chars().all(is_role_name_char));
    if !valid {
        return Err("its role name holds characters IAM does not allow");
    }
    Ok(account)
}

impl Validator {
    pub(super) fn accounts(&mut self, node: &Node, out: &mut Vec<AccountDecl>) {
        let NodeKind::Seq(items) = &node.kind else {
            self.wrong_type(node, "accounts", "a list of accounts");
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let path = format!("accounts[{i}]");
            let Some(decl) = self.account(item, &path) else {
                continue;
            };
            let first = out.iter().find(|o| match (&o.kind, &decl.kind) {
                (AccountKind::Account { id: a, .. }, AccountKind::Account { id: b, .. }) => a == b,
                (AccountKind::Organization(_), AccountKind::Organization(_)) => true,
                _ => false,
            });
            if let Some(first) = first {
                let what = match &decl.kind {
                    AccountKind::Account { id, .. } => format!("account `{id}` is declared twice"),
                    AccountKind::Organization(_) => "`organization` is declared twice".to_owned(),
                };
                self.diags.push(
                    Diagnostic::error(ErrorCode::DuplicateAccount, what)
                        .at(decl.span)
                        .path(&path)
                        .help("keep one item per account, with its role_arn or profile there only")
                        .related(first.span, "first declared here"),
                );
                continue;
            }
            out.push(decl);
        }
    }

    fn account(&mut self, node: &Node, path: &str) -> Option<AccountDecl> {
        let errors_before = self.error_count();
        let fields = self.mapping(node, path, "an account", ACCOUNT_KEYS)?;
        let text = |v: &mut Validator, key: &str| {
            fields
                .get(key)
                .and_then(|n| v.string(n, &join(path, key)).map(|s| (s, n.span)))
        };
        if let Some(org) = fields.get("organization") {
            for key in ["id", "role_arn", "profile", "external_id"] {
                if let Some(span) = fields.key_span(key) {
                    self.error(
                        ErrorCode::ConflictingKeys,
                        span,
                        &join(path, key),
                        format!("`{key}` cannot go with `organization`"),
                        "an `organization` item covers every account of the organisation: \
                         give `role_name` (and `external_id`) inside it, and declare an account \
                         that needs other credentials in an item of its own",
                    );
                }
            }
            let org = self.organization(org, &join(path, "organization"));
            return (self.error_count() == errors_before)
                .then_some(())
                .and(org)
                .map(|(org, span)| AccountDecl {
                    kind: AccountKind::Organization(org),
                    span,
                });
        }
        let Some((id, id_span)) = text(self, "id") else {
            if fields.get("id").is_none() {
                self.error(
                    ErrorCode::MissingKey,
                    node.span,
                    path,
                    "an account needs an `id` (or is an `organization` item)".into(),
                    "add `id: \"123456789012\"`, or `organization: {role_name: NAME}` for every \
                     account of the organisation",
                );
            }
            return None;
        };
        if !is_account_id(&id) {
            self.error(
                ErrorCode::InvalidAccount,
                id_span,
                &join(path, "id"),
                format!("`{id}` is not an AWS account ID"),
                "give the 12-digit account ID, quoted: id: \"123456789012\"",
            );
        }
        let role_arn = text(self, "role_arn");
        let external_id = text(self, "external_id");
        let profile = text(self, "profile");
        if let (Some(_), Some((_, span))) = (&role_arn, &profile) {
            self.error(
                ErrorCode::ConflictingKeys,
                *span,
                &join(path, "profile"),
                "`role_arn` and `profile` cannot go together".into(),
                "give one way in: `role_arn` to assume a role with the caller's credentials, \
                 or `profile` for a profile that assumes it itself",
            );
        }
        if let (None, Some((_, span))) = (&role_arn, &external_id) {
            self.error(
                ErrorCode::ConflictingKeys,
                *span,
                &join(path, "external_id"),
                "`external_id` goes with `role_arn`".into(),
                "add the `role_arn` whose trust policy asks for this external ID, or remove it",
            );
        }
        if let Some((arn, span)) = &role_arn {
            match role_arn_account(arn) {
                Err(why) => self.error(
                    ErrorCode::InvalidRoleArn,
                    *span,
                    &join(path, "role_arn"),
                    format!("`{arn}` is not an IAM role ARN: {why}"),
                    "write the role's full ARN: arn:aws:iam::123456789012:role/NAME",
                ),
                Ok(account) if is_account_id(&id) && account != id => self.error(
                    ErrorCode::InvalidRoleArn,
                    *span,
                    &join(path, "role_arn"),
                    format!("the role is in account {account}, not in {id}"),
                    &format!(
                        "a role's credentials act in the role's own account: use the role in \
                         {id} (arn:aws:iam::{id}:role/NAME)"
                    ),
                ),
                Ok(_) => {}
            }
        }
        for (key, value) in [("profile", &profile), ("external_id", &external_id)] {
            if let Some((text, span)) = value
                && text.trim().is_empty()
            {
                self.error(
                    ErrorCode::EmptyValue,
                    *span,
                    &join(path, key),
                    format!("`{key}` is empty"),
                    "give a value, or remove the key",
                );
            }
        }
        if self.error_count() != errors_before {
            return None;
        }
        Some(AccountDecl {
            kind: AccountKind::Account {
                id,
                access: Access {
                    role_arn: role_arn.map(|(s, _)| s),
                    external_id: external_id.map(|(s, _)| s),
                    profile: profile.map(|(s, _)| s),
                },
            },
            span: id_span,
        })
    }

    fn organization(&mut self, node: &Node, path: &str) -> Option<(Organization, Span)> {
        let fields = self.mapping(node, path, "an `organization` item", ORGANIZATION_KEYS)?;
        let external_id = fields
            .get("external_id")
            .and_then(|n| self.string(n, &join(path, "external_id")));
        let Some(name_node) = fields.get("role_name") else {
            self.error(
                ErrorCode::MissingKey,
                node.span,
                path,
                "`organization` needs a `role_name`".into(),
                "add `role_name: NAME`: s3cors assumes arn:aws:iam::ID:role/NAME in every \
                 account AWS Organizations lists",
            );
            return None;
        };
        let role_name = self.string(name_node, &join(path, "role_name"))?;
        let arn = format!("arn:aws:iam::000000000000:role/{role_name}");
        if role_name.contains(':') || role_arn_account(&arn).is_err() {
            self.error(
                ErrorCode::InvalidRoleArn,
                name_node.span,
                &join(path, "role_name"),
                format!("`{role_name}` is not an IAM role name"),
                "give the role's name (with its path if it has one), not its ARN: \
                 role_name: s3cors",
            );
            return None;
        }
        Some((
            Organization {
                role_name,
                external_id,
            },
            name_node.span,
        ))
    }

    /// Every bucket entry's `account:` must be declared when `accounts:` lists
    /// accounts by id only (an `organization` item may hold any account).
    pub(super) fn check_entry_accounts(&mut self, accounts: &[AccountDecl]) {
        if accounts.is_empty()
            || accounts
                .iter()
                .any(|a| matches!(a.kind, AccountKind::Organization(_)))
        {
            return;
        }
        let declared: Vec<&str> = accounts
            .iter()
            .filter_map(|a| match &a.kind {
                AccountKind::Account { id, .. } => Some(id.as_str()),
                AccountKind::Organization(_) => None,
            })
            .collect();
        for (id, span, path) in std::mem::take(&mut self.entry_accounts) {
            if declared.contains(&id.as_str()) {
                continue;
            }
            let help = match suggest(&id, &declared) {
                Some(s) => format!("did you mean `{s}`? Or add the account to `accounts:`"),
                None => format!(
                    "add `- id: \"{id}\"` (with its role_arn or profile) to `accounts:`; \
                     declared: {}",
                    declared.join(", ")
                ),
            };
            self.error(
                ErrorCode::UndeclaredAccount,
                span,
                &path,
                format!("account `{id}` is not declared in `accounts:`"),
                &help,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::role_arn_account;

    #[test]
    fn role_arns() {
        for (arn, want) in [
            ("arn:aws:iam::111111111111:role/s3cors", Ok("111111111111")),
            (
                "arn:aws-cn:iam::111111111111:role/ops/s3cors",
                Ok("111111111111"),
            ),
            (
                "arn:aws:iam::111111111111:role/a+b=c,d.e@f_g-h",
                Ok("111111111111"),
            ),
            ("s3cors", Err("form")),
            (
                "arn:aws:iam::111111111111:user/s3cors",
                Err("names no role"),
            ),
            ("arn:aws:iam::11111111111:role/s3cors", Err("12 digits")),
            ("arn:aws:sts::111111111111:role/s3cors", Err("form")),
            ("arn:gcp:iam::111111111111:role/s3cors", Err("partition")),
            ("arn:aws:iam::111111111111:role/", Err("characters")),
            ("arn:aws:iam::111111111111:role/a b", Err("characters")),
        ] {
            match (role_arn_account(arn), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{arn}"),
                (Err(why), Err(part)) => assert!(why.contains(part), "{arn}: {why}"),
                (got, want) => panic!("{arn}: got {got:?}, want {want:?}"),
            }
        }
    }
}
