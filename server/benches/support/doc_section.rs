//! A bench's own part of a docs/benchmarks.md section: its heading, the
//! paragraph that says how it measures, and its table. What follows the
//! table — notes, earlier runs, A/B subsections written by hand — is kept.

/// `doc` with the part of the section at `heading` that a bench writes
/// (from the heading to the end of its first table) replaced by
/// `section`; None when `doc` has no such heading. The heading is a
/// whole line: `## A` is not the start of `## A, by wrk`.
pub fn replace_generated(doc: &str, heading: &str, section: &str) -> Option<String> {
    let start = doc.split_inclusive('\n').scan(0, |offset, line| {
        let at = *offset;
        *offset += line.len();
        Some((at, line))
    })
    .find(|(_, line)| line.trim_end_matches('\n') == heading)
    .map(|(at, _)| at)?;
    // The section's end: the next section of the same level, or the end.
    let after = start + heading.len();
    let section_end = doc[after..].find("\n## ").map_or(doc.len(), |i| after + i + 1);
    // Lines as (start, end) offsets within the section, each end past its newline.
    let mut offset = start;
    let mut lines = Vec::new();
    for line in doc[start..section_end].split_inclusive('\n') {
        lines.push((offset, offset + line.len(), line.starts_with('|')));
        offset += line.len();
    }
    let generated_end = match lines.iter().position(|(_, _, table)| *table) {
        Some(first) => lines[first..].iter().take_while(|(_, _, table)| *table).last().map_or(section_end, |(_, end, _)| *end),
        // No table: the whole section was the bench's.
        None => section_end,
    };
    // One newline after the section: the blank line before the notes is theirs.
    Some(format!("{}{}\n{}", &doc[..start], section.trim_end_matches('\n'), &doc[generated_end..]))
}
