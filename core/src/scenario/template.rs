//! Templates and expressions of scenarios, rendered by minijinja in a
//! sandbox (backend only).
//!
//! One shared [`Environment`] with no loader (so `include`/`extends`/`import`
//! cannot reach any file), a fuel limit (so `{% for %}` over `range(…)`
//! cannot spin), the default recursion limit, and without the `debug()`
//! global (it would print the whole context, secrets included).
//!
//! The context a template sees is [`Context`]:
//! `{ params, vars, lead: {id, attributes, tags, status}, attributes, secrets }`.
//! Undefined leaves and nulls render as empty text (`{{ vars.missing }}` → ``), but
//! looking into something undefined (`{{ vars.missing.name }}`) is an error:
//! the lenient default of minijinja. Escaping per channel parse mode comes
//! with the channel adapters; here text is rendered as is.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// Instructions one render or evaluation may execute.
pub const FUEL: u64 = 50_000;

/// The roots a template may use. Anything else is a typo (`{{ name }}`
/// instead of `{{ params.name }}`) and validation says so.
pub const ROOTS: [&str; 5] = ["params", "vars", "lead", "attributes", "secrets"];

/// minijinja's global functions, allowed as roots too.
const GLOBALS: [&str; 3] = ["range", "dict", "namespace"];

/// What templates and expressions see.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Context {
    /// The payload of the business call that started the run.
    pub params: Value,
    /// Values the run collected: ask replies, http results, `set` vars.
    pub vars: Map<String, Value>,
    pub lead: LeadView,
    /// The lead's attributes (the same map as `lead.attributes`).
    pub attributes: Map<String, Value>,
    /// Project secrets by name; only header/url/body templates should use them.
    pub secrets: BTreeMap<String, String>,
}

/// The lead as templates see it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LeadView {
    pub id: String,
    pub attributes: Map<String, Value>,
    pub tags: BTreeSet<String>,
    pub status: Option<String>,
}

/// A template or expression that does not parse, or fails while rendering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("{message}")]
    Syntax { message: String, line: Option<usize> },
    #[error("{message}")]
    Render { message: String },
}

impl TemplateError {
    fn syntax(err: minijinja::Error) -> Self {
        TemplateError::Syntax { message: describe(&err), line: err.line() }
    }

    fn render(err: minijinja::Error) -> Self {
        TemplateError::Render { message: describe(&err) }
    }
}

fn describe(err: &minijinja::Error) -> String {
    let mut message = match err.detail() {
        Some(detail) => format!("{}: {}", err.kind(), detail),
        None => err.kind().to_string(),
    };
    if let Some(line) = err.line() {
        message.push_str(&format!(" (line {line})"));
    }
    message
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_fuel(Some(FUEL));
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
        // A null (`"note": null` in a call) is printed as nothing, like an
        // absent value, not as Python's `none`.
        env.set_formatter(|out, state, value| if value.is_none() { Ok(()) } else { minijinja::escape_formatter(out, state, value) });
        env.remove_global("debug");
        env
    })
}

/// Template delimiters: never part of an expression.
const DELIMITERS: [&str; 6] = ["{{", "}}", "{%", "%}", "{#", "#}"];

/// Compiles an expression. minijinja 2.24's lexer panics on some inputs in
/// expression mode (`}}{{`, found by tests/hostile_input.rs); delimiters
/// never belong in an expression, so they are refused before it sees them,
/// and any other panic of the parser becomes a syntax error.
fn compile_expression<'a>(expression: &'a str) -> Result<minijinja::Expression<'a, 'a>, TemplateError> {
    if let Some(delimiter) = DELIMITERS.iter().find(|d| expression.contains(**d)) {
        return Err(TemplateError::Syntax {
            message: format!("an expression is written without {delimiter}: `vars.rating >= 4`, not `{{{{ vars.rating }}}} >= 4`"),
            line: None,
        });
    }
    guarded(|| env().compile_expression(expression).map_err(TemplateError::syntax))
}

/// Runs a parse of user input, turning a panic inside the engine into a
/// syntax error instead of a failed request or a crashed run.
fn guarded<T>(parse: impl FnOnce() -> Result<T, TemplateError>) -> Result<T, TemplateError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse))
        .unwrap_or_else(|_| Err(TemplateError::Syntax { message: "the template engine could not parse this".into(), line: None }))
}

/// Render a template: `Добро пожаловать, {{ params.name }}!`.
pub fn render(template: &str, ctx: &Context) -> Result<String, TemplateError> {
    let compiled = guarded(|| env().template_from_str(template).map_err(TemplateError::syntax))?;
    compiled.render(ctx).map_err(TemplateError::render)
}

/// Evaluate an expression (`vars.rating >= 4`) to a JSON value.
pub fn eval(expression: &str, ctx: &Context) -> Result<Value, TemplateError> {
    let compiled = compile_expression(expression)?;
    let value = compiled.eval(ctx).map_err(TemplateError::render)?;
    if value.is_undefined() {
        return Ok(Value::Null);
    }
    serde_json::to_value(&value).map_err(|e| TemplateError::Render { message: e.to_string() })
}

/// Evaluate an expression for its truth (Jinja rules: `0`, `""`, empty
/// lists, `none` and undefined are false).
pub fn eval_bool(expression: &str, ctx: &Context) -> Result<bool, TemplateError> {
    let compiled = compile_expression(expression)?;
    compiled.eval(ctx).map(|v| v.is_true()).map_err(TemplateError::render)
}

/// Parse a template and return the variables it reads, as dotted paths
/// (`vars.crm.json.name`); variables it assigns itself are not included.
pub fn check_template(template: &str) -> Result<BTreeSet<String>, TemplateError> {
    let compiled = guarded(|| env().template_from_str(template).map_err(TemplateError::syntax))?;
    Ok(compiled.undeclared_variables(true).into_iter().collect())
}

/// Parse an expression and return the variables it reads.
pub fn check_expression(expression: &str) -> Result<BTreeSet<String>, TemplateError> {
    let compiled = compile_expression(expression)?;
    Ok(compiled.undeclared_variables(true).into_iter().collect())
}

/// Whether a root name (`params`, `range`) may be used in a template.
pub fn is_known_root(root: &str) -> bool {
    ROOTS.contains(&root) || GLOBALS.contains(&root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context {
        let mut ctx = Context { params: json!({"name": "Анна", "userId": "u-1"}), ..Context::default() };
        ctx.vars.insert("rating".into(), json!(4));
        ctx.secrets.insert("crm_url".into(), "https://crm.example".into());
        ctx
    }

    #[test]
    fn renders_the_welcome_text() {
        let text = render("Добро пожаловать, {{ params.name }}! Ваш личный кабинет активирован.", &ctx()).unwrap();
        assert_eq!(text, "Добро пожаловать, Анна! Ваш личный кабинет активирован.");
        assert_eq!(render("{{ secrets.crm_url }}/api/user/confirm", &ctx()).unwrap(), "https://crm.example/api/user/confirm");
        assert_eq!(render("[{{ vars.missing }}]", &ctx()).unwrap(), "[]");
        let mut with_null = ctx();
        with_null.params["note"] = serde_json::Value::Null;
        assert_eq!(render("[{{ params.note }}]", &with_null).unwrap(), "[]", "null prints as nothing");
        assert_eq!(render("{% if params.note is none %}no note{% endif %}", &with_null).unwrap(), "no note");
    }

    #[test]
    fn evaluates_expressions() {
        assert!(eval_bool("vars.rating >= 4", &ctx()).unwrap());
        assert!(!eval_bool("vars.rating >= 5", &ctx()).unwrap());
        assert!(!eval_bool("vars.nothing", &ctx()).unwrap());
        assert_eq!(eval("params.name ~ '!'", &ctx()).unwrap(), json!("Анна!"));
        assert_eq!(eval("vars.nothing", &ctx()).unwrap(), Value::Null);
    }

    #[test]
    fn syntax_errors_and_sandbox() {
        assert!(matches!(render("{{ params.name ", &ctx()), Err(TemplateError::Syntax { .. })));
        assert!(matches!(eval("vars.rating >=", &ctx()), Err(TemplateError::Syntax { .. })));
        // No loader: nothing to include.
        assert!(render("{% include 'secrets.txt' %}", &ctx()).is_err());
        // No debug(): it would print the secrets.
        assert!(render("{{ debug() }}", &ctx()).is_err());
        // Fuel stops runaway loops.
        let err = render("{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}", &ctx());
        assert!(matches!(err, Err(TemplateError::Render { .. })), "{err:?}");
    }

    #[test]
    fn reports_variables_read() {
        let vars = check_template("{% set x = 1 %}{{ x }} {{ vars.crm.json.name }} {{ params.name }}").unwrap();
        assert!(vars.contains("vars.crm.json.name"), "{vars:?}");
        assert!(vars.contains("params.name"));
        assert!(!vars.iter().any(|v| v == "x"));
        let vars = check_expression("vars.rating >= 4 and lead.status == 'new'").unwrap();
        assert!(vars.contains("vars.rating") && vars.contains("lead.status"), "{vars:?}");
    }

    #[test]
    fn delimiters_in_an_expression_are_a_syntax_error_not_a_panic() {
        // minijinja 2.24 panics on this one ("empty lexer stack").
        for expression in ["}}{{", "{{ vars.rating }} >= 4", "vars.a %} {%"] {
            let err = check_expression(expression).unwrap_err();
            assert!(matches!(err, TemplateError::Syntax { .. }), "{expression}: {err:?}");
            assert!(eval_bool(expression, &Context::default()).is_err());
        }
    }
}
