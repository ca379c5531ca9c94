//! Where a Django user model keeps its data: table and column names.
//!
//! Names follow Django's rules for a model named in `AUTH_USER_MODEL`
//! (`app_label.ModelName`): table `app_label_modelname`, many-to-many tables
//! `<table>_groups` and `<table>_user_permissions` with columns
//! `<modelname>_id` and `group_id` / `permission_id`. Every name can be
//! overridden; optional columns (`is_active`, `is_staff`, `is_superuser`)
//! and relations (`groups`, `user_permissions`) are detected when not named.

use md5::{Digest, Md5};

use crate::url::Backend;

/// A column or relation the configuration may name, leave to detection, or turn off.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Choice {
    /// Use Django's default name if the database has it, else none.
    #[default]
    Detect,
    /// Use this name; start-up fails if it is missing.
    Named(String),
    /// The model has no such field.
    Absent,
}

impl Choice {
    /// `"none"` means [`Choice::Absent`]; any other text names the column or table.
    pub fn from_setting(value: &str) -> Choice {
        if value == "none" {
            Choice::Absent
        } else {
            Choice::Named(value.to_owned())
        }
    }
}

/// How the incoming username is matched against the USERNAME_FIELD column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UsernameMatch {
    /// Byte-for-byte equal to the stored name (checked in Rust after the query).
    #[default]
    Exact,
    /// Equal ignoring case (Unicode lower-case in Rust; the SQL uses `LOWER`);
    /// more than one matching row is a denial.
    Iexact,
}

/// A many-to-many table as configured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct M2mConfig {
    /// The table (detected from the model when not given), or none.
    pub table: Choice,
    /// Its column pointing at the user (default `<modelname>_id`).
    pub user_column: Option<String>,
    /// Its column pointing at the group or permission.
    pub other_column: Option<String>,
}

/// The user model as the configuration describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaConfig {
    /// `AUTH_USER_MODEL`, e.g. `auth.User` or `accounts.EmailUser`.
    pub user_model: String,
    /// The model's table, when `Meta.db_table` changed it.
    pub user_table: Option<String>,
    /// The primary-key column.
    pub id_column: String,
    /// The USERNAME_FIELD column.
    pub username_column: String,
    /// `is_active`.
    pub is_active: Choice,
    /// `is_staff`.
    pub is_staff: Choice,
    /// `is_superuser`.
    pub is_superuser: Choice,
    /// The `groups` relation.
    pub groups: M2mConfig,
    /// The `user_permissions` relation.
    pub user_permissions: M2mConfig,
    /// Exact or case-insensitive username lookup.
    pub username_match: UsernameMatch,
}

impl Default for SchemaConfig {
    fn default() -> Self {
        SchemaConfig {
            user_model: "auth.User".into(),
            user_table: None,
            id_column: "id".into(),
            username_column: "username".into(),
            is_active: Choice::Detect,
            is_staff: Choice::Detect,
            is_superuser: Choice::Detect,
            groups: M2mConfig::default(),
            user_permissions: M2mConfig::default(),
            username_match: UsernameMatch::Exact,
        }
    }
}

/// A many-to-many table as found in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct M2m {
    /// The table.
    pub table: String,
    /// Column pointing at the user.
    pub user_column: String,
    /// Column pointing at the group or permission.
    pub other_column: String,
}

/// The user model as found in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// The user table.
    pub user_table: String,
    /// Primary key column.
    pub id_column: String,
    /// USERNAME_FIELD column.
    pub username_column: String,
    /// `is_active` column; none means every user is active (`AbstractBaseUser`).
    pub is_active: Option<String>,
    /// `is_staff` column; none means nobody is staff.
    pub is_staff: Option<String>,
    /// `is_superuser` column; none means nobody is superuser.
    pub is_superuser: Option<String>,
    /// User-to-group table; none means no groups.
    pub groups: Option<M2m>,
    /// User-to-permission table; none means only group permissions.
    pub user_permissions: Option<M2m>,
    /// Exact or case-insensitive lookup.
    pub username_match: UsernameMatch,
}

impl SchemaConfig {
    /// `(app_label, model name lower-cased)` of `user_model`.
    pub fn model_parts(&self) -> Option<(String, String)> {
        let (app, model) = self.user_model.split_once('.')?;
        if app.is_empty() || model.is_empty() || model.contains('.') {
            return None;
        }
        Some((app.to_owned(), model.to_ascii_lowercase()))
    }

    /// The user table Django would name for the model (before truncation).
    pub fn default_user_table(&self) -> Option<String> {
        let (app, model) = self.model_parts()?;
        Some(format!("{app}_{model}"))
    }
}

impl Schema {
    /// One line per mapping, for `djauth check-user` and start-up logs.
    pub fn describe(&self) -> String {
        let optional = |c: &Option<String>, absent: &str| {
            c.as_deref()
                .map_or(format!("none ({absent})"), str::to_owned)
        };
        let m2m = |m: &Option<M2m>| {
            m.as_ref().map_or("none".to_owned(), |m| {
                format!("{}({}, {})", m.table, m.user_column, m.other_column)
            })
        };
        format!(
            "table {} (id {}, username {}, match {}), is_active {}, is_staff {}, is_superuser {}, groups {}, user_permissions {}",
            self.user_table,
            self.id_column,
            self.username_column,
            match self.username_match {
                UsernameMatch::Exact => "exact",
                UsernameMatch::Iexact => "iexact",
            },
            optional(&self.is_active, "everyone active"),
            optional(&self.is_staff, "nobody staff"),
            optional(&self.is_superuser, "nobody superuser"),
            m2m(&self.groups),
            m2m(&self.user_permissions),
        )
    }
}

/// SQL spelling differences between the three backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dialect(pub(crate) Backend);

impl Dialect {
    /// Quotes an identifier.
    pub(crate) fn quote(self, identifier: &str) -> String {
        match self.0 {
            // Backticks on SQLite too: a double-quoted name that is not a
            // column silently becomes a string literal there.
            Backend::MySql | Backend::Sqlite => format!("`{}`", identifier.replace('`', "``")),
            Backend::Postgres => format!("\"{}\"", identifier.replace('"', "\"\"")),
        }
    }

    /// The n-th (1-based) bind parameter.
    pub(crate) fn param(self, n: usize) -> String {
        match self.0 {
            Backend::Postgres => format!("${n}"),
            Backend::Sqlite | Backend::MySql => "?".into(),
        }
    }

    /// An expression converting an integer column to a 64-bit integer.
    pub(crate) fn as_i64(self, expression: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("CAST({expression} AS INTEGER)"),
            Backend::Postgres => format!("CAST({expression} AS BIGINT)"),
            Backend::MySql => format!("CAST({expression} AS SIGNED)"),
        }
    }

    /// Django's `max_name_length()` for the backend.
    fn max_name_length(self) -> Option<usize> {
        match self.0 {
            Backend::Sqlite => None,
            Backend::Postgres => Some(63),
            Backend::MySql => Some(64),
        }
    }

    /// Django's `truncate_name`: long names keep `limit - 4` characters plus
    /// the first 4 hex digits of their MD5.
    pub(crate) fn truncate_name(self, name: &str) -> String {
        match self.max_name_length() {
            Some(limit) if name.len() > limit => {
                let digest = Md5::digest(name.as_bytes());
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                format!("{}{}", &name[..limit - 4], &hex[..4])
            }
            _ => name.to_owned(),
        }
    }
}

/// The SQL djauth sends, built once per site.
#[derive(Debug, Clone)]
pub(crate) struct Queries {
    /// User rows by username: id, username, password, then the present flags.
    pub(crate) user: String,
    /// Group names of a user.
    pub(crate) groups: Option<String>,
    /// `(app_label, codename)` of a user's permissions, direct and through groups.
    pub(crate) permissions: Option<String>,
}

impl Queries {
    /// Builds the queries for `schema` in `dialect`.
    pub(crate) fn new(schema: &Schema, dialect: Dialect) -> Queries {
        let q = |name: &str| dialect.quote(name);
        let mut columns = vec![
            dialect.as_i64(&q(&schema.id_column)),
            q(&schema.username_column),
            q("password"),
        ];
        for flag in [&schema.is_active, &schema.is_staff, &schema.is_superuser]
            .into_iter()
            .flatten()
        {
            columns.push(q(flag));
        }
        let username = q(&schema.username_column);
        let condition = match schema.username_match {
            UsernameMatch::Exact => format!("{username} = {}", dialect.param(1)),
            UsernameMatch::Iexact => {
                format!("LOWER({username}) = LOWER({})", dialect.param(1))
            }
        };
        let user = format!(
            "SELECT {} FROM {} WHERE {condition} LIMIT 21",
            columns.join(", "),
            q(&schema.user_table)
        );
        let groups = schema.groups.as_ref().map(|m| {
            format!(
                "SELECT g.{name} FROM {group} g JOIN {m2m} ug ON ug.{other} = g.{id} WHERE ug.{user} = {p}",
                name = q("name"),
                group = q("auth_group"),
                m2m = q(&m.table),
                other = q(&m.other_column),
                id = q("id"),
                user = q(&m.user_column),
                p = dialect.param(1),
            )
        });
        let mut sources = Vec::new();
        if let Some(m) = &schema.user_permissions {
            sources.push(format!(
                "SELECT up.{other} FROM {m2m} up WHERE up.{user} = {p}",
                other = q(&m.other_column),
                m2m = q(&m.table),
                user = q(&m.user_column),
                p = dialect.param(sources.len() + 1),
            ));
        }
        if let Some(m) = &schema.groups {
            sources.push(format!(
                "SELECT gp.{perm} FROM {gp} gp JOIN {m2m} ug ON ug.{other} = gp.{group} WHERE ug.{user} = {p}",
                perm = q("permission_id"),
                gp = q("auth_group_permissions"),
                m2m = q(&m.table),
                other = q(&m.other_column),
                group = q("group_id"),
                user = q(&m.user_column),
                p = dialect.param(sources.len() + 1),
            ));
        }
        let permissions = (!sources.is_empty()).then(|| {
            format!(
                "SELECT ct.{app}, p.{code} FROM {perm} p JOIN {ct} ct ON ct.{id} = p.{ctid} WHERE p.{id} IN ({sources})",
                app = q("app_label"),
                code = q("codename"),
                perm = q("auth_permission"),
                ct = q("django_content_type"),
                id = q("id"),
                ctid = q("content_type_id"),
                sources = sources.join(" UNION "),
            )
        });
        Queries {
            user,
            groups,
            permissions,
        }
    }

    /// How many times the user id is bound in the permissions query.
    pub(crate) fn permission_binds(schema: &Schema) -> usize {
        usize::from(schema.user_permissions.is_some()) + usize::from(schema.groups.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth_user() -> Schema {
        Schema {
            user_table: "auth_user".into(),
            id_column: "id".into(),
            username_column: "username".into(),
            is_active: Some("is_active".into()),
            is_staff: None,
            is_superuser: Some("is_superuser".into()),
            groups: Some(M2m {
                table: "auth_user_groups".into(),
                user_column: "user_id".into(),
                other_column: "group_id".into(),
            }),
            user_permissions: None,
            username_match: UsernameMatch::Exact,
        }
    }

    #[test]
    fn default_names_follow_django() {
        let config = SchemaConfig::default();
        assert_eq!(config.default_user_table().unwrap(), "auth_user");
        let custom = SchemaConfig {
            user_model: "accounts.EmailUser".into(),
            ..SchemaConfig::default()
        };
        assert_eq!(custom.model_parts().unwrap().1, "emailuser");
        assert_eq!(custom.default_user_table().unwrap(), "accounts_emailuser");
        for bad in ["User", "accounts.", ".User", "a.b.C"] {
            let c = SchemaConfig {
                user_model: bad.into(),
                ..SchemaConfig::default()
            };
            assert!(c.model_parts().is_none(), "{bad}");
        }
    }

    #[test]
    fn long_names_are_truncated_like_django() {
        let name = "a".repeat(70);
        assert_eq!(Dialect(Backend::Sqlite).truncate_name(&name), name);
        let pg = Dialect(Backend::Postgres).truncate_name(&name);
        assert_eq!(pg.len(), 63);
        assert!(pg.starts_with(&"a".repeat(59)));
        // md5("a" * 70) starts with these four hex digits.
        let digest = Md5::digest(name.as_bytes());
        assert_eq!(&pg[59..], &format!("{:02x}{:02x}", digest[0], digest[1]));
        assert_eq!(Dialect(Backend::MySql).truncate_name(&name).len(), 64);
    }

    #[test]
    fn queries_use_each_dialect() {
        let schema = auth_user();
        let pg = Queries::new(&schema, Dialect(Backend::Postgres));
        assert_eq!(
            pg.user,
            "SELECT CAST(\"id\" AS BIGINT), \"username\", \"password\", \"is_active\", \"is_superuser\" FROM \"auth_user\" WHERE \"username\" = $1 LIMIT 21"
        );
        let my = Queries::new(&schema, Dialect(Backend::MySql));
        assert!(my.user.contains("`username` = ?"), "{}", my.user);
        assert!(my.user.starts_with("SELECT CAST(`id` AS SIGNED)"));
        let perms = pg.permissions.unwrap();
        assert!(perms.contains("\"auth_group_permissions\""));
        assert!(perms.contains("$1"));
        assert_eq!(Queries::permission_binds(&schema), 1);

        let mut both = auth_user();
        both.user_permissions = Some(M2m {
            table: "auth_user_user_permissions".into(),
            user_column: "user_id".into(),
            other_column: "permission_id".into(),
        });
        let pg = Queries::new(&both, Dialect(Backend::Postgres));
        let perms = pg.permissions.unwrap();
        assert!(perms.contains("$1") && perms.contains("$2"), "{perms}");
        assert_eq!(Queries::permission_binds(&both), 2);

        let mut none = auth_user();
        none.groups = None;
        none.username_match = UsernameMatch::Iexact;
        let sqlite = Queries::new(&none, Dialect(Backend::Sqlite));
        assert!(sqlite.groups.is_none() && sqlite.permissions.is_none());
        assert!(sqlite.user.contains("LOWER(`username`) = LOWER(?)"));
    }

    #[test]
    fn identifiers_are_quoted_safely() {
        assert_eq!(Dialect(Backend::Postgres).quote("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(Dialect(Backend::MySql).quote("we`ird"), "`we``ird`");
    }
}
