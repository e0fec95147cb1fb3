//! The `WHERE` of a filtered list (the trace log, the audit log): each
//! condition is written with `?` for its values, which are numbered `$n`
//! in the order they are added and bound in that order, text or number.

/// One bound value.
pub(crate) enum Value {
    Text(String),
    Number(i64),
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Self {
        Value::Number(number)
    }
}

/// Conditions joined by `AND`, and their values.
#[derive(Default)]
pub(crate) struct Conditions {
    sql: String,
    values: Vec<Value>,
}

impl Conditions {
    /// Adds `condition` (`"subject = ?"`), its `?`s standing for `values`
    /// in order.
    pub(crate) fn add<const N: usize>(&mut self, condition: &str, values: [Value; N]) {
        let mut parts = condition.split('?');
        self.sql.push_str(" AND ");
        self.sql.push_str(parts.next().unwrap_or_default());
        for (value, rest) in values.into_iter().zip(parts) {
            self.values.push(value);
            self.sql.push_str(&format!("${}{rest}", self.values.len()));
        }
    }

    /// `WHERE 1 = 1 AND …`.
    pub(crate) fn sql(&self) -> String {
        format!(" WHERE 1 = 1{}", self.sql)
    }

    /// Binds the values to `query`, in their order.
    pub(crate) fn bind<'q>(self, mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for value in self.values {
            query = match value {
                Value::Text(text) => query.bind(text),
                Value::Number(number) => query.bind(number),
            };
        }
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_numbered_in_the_order_they_come() {
        let mut conditions = Conditions::default();
        conditions.add("actor LIKE ?", ["%a%".into()]);
        conditions.add("at <= ? AND (at < ? OR id < ?)", [5.into(), 5.into(), "aud_1".into()]);
        assert_eq!(conditions.sql(), " WHERE 1 = 1 AND actor LIKE $1 AND at <= $2 AND (at < $3 OR id < $4)");
        assert!(matches!(conditions.values.as_slice(), [Value::Text(_), Value::Number(5), Value::Number(5), Value::Text(_)]));
    }
}
