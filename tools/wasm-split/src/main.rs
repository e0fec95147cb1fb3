//! Splits the studio's wasm at its lazy routes (Leptos `#[lazy_route]`).
//!
//! `scripts/common.sh` (`build_site`) runs this between cargo and
//! wasm-bindgen, the order cargo-leptos uses:
//!
//! 1. cargo links `comops_frontend.wasm` with relocations
//!    (`-C link-arg=--emit-relocs`), so code can be moved between modules;
//! 2. this tool writes the main module (for wasm-bindgen) and, into the
//!    site's `pkg` directory, one `.wasm` chunk per lazy function or shared
//!    code, the loader `__wasm_split.______________________.js`, and
//!    `__wasm_split_manifest.json` (which chunks each lazy function needs;
//!    Leptos's `HydrationScripts` reads it to preload a page's chunks);
//! 3. wasm-bindgen turns the main module into `comops.js` and
//!    `comops_bg.wasm`; wasm-opt then shrinks every `.wasm`.
//!
//! Usage: `comops-wasm-split <input.wasm> <pkg dir> <main output.wasm>`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The loader's name: the one Leptos's `HydrationScripts` preloads when the
/// site's files are not hashed.
const LINK_NAME: &str = "./__wasm_split.______________________.js";
/// The manifest's name, where `HydrationScripts` looks for it.
const MANIFEST: &str = "__wasm_split_manifest.json";
/// The wasm-bindgen module the loader takes `initSync` from (`--out-name comops`).
const MAIN_MODULE: &str = "./comops.js";

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, pkg_dir, main_out] = args.as_slice() else {
        eprintln!("usage: comops-wasm-split <input.wasm> <pkg dir> <main output.wasm>");
        return ExitCode::from(2);
    };
    match split(input, pkg_dir, main_out) {
        Ok(chunks) => {
            println!(
                "split {} into the main module and {chunks} chunks",
                input.display()
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("comops-wasm-split: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Splits `input`, writing the chunks, the loader and the manifest into
/// `pkg_dir` and the main module to `main_out`; returns the chunk count.
fn split(input: &Path, pkg_dir: &Path, main_out: &Path) -> Result<usize, String> {
    let wasm = std::fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = pkg_dir;
    options.main_out_path = main_out;
    options.main_module = MAIN_MODULE;
    options.link_name = LINK_NAME;
    let split = wasm_split_cli_support::transform(options).map_err(|e| format!("{e:?}"))?;
    let manifest = serde_json::to_string_pretty(&split.prefetch_map).map_err(|e| e.to_string())?;
    let manifest_path = pkg_dir.join(MANIFEST);
    std::fs::write(&manifest_path, manifest)
        .map_err(|e| format!("cannot write {}: {e}", manifest_path.display()))?;
    Ok(split.split_modules.len())
}
