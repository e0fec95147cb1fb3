//! Rebuilds the crate when a migration is added or changed:
//! `sqlx::migrate!` embeds `migrations/` at compile time, and cargo does
//! not otherwise know that a new file there changes this crate.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
