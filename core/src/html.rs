//! Text into HTML: the one escaper of the server's hand-written pages
//! (the endpoint docs, the web chat's page) and of the studio's text boxes
//! as the server renders them.

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape(r#"<script>alert("x's")</script> & co"#), "&lt;script&gt;alert(&quot;x&#39;s&quot;)&lt;/script&gt; &amp; co");
        assert_eq!(escape("Спасибо за покупку!"), "Спасибо за покупку!");
    }
}
