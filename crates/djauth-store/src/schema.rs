/// Where Django keeps users and groups: table and column names.
///
/// The default is Django's `auth.User`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSchema {
    /// The user table.
    pub user_table: String,
    /// The USERNAME_FIELD column.
    pub username_column: String,
    /// The user-to-group many-to-many table.
    pub groups_table: String,
    /// Its column pointing at the user.
    pub groups_user_column: String,
}

impl Default for UserSchema {
    fn default() -> Self {
        UserSchema {
            user_table: "auth_user".into(),
            username_column: "username".into(),
            groups_table: "auth_user_groups".into(),
            groups_user_column: "user_id".into(),
        }
    }
}

impl UserSchema {
    /// `SELECT` for the user row by username.
    pub(crate) fn user_query(&self) -> String {
        format!(
            "SELECT id, {u} AS username, password, is_active, is_staff, is_superuser \
             FROM {t} WHERE {u} = ? LIMIT 21",
            u = quote(&self.username_column),
            t = quote(&self.user_table),
        )
    }

    /// `SELECT` for a user's group names.
    pub(crate) fn groups_query(&self) -> String {
        format!(
            "SELECT g.name FROM auth_group g JOIN {m} ug ON ug.group_id = g.id WHERE ug.{c} = ?",
            m = quote(&self.groups_table),
            c = quote(&self.groups_user_column),
        )
    }

    /// The tables that must exist.
    pub(crate) fn required_tables(&self) -> [&str; 3] {
        [&self.user_table, "auth_group", &self.groups_table]
    }
}

/// Quotes an SQL identifier (standard double quotes).
fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}
