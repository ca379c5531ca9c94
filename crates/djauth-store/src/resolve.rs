//! Start-up: turn the configured user model into tables and columns that exist.

use crate::pool::Pool;
use crate::schema::{Choice, Dialect, M2m, M2mConfig, Schema, SchemaConfig};
use crate::{DatabaseUrl, StoreError};

/// Checks the database against the configuration and fills in detected names.
pub(crate) async fn resolve(
    pool: &Pool,
    dialect: Dialect,
    config: &SchemaConfig,
    url: &DatabaseUrl,
) -> Result<Schema, StoreError> {
    pool.clone()
        .probe("SELECT 1")
        .await
        .map_err(|e| StoreError::Open {
            database: url.to_string(),
            reason: e.to_string(),
        })?;
    let probe = Probe { pool, dialect };
    let not_django = |problem: String| StoreError::NotDjango {
        database: url.to_string(),
        problem,
    };
    let (_, model) = config.model_parts().ok_or_else(|| {
        not_django(format!(
            "user_model {:?} is not of the form app_label.ModelName",
            config.user_model
        ))
    })?;
    let user_table = match &config.user_table {
        Some(table) => table.clone(),
        None => dialect.truncate_name(&config.default_user_table().unwrap_or_default()),
    };
    if !probe.table(&user_table).await {
        let hint = if config.user_table.is_some() {
            "check user_table".to_owned()
        } else {
            format!(
                "derived from user_model {:?}; has `manage.py migrate` run, or does the model set Meta.db_table (then set user_table)?",
                config.user_model
            )
        };
        return Err(not_django(format!(
            "table {user_table} is missing ({hint})"
        )));
    }
    for (column, key) in [
        (&config.id_column, "id_field"),
        (&config.username_column, "username_field"),
        (&"password".to_owned(), "user_table"),
    ] {
        if !probe.columns(&user_table, &[column]).await {
            return Err(not_django(format!(
                "table {user_table} has no column {column} (set {key})"
            )));
        }
    }
    let mut flags = Vec::new();
    for (choice, default, key) in [
        (&config.is_active, "is_active", "is_active_field"),
        (&config.is_staff, "is_staff", "is_staff_field"),
        (&config.is_superuser, "is_superuser", "is_superuser_field"),
    ] {
        let column = match choice {
            Choice::Absent => None,
            Choice::Detect => probe
                .columns(&user_table, &[default])
                .await
                .then(|| default.to_owned()),
            Choice::Named(column) => {
                if !probe.columns(&user_table, &[column]).await {
                    return Err(not_django(format!(
                        "table {user_table} has no column {column} (set {key}, or \"none\")"
                    )));
                }
                Some(column.clone())
            }
        };
        if column.is_none() && default == "is_active" {
            tracing::info!(
                database = %url,
                table = %user_table,
                "the user model has no is_active column: every user counts as active (Django's AbstractBaseUser); set is_active_field if it is named differently"
            );
        }
        flags.push(column);
    }
    let groups = relation(
        &probe,
        &config.groups,
        &user_table,
        "groups",
        (&format!("{model}_id"), "group_id"),
        ["groups_table", "groups_user_column", "groups_group_column"],
    )
    .await
    .map_err(not_django)?;
    let user_permissions = relation(
        &probe,
        &config.user_permissions,
        &user_table,
        "user_permissions",
        (&format!("{model}_id"), "permission_id"),
        [
            "user_permissions_table",
            "user_permissions_user_column",
            "user_permissions_permission_column",
        ],
    )
    .await
    .map_err(not_django)?;
    let mut needed = Vec::new();
    if groups.is_some() {
        needed.push("auth_group");
    }
    if groups.is_some() || user_permissions.is_some() {
        needed.extend([
            "auth_permission",
            "django_content_type",
            "auth_group_permissions",
        ]);
    }
    for table in needed {
        if !probe.table(table).await {
            return Err(not_django(format!(
                "table {table} is missing (are django.contrib.auth and contenttypes migrated?)"
            )));
        }
    }
    let [is_active, is_staff, is_superuser]: [Option<String>; 3] =
        flags.try_into().unwrap_or_default();
    Ok(Schema {
        user_table,
        id_column: config.id_column.clone(),
        username_column: config.username_column.clone(),
        is_active,
        is_staff,
        is_superuser,
        groups,
        user_permissions,
        username_match: config.username_match,
    })
}

/// Resolves one many-to-many relation of the user model.
async fn relation(
    probe: &Probe<'_>,
    config: &M2mConfig,
    user_table: &str,
    field: &str,
    (default_user_column, default_other_column): (&str, &str),
    [key, user_key, other_key]: [&str; 3],
) -> Result<Option<M2m>, String> {
    let user_column = config
        .user_column
        .clone()
        .unwrap_or_else(|| default_user_column.to_owned());
    let other_column = config
        .other_column
        .clone()
        .unwrap_or_else(|| default_other_column.to_owned());
    let (table, required) = match &config.table {
        Choice::Absent => return Ok(None),
        Choice::Named(table) => (table.clone(), true),
        Choice::Detect => (
            probe
                .dialect
                .truncate_name(&format!("{user_table}_{field}")),
            config.user_column.is_some() || config.other_column.is_some(),
        ),
    };
    if probe.columns(&table, &[&user_column, &other_column]).await {
        return Ok(Some(M2m {
            table,
            user_column,
            other_column,
        }));
    }
    if required {
        return Err(format!(
            "the {field} relation is not {table}({user_column}, {other_column}): set {key}, {user_key} and {other_key}, or {key} = \"none\""
        ));
    }
    if probe.table(&table).await {
        return Err(format!(
            "table {table} exists but has no columns {user_column}, {other_column}: set {user_key} and {other_key}"
        ));
    }
    Ok(None)
}

/// Existence checks by running queries that return no rows.
struct Probe<'a> {
    pool: &'a Pool,
    dialect: Dialect,
}

impl Probe<'_> {
    async fn table(&self, table: &str) -> bool {
        self.select("1", table).await
    }

    async fn columns(&self, table: &str, columns: &[&str]) -> bool {
        let list: Vec<String> = columns.iter().map(|c| self.dialect.quote(c)).collect();
        self.select(&list.join(", "), table).await
    }

    async fn select(&self, what: &str, table: &str) -> bool {
        let sql = format!(
            "SELECT {what} FROM {} WHERE 1 = 0",
            self.dialect.quote(table)
        );
        self.pool.clone().probe(&sql).await.is_ok()
    }
}
