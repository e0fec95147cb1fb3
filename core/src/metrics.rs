//! Metrics in the Prometheus text exposition format (`/metrics`).
//!
//! The store counts (per bot, from the tables the engine already keeps);
//! this module only turns [`Family`]s into text, escaping label values as
//! the format requires, and derives the rates of SPEC §8 that follow from
//! counters alone.

use std::fmt::Write;

/// One sample: label pairs and a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

/// A metric with its help text, type and samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    /// `counter` or `gauge`.
    pub kind: &'static str,
    pub samples: Vec<Sample>,
}

impl Family {
    pub fn counter(name: &'static str, help: &'static str) -> Self {
        Family { name, help, kind: "counter", samples: Vec::new() }
    }

    pub fn gauge(name: &'static str, help: &'static str) -> Self {
        Family { name, help, kind: "gauge", samples: Vec::new() }
    }

    pub fn push(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        self.samples.push(Sample { labels, value });
    }
}

/// The text format, version 0.0.4.
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for family in families {
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind);
        for sample in &family.samples {
            out.push_str(family.name);
            if !sample.labels.is_empty() {
                out.push('{');
                for (i, (name, value)) in sample.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{name}=\"{}\"", escape(value));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", number(sample.value));
        }
    }
    out
}

/// A ratio, or nothing when there is nothing to divide by (a rate of an
/// empty period is unknown, not zero).
pub fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole)
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_help_type_labels_and_escapes() {
        let mut events = Family::counter("comops_events_total", "Business events accepted.");
        events.push(vec![("bot", "bot_shop".into())], 12.0);
        events.push(vec![("bot", "a\"b\\c\nd".into())], 1.0);
        let mut rate = Family::gauge("comops_delivery_rate", "Delivered / attempted messages.");
        rate.push(vec![("bot", "bot_shop".into()), ("channel", "telegram".into())], 0.75);
        let text = render(&[events, rate]);
        assert_eq!(
            text,
            "# HELP comops_events_total Business events accepted.\n# TYPE comops_events_total counter\n\
             comops_events_total{bot=\"bot_shop\"} 12\ncomops_events_total{bot=\"a\\\"b\\\\c\\nd\"} 1\n\
             # HELP comops_delivery_rate Delivered / attempted messages.\n# TYPE comops_delivery_rate gauge\n\
             comops_delivery_rate{bot=\"bot_shop\",channel=\"telegram\"} 0.75\n"
        );
    }

    #[test]
    fn an_empty_period_has_no_rate() {
        assert_eq!(ratio(3.0, 4.0), Some(0.75));
        assert_eq!(ratio(0.0, 0.0), None);
    }
}
