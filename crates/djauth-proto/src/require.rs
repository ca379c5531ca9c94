//! The `Require django-…` lines of mod_djauth, turned into djauth's
//! requirement vocabulary (`group:"NAME"`, `perm:"APP.CODENAME"`, ...).
//! Checked once when Apache reads its configuration.

/// The authz providers mod_djauth registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequireKind {
    /// `Require django-group NAME…`
    Group,
    /// `Require django-perm APP_LABEL.CODENAME…`
    Perm,
    /// `Require django-user NAME…`
    User,
    /// `Require django-staff`
    Staff,
    /// `Require django-superuser`
    Superuser,
}

impl RequireKind {
    /// Every kind, for registration.
    pub const ALL: [RequireKind; 5] = [
        RequireKind::Group,
        RequireKind::Perm,
        RequireKind::User,
        RequireKind::Staff,
        RequireKind::Superuser,
    ];

    /// The provider name after `Require`.
    pub fn provider(self) -> &'static str {
        match self {
            RequireKind::Group => "django-group",
            RequireKind::Perm => "django-perm",
            RequireKind::User => "django-user",
            RequireKind::Staff => "django-staff",
            RequireKind::Superuser => "django-superuser",
        }
    }

    /// The requirement text for the (already unquoted) arguments, or a
    /// message for the configuration error.
    pub fn requirement(self, args: &[&[u8]]) -> Result<String, String> {
        let provider = self.provider();
        let prefix = match self {
            RequireKind::Staff | RequireKind::Superuser => {
                return if args.is_empty() {
                    Ok(if self == RequireKind::Staff {
                        "staff".into()
                    } else {
                        "superuser".into()
                    })
                } else {
                    Err(format!("Require {provider} takes no arguments"))
                };
            }
            RequireKind::Group => "group",
            RequireKind::Perm => "perm",
            RequireKind::User => "user",
        };
        if args.is_empty() {
            return Err(format!("Require {provider} needs at least one name"));
        }
        let mut words = Vec::new();
        for arg in args {
            let name = std::str::from_utf8(arg)
                .map_err(|_| format!("Require {provider}: argument is not UTF-8"))?;
            if name.is_empty() || name.chars().any(char::is_control) {
                return Err(format!(
                    "Require {provider}: empty name or control characters in {name:?}"
                ));
            }
            if self == RequireKind::Perm {
                match name.split_once('.') {
                    Some((app, code)) if !app.is_empty() && !code.is_empty() => {}
                    _ => {
                        return Err(format!(
                            "Require {provider} {name:?}: write permissions as app_label.codename, e.g. auth.view_user"
                        ));
                    }
                }
            }
            words.push(format!("{prefix}:{}", quote(name)));
        }
        Ok(words.join(" "))
    }
}

/// A name in double quotes, with `"` and `\` escaped.
fn quote(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for ch in name.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
    out
}
