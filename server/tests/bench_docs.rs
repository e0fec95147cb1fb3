//! The benches' writing of docs/benchmarks.md (`benches/support/doc_section.rs`):
//! a run replaces its own heading, paragraph and table, and keeps the
//! notes written below them.

#[path = "../benches/support/doc_section.rs"]
mod doc_section;

use doc_section::replace_generated;

const DOC: &str = "# Benchmarks\n\n## A\n\nHow A measures.\n\n| x |\n|---|\n| 1 |\n\nA note on run 1.\n\n### An A/B\n\n| y |\n|---|\n| 2 |\n\n## B\n\nB's.\n";

#[test]
fn a_bench_run_keeps_the_notes_after_its_table() {
    // A bench's section ends with its table and a blank line or two.
    let doc = replace_generated(DOC, "## A", "## A\n\nHow A measures now.\n\n| x |\n|---|\n| 3 |\n\n").expect("a section A");
    assert_eq!(doc, "# Benchmarks\n\n## A\n\nHow A measures now.\n\n| x |\n|---|\n| 3 |\n\nA note on run 1.\n\n### An A/B\n\n| y |\n|---|\n| 2 |\n\n## B\n\nB's.\n");
    assert_eq!(replace_generated(DOC, "## C", "## C\n"), None);
    // A section without a table was all the bench's.
    let last = replace_generated(DOC, "## B", "## B\n\nB's, again.\n").expect("a section B");
    assert!(last.ends_with("\n## B\n\nB's, again.\n"), "{last}");
}

#[test]
fn a_heading_is_found_only_as_a_whole_line() {
    let doc = "# Benchmarks\n\n## A, by wrk\n\nBy wrk.\n\n| w |\n|---|\n| 1 |\n\n## A\n\nOwn.\n\n| x |\n|---|\n| 1 |\n";
    let doc = replace_generated(doc, "## A", "## A\n\nOwn, again.\n\n| x |\n|---|\n| 2 |\n\n").expect("a section A");
    assert_eq!(doc, "# Benchmarks\n\n## A, by wrk\n\nBy wrk.\n\n| w |\n|---|\n| 1 |\n\n## A\n\nOwn, again.\n\n| x |\n|---|\n| 2 |\n");
    assert_eq!(replace_generated("## A, by wrk\n", "## A", "## A\n"), None);
}
