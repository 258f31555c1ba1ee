//! Finds or builds libddata. In order:
//!
//! 1. `DOCS_RS` set: nothing is built or linked (the docs host has no C
//!    dependencies, and the declarations need none).
//! 2. `DDATA_BUILD_DIR`: an already configured CMake build of a checkout
//!    (`make test-rust` passes its own); only its `ddata_static` target is
//!    (re)built and linked.
//! 3. Feature `system`, `DDATA_SYSTEM=1`, or `bundled` off: an installed
//!    libddata 1.x found by pkg-config.
//! 4. Feature `bundled` (the default): the C sources compiled with the `cc`
//!    crate, from `csrc/` (what the packaged crate carries) or else from the
//!    checkout this crate sits in (`DDATA_SOURCE_DIR` overrides). The
//!    library's own dependencies (sqlite3, libsodium, zlib, libcjson) come
//!    from pkg-config.
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const DEPS: [&str; 5] = ["sqlite3", "libsodium", "zlib", "libcjson", "libpq"];

fn main() {
    for var in ["DDATA_SYSTEM", "DDATA_SOURCE_DIR", "DDATA_BUILD_DIR", "DOCS_RS"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    if env::var_os("DOCS_RS").is_some() {
        return;
    }
    if let Some(dir) = env::var_os("DDATA_BUILD_DIR") {
        link_cmake_build(&source_tree(), Path::new(&dir));
        return;
    }
    let system = env::var_os("CARGO_FEATURE_SYSTEM").is_some()
        || env::var("DDATA_SYSTEM").as_deref() == Ok("1")
        || env::var_os("CARGO_FEATURE_BUNDLED").is_none();
    if system {
        let lib = pkg_config::Config::new()
            .range_version("1.0".."2.0")
            .probe("ddata")
            .unwrap_or_else(|e| panic!("ddata-sys: no installed libddata 1.x (pkg-config ddata): {e}"));
        for inc in &lib.include_paths {
            println!("cargo:include={}", inc.display());
        }
        return;
    }
    #[cfg(feature = "bundled")]
    bundled::build(&source_tree());
}

/// Where the C sources are: the packaged crate's csrc/, or the checkout.
fn source_tree() -> PathBuf {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let tree = match env::var_os("DDATA_SOURCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None if manifest.join("csrc/abi/include/ddata.h").exists() => manifest.join("csrc"),
        None => manifest.join("../.."),
    };
    let tree = tree.canonicalize().unwrap_or(tree);
    if !tree.join("abi/include/ddata.h").exists() {
        panic!(
            "ddata-sys: {} holds no ddata sources (abi/include/ddata.h); set DDATA_SOURCE_DIR \
             or use the `system` feature",
            tree.display()
        );
    }
    tree
}

/// The dependencies' include paths; with `link`, also their link lines
/// (and pthread's) for cargo.
fn probe_deps(link: bool) -> Vec<PathBuf> {
    let mut includes = Vec::new();
    for dep in DEPS {
        let lib = pkg_config::Config::new()
            .cargo_metadata(link)
            .probe(dep)
            .unwrap_or_else(|e| panic!("ddata-sys: pkg-config {dep}: {e}"));
        includes.extend(lib.include_paths);
    }
    if link {
        println!("cargo:rustc-link-lib=pthread");
    }
    includes
}

#[cfg(feature = "bundled")]
mod bundled {
    use std::path::{Path, PathBuf};

    fn c_files(dir: &Path, recurse: bool, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("ddata-sys: cannot read {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() && recurse {
                c_files(&p, true, out);
            } else if p.extension().is_some_and(|x| x == "c") {
                out.push(p);
            }
        }
    }

    pub fn build(tree: &Path) {
        let mut files = Vec::new();
        c_files(&tree.join("core"), true, &mut files);
        c_files(&tree.join("abi"), false, &mut files);
        for dir in ["core", "abi"] {
            println!("cargo:rerun-if-changed={}", tree.join(dir).display());
        }
        let mut build = cc::Build::new();
        build
            .files(&files)
            .include(tree.join("abi/include"))
            .include(tree.join("core"))
            .include(tree.join("abi"))
            .define("_GNU_SOURCE", None)
            .define("DDATA_BUILDING", "1")
            .flag("-std=gnu11")
            .flag("-fvisibility=hidden")
            .flag("-Wno-missing-field-initializers")
            .flag("-Wno-unused-parameter");
        // Dependencies' headers first, then compile: cc emits the link line
        // for libddata.a before pkg-config's for its dependencies.
        let includes = super::probe_deps(false);
        build.includes(includes);
        build.compile("ddata");
        super::probe_deps(true);
        println!("cargo:include={}", tree.join("abi/include").display());
    }
}

fn link_cmake_build(tree: &Path, build: &Path) {
    for p in ["abi", "core", "CMakeLists.txt", "cmake"] {
        println!("cargo:rerun-if-changed={}", tree.join(p).display());
    }
    let jobs = env::var("NUM_JOBS").unwrap_or_else(|_| "2".into());
    let jobs = jobs.parse::<u32>().unwrap_or(2).min(2).to_string();
    run(Command::new("cmake")
        .arg("--build")
        .arg(build)
        .args(["--target", "ddata_static", "-j", &jobs]));
    println!("cargo:rustc-link-search=native={}", build.display());
    println!("cargo:rustc-link-lib=static=ddata");
    println!("cargo:include={}", tree.join("abi/include").display());
    probe_deps(true);
}

fn run(cmd: &mut Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("ddata-sys: cannot run {cmd:?}: {e} (is cmake installed?)"));
    if !status.success() {
        panic!("ddata-sys: {cmd:?} failed with {status}");
    }
}
