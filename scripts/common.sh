# Shared by scripts/start and scripts/test: find or install what the build
# needs, then build the studio bundle. Source it; it sets CARGO_TARGET_DIR.
# Nothing is downloaded from GitHub: Rust tools come from crates.io, CSS and
# Playwright from npm, Chromium from Debian.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The cargo target dir lives outside the clone so fresh clones (and CI)
# reuse compiled dependencies.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/comops-target}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
SITE_ROOT="$ROOT/target/site"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

ensure_rust_tools() {
  command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup first (https://rustup.rs)" >&2; exit 1; }
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  # wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
  local want have
  want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)"
  have="$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)"
  if [ "$want" != "$have" ]; then
    say "installing wasm-bindgen-cli $want (have: ${have:-none}); takes a few minutes once"
    cargo install wasm-bindgen-cli --version "$want"
  fi
}

ensure_node_modules() {
  command -v npm >/dev/null || { say "installing Node.js and npm from Debian"; as_root apt-get update -qq; as_root apt-get install -y -qq nodejs npm; }
  if [ ! -x node_modules/.bin/tailwindcss ] || [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages (Tailwind CSS, binaryen, Playwright)"
    npm ci --no-audit --no-fund
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Chromium from Debian (browser tests only)"
    as_root apt-get update -qq
    as_root apt-get install -y -qq chromium
  fi
}

# Builds the studio's browser bundle into target/site/pkg: the hydrate
# crate to wasm, split at its lazy routes into a main module and chunks
# (tools/wasm-split), wasm-bindgen's JS glue for the main module, wasm-opt
# on every module, and Tailwind's CSS. The order (cargo with relocations →
# split → wasm-bindgen → wasm-opt) is cargo-leptos's.
build_site() {
  local profile="${COMOPS_WASM_PROFILE:-wasm-release}"
  say "building the studio bundle (wasm, profile $profile)"
  # Explicit exits: `set -e` is off inside `a && b` chains, and a failed
  # wasm build must never leave an old bundle looking current.
  # `--emit-relocs` is for the final link only (`cargo rustc` passes it to
  # this crate alone, so dependencies are not rebuilt): the splitter needs
  # the relocations to move code between modules.
  cargo rustc -p comops-frontend --lib --target wasm32-unknown-unknown --profile "$profile" \
    -- -C link-arg=--emit-relocs || exit 1
  cargo build -p comops-wasm-split || exit 1
  local dir="$profile"; [ "$profile" = dev ] && dir=debug
  local pkg="$SITE_ROOT/pkg" split_main="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$dir/comops_split.wasm"
  mkdir -p "$pkg"
  # Chunks of an older build must not linger next to the new ones.
  rm -f "$pkg"/*.wasm "$pkg"/__wasm_split* "$pkg"/*.gz "$pkg"/*.br
  say "splitting the wasm at its lazy routes"
  "$CARGO_TARGET_DIR/debug/comops-wasm-split" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$dir/comops_frontend.wasm" "$pkg" "$split_main" || exit 1
  # The chunks link to the main module by its symbol names: keep them.
  wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
    --out-dir "$pkg" --out-name comops "$split_main" || exit 1
  if [ "$profile" != dev ] && [ "${COMOPS_WASM_OPT:-1}" = 1 ]; then
    # -O1, not -Oz: rustc has already optimized for size (opt-level z,
    # LTO), and binaryen's -O2 and up (-Os, -Oz too) make smaller files
    # that compress worse — measured 2026-12-07, main module gzip -9 677 →
    # 590 KB, brotli 484 → 438 KB, /scenarios 1,052 → 926 KB gzipped
    # (docs/benchmarks.md, "WASM bundle"). COMOPS_WASM_OPT_LEVEL=-Oz (or
    # any wasm-opt level) to compare.
    local level="${COMOPS_WASM_OPT_LEVEL:--O1}"
    say "optimizing the wasm modules (wasm-opt $level, binaryen from npm)"
    # One wasm-opt per module, as many at once as there are cores.
    find "$pkg" -maxdepth 1 -name '*.wasm' -print0 | xargs -0 -P "$(nproc)" -I{} sh -c '
      wasm-opt "$2" --strip-debug --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-reference-types --enable-multivalue -o "$1.opt" "$1" && mv "$1.opt" "$1"' sh {} "$level" || exit 1
  fi
  hash_chunk_names "$pkg" || exit 1
  say "building CSS"
  tailwindcss -i style/main.css -o "$SITE_ROOT/pkg/comops.css" --minify 2>/dev/null || exit 1
  compress_bundle "$pkg" "$profile" || exit 1
}

# compress_bundle <pkg> <profile>: a gzip copy (`gzip -9`) and a brotli
# copy (scripts/brotli-copies.mjs) beside every file of the bundle, which
# the server sends to browsers that accept them (server/src/http/assets.rs):
# the main wasm module is about a third of its size gzipped and a quarter
# with brotli (Chromium asks for brotli from localhost and over HTTPS).
# Brotli's top quality (11) takes about 6 s a megabyte, so a dev build
# (COMOPS_WASM_PROFILE=dev, unoptimized, many times larger) gets quality 5.
# Written last, after every file they copy, and removed with the modules
# at the start of each build, so none is stale.
compress_bundle() {
  local pkg="$1" profile="$2" file quality=11
  local files=()
  for file in "$pkg"/*.wasm "$pkg"/*.js "$pkg"/*.css "$pkg"/*.json; do
    [ -f "$file" ] || continue
    gzip -9 -n -k -f "$file" || return 1
    files+=("$file")
  done
  [ "${#files[@]}" -gt 0 ] || { echo "no bundle files in $pkg" >&2; return 1; }
  [ "$profile" = dev ] && quality=5
  # One node per file, as many at once as there are cores: the main module
  # takes most of the time and gets a core of its own.
  printf '%s\0' "${files[@]}" | xargs -0 -n 1 -P "$(nproc)" node "$ROOT/scripts/brotli-copies.mjs" "--quality=$quality" || return 1
}

# hash_chunk_names <pkg>: gives every lazily loaded wasm module a name
# with a hash of this build (chunk_7.wasm → chunk_7.3f9a0c21d4.wasm) and
# rewrites the loader and the manifest to match. A tab left open across a
# deploy asks for its own build's names: it gets a 404 and says so
# (frontend/src/lib.rs) rather than running a chunk of another build
# against its main module. The hash covers every module, so any change
# renames them all; the server lets browsers keep such names for good
# (server/src/http/assets.rs).
hash_chunk_names() {
  local pkg="$1" loader manifest build name hashed
  loader="$pkg/__wasm_split.______________________.js"
  manifest="$pkg/__wasm_split_manifest.json"
  [ -f "$loader" ] && [ -f "$manifest" ] || { echo "no wasm-split loader or manifest in $pkg" >&2; return 1; }
  build=$(cat "$pkg"/*.wasm | sha256sum | cut -c1-10)
  for module in "$pkg"/chunk_*.wasm "$pkg"/split_*.wasm; do
    [ -f "$module" ] || continue
    name=$(basename "$module" .wasm)
    hashed="$name.$( { cat "$module"; echo "$build"; } | sha256sum | cut -c1-10)"
    mv "$module" "$pkg/$hashed.wasm"
    sed -i "s#\"\./$name\.wasm\"#\"./$hashed.wasm\"#g" "$loader"
    sed -i "s#\"$name\"#\"$hashed\"#g" "$manifest"
  done
  # Every module the loader or the manifest names must exist.
  grep -o '"\./[^"]*\.wasm"' "$loader" | tr -d '"' | while read -r file; do
    [ -f "$pkg/${file#./}" ] || { echo "the loader names a missing module: $file" >&2; return 1; }
  done
}

build_server() {
  say "building the comops server"
  cargo build -p comops-server --bin comops || exit 1
  COMOPS_BIN="$CARGO_TARGET_DIR/debug/comops"
  export COMOPS_BIN
}

# Python tools the tests run, from PyPI, only if missing: the OpenAPI
# validator (server/tests/docs.rs) and schemathesis (server/tests/
# schemathesis.rs). Those tests fail in CI without them and skip with a
# note locally.
ensure_python_tools() {
  command -v python3 >/dev/null || { say "installing Python 3 from Debian"; as_root apt-get update -qq; as_root apt-get install -y -qq python3 python3-pip; }
  export PATH="$PATH:$HOME/.local/bin"
  pip_install openapi_spec_validator "openapi-spec-validator==0.9.0"
  pip_install schemathesis "schemathesis==4.32.5"
}

# pip_install <module> <requirement>: installs the requirement unless the
# module imports already.
pip_install() {
  python3 -c "import $1" 2>/dev/null && return 0
  python3 -m pip --version >/dev/null 2>&1 || { as_root apt-get update -qq; as_root apt-get install -y -qq python3-pip; }
  say "installing $2 (pip)"
  # A venv or pyenv takes a plain install; Debian's own Python (PEP 668)
  # only a user install that says so.
  python3 -m pip install --quiet "$2" 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages "$2"
}
