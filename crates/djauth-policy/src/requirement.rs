//! The requirement vocabulary shared by every front door.
//!
//! `valid-user`, `user:NAME`, `group:NAME`, `perm:APP_LABEL.CODENAME`,
//! `staff`, `superuser`; several requirements mean "any of them"; double
//! quotes allow spaces (`group:"secret agents"` or
//! `"group:secret agents"`), and inside quotes `\"` and `\\` escape.

use std::fmt;
use std::str::FromStr;

use crate::Identity;

/// One requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// Any active user with the right password.
    ValidUser,
    /// The user whose stored username is exactly this.
    User(String),
    /// Members of the group with exactly this name (case-sensitive, as in Django).
    Group(String),
    /// Users with this permission (`app_label.codename`), directly or through a
    /// group; active superusers have every permission, as in Django's `has_perm`.
    Perm(String),
    /// Users with `is_staff`.
    Staff,
    /// Users with `is_superuser`.
    Superuser,
}

/// A requirement list that is met when any one of its requirements is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementSet(Vec<Requirement>);

/// A requirement text that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid requirement {text:?}: {problem}")]
pub struct RequirementError {
    text: String,
    problem: String,
}

impl RequirementSet {
    /// `valid-user`: what a location needs when it names nothing else.
    pub fn valid_user() -> RequirementSet {
        RequirementSet(vec![Requirement::ValidUser])
    }

    /// The requirements, in the order written.
    pub fn requirements(&self) -> &[Requirement] {
        &self.0
    }

    /// Whether deciding may need the user's permissions.
    pub fn needs_permissions(&self) -> bool {
        self.0.iter().any(|r| matches!(r, Requirement::Perm(_)))
    }

    /// Whether an active, authenticated user meets any of the requirements;
    /// `permissions` are the user's `app_label.codename` strings (only
    /// consulted for `perm:`).
    pub fn is_met_by(&self, identity: &Identity, permissions: &[String]) -> bool {
        self.0.iter().any(|requirement| match requirement {
            Requirement::ValidUser => true,
            Requirement::User(name) => identity.username == *name,
            Requirement::Group(name) => identity.groups.iter().any(|g| g == name),
            Requirement::Perm(perm) => {
                identity.is_superuser || permissions.iter().any(|p| p == perm)
            }
            Requirement::Staff => identity.is_staff,
            Requirement::Superuser => identity.is_superuser,
        })
    }
}

impl FromStr for RequirementSet {
    type Err = RequirementError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |problem: &str| RequirementError {
            text: text.to_owned(),
            problem: problem.to_owned(),
        };
        let words = split_words(text).map_err(&error)?;
        if words.is_empty() {
            return Err(error("no requirement given"));
        }
        let mut set = Vec::with_capacity(words.len());
        for word in words {
            let requirement = if word == "valid-user" {
                Requirement::ValidUser
            } else if word == "staff" {
                Requirement::Staff
            } else if word == "superuser" {
                Requirement::Superuser
            } else if let Some(perm) = word.strip_prefix("perm:") {
                Requirement::Perm(permission(perm).map_err(&error)?)
            } else if let Some(name) = word.strip_prefix("user:") {
                Requirement::User(non_empty(name).map_err(&error)?)
            } else if let Some(name) = word.strip_prefix("group:") {
                Requirement::Group(non_empty(name).map_err(&error)?)
            } else {
                return Err(error(&format!(
                    "unknown requirement {word:?}; expected valid-user, user:NAME, group:NAME, perm:APP_LABEL.CODENAME, staff or superuser"
                )));
            };
            set.push(requirement);
        }
        Ok(RequirementSet(set))
    }
}

impl fmt::Display for RequirementSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, requirement) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match requirement {
                Requirement::ValidUser => f.write_str("valid-user")?,
                Requirement::User(name) => write!(f, "user:{}", quoted(name))?,
                Requirement::Group(name) => write!(f, "group:{}", quoted(name))?,
                Requirement::Perm(perm) => write!(f, "perm:{}", quoted(perm))?,
                Requirement::Staff => f.write_str("staff")?,
                Requirement::Superuser => f.write_str("superuser")?,
            }
        }
        Ok(())
    }
}

fn non_empty(name: &str) -> Result<String, &'static str> {
    if name.is_empty() {
        Err("a name is missing after the colon")
    } else {
        Ok(name.to_owned())
    }
}

/// A permission must be `app_label.codename`, split at the first dot.
fn permission(perm: &str) -> Result<String, &'static str> {
    match perm.split_once('.') {
        Some((app, codename)) if !app.is_empty() && !codename.is_empty() => Ok(perm.to_owned()),
        _ => Err("a permission is written app_label.codename, e.g. perm:svn.commit_repo"),
    }
}

/// Quotes a name for display when it needs it.
fn quoted(name: &str) -> String {
    if name
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\\')
    {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        name.to_owned()
    }
}

/// Splits on whitespace outside double quotes, removing the quotes.
fn split_words(text: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let word = current.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        None => return Err("a double quote is not closed"),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(escaped @ ('"' | '\\')) => word.push(escaped),
                            _ => return Err("inside quotes, a backslash must precede \" or \\"),
                        },
                        Some(other) => word.push(other),
                    }
                }
            }
            c if c.is_whitespace() => words.extend(current.take()),
            c => current.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(current);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Requirement> {
        text.parse::<RequirementSet>().unwrap().0
    }

    fn identity(username: &str, groups: &[&str]) -> Identity {
        Identity {
            id: 1,
            username: username.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            is_staff: false,
            is_superuser: false,
            fresh_for: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn parses_the_vocabulary() {
        assert_eq!(parse("valid-user"), [Requirement::ValidUser]);
        assert_eq!(
            parse("  user:alice\tgroup:secret-agents "),
            [
                Requirement::User("alice".into()),
                Requirement::Group("secret-agents".into())
            ]
        );
    }

    #[test]
    fn quotes_allow_spaces_either_way() {
        let want = [Requirement::Group("secret agents".into())];
        assert_eq!(parse(r#"group:"secret agents""#), want);
        assert_eq!(parse(r#""group:secret agents""#), want);
        assert_eq!(
            parse(r#"group:"say \"hi\" \\ there""#),
            [Requirement::Group(r#"say "hi" \ there"#.into())]
        );
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "valid-user",
            "user:alice group:\"secret agents\"",
            r#"group:"a\"b""#,
            "perm:svn.commit_repo staff superuser",
        ] {
            let set: RequirementSet = text.parse().unwrap();
            assert_eq!(set.to_string().parse::<RequirementSet>().unwrap(), set);
        }
    }

    #[test]
    fn bad_texts_are_errors() {
        for bad in [
            "",
            "   ",
            "group:",
            "user:",
            "group:\"open",
            "perms",
            "group:\"a\\x\"",
            "Valid-User",
            "perm:commit_repo",
            "perm:.commit_repo",
            "perm:svn.",
            "Staff",
        ] {
            assert!(bad.parse::<RequirementSet>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn any_of_semantics_with_exact_case_sensitive_names() {
        let set: RequirementSet = "user:bob group:secret-agents".parse().unwrap();
        assert!(set.is_met_by(&identity("alice", &["secret-agents"]), &[]));
        assert!(set.is_met_by(&identity("bob", &[]), &[]));
        assert!(!set.is_met_by(&identity("alice", &["Secret-Agents"]), &[]));
        assert!(!set.is_met_by(&identity("Bob", &[]), &[]));
        assert!(!set.needs_permissions());
    }

    /// Case C22: dana (group perm), frank (user perm), root (superuser),
    /// gina (staff only); inactive hank never reaches this check.
    #[test]
    fn c22_staff_superuser_and_permissions() {
        let perm: RequirementSet = "perm:svn.commit_repo".parse().unwrap();
        let staff: RequirementSet = "staff".parse().unwrap();
        let superuser: RequirementSet = "superuser".parse().unwrap();
        assert!(perm.needs_permissions());
        let granted = vec!["svn.commit_repo".to_string()];
        let dana = identity("dana", &["devs"]);
        let frank = identity("frank", &[]);
        let root = Identity {
            is_staff: true,
            is_superuser: true,
            ..identity("root", &[])
        };
        let gina = Identity {
            is_staff: true,
            ..identity("gina", &[])
        };
        assert!(perm.is_met_by(&dana, &granted));
        assert!(perm.is_met_by(&frank, &granted));
        assert!(perm.is_met_by(&root, &[]));
        assert!(!perm.is_met_by(&gina, &[]));
        // Exact, case-sensitive comparison.
        assert!(!perm.is_met_by(&dana, &["svn.Commit_repo".to_string()]));
        assert!(!perm.is_met_by(&dana, &["svn.view_repo".to_string()]));
        assert!(staff.is_met_by(&gina, &[]) && staff.is_met_by(&root, &[]));
        assert!(!staff.is_met_by(&dana, &granted) && !staff.is_met_by(&frank, &granted));
        assert!(superuser.is_met_by(&root, &[]));
        assert!(!superuser.is_met_by(&gina, &[]) && !superuser.is_met_by(&dana, &granted));
    }
}
