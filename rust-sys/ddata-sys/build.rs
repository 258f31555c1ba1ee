//! Finds libddata: an installed 1.x found by pkg-config, or else the source
//! tree this crate sits in, built with CMake into OUT_DIR and linked
//! statically (its own dependencies come from pkg-config).
//!
//! Environment:
//!   DDATA_FROM_TREE=1    ignore an installed library
//!   DDATA_SOURCE_DIR     the ddata checkout (default: ../.. of this crate)
//!   DDATA_BUILD_DIR      an already configured CMake build of that checkout;
//!                        only its `ddata_static` target is (re)built
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    for var in ["DDATA_FROM_TREE", "DDATA_SOURCE_DIR", "DDATA_BUILD_DIR"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    if env::var("DDATA_FROM_TREE").as_deref() != Ok("1") {
        let found = pkg_config::Config::new()
            .range_version("1.0".."2.0")
            .probe("ddata");
        if let Ok(lib) = found {
            for inc in &lib.include_paths {
                println!("cargo:include={}", inc.display());
            }
            return;
        }
    }
    build_from_tree();
}

fn build_from_tree() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let tree = env::var_os("DDATA_SOURCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../.."));
    let tree = tree.canonicalize().unwrap_or(tree);
    if !tree.join("abi/include/ddata.h").exists() {
        panic!(
            "ddata-sys: libddata 1.x is not installed (pkg-config ddata) and {} is not a ddata \
             checkout; set DDATA_SOURCE_DIR",
            tree.display()
        );
    }
    for p in ["abi", "core", "CMakeLists.txt", "cmake"] {
        println!("cargo:rerun-if-changed={}", tree.join(p).display());
    }

    let build = match env::var_os("DDATA_BUILD_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let dir = PathBuf::from(env::var("OUT_DIR").unwrap()).join("ddata-build");
            run(Command::new("cmake")
                .arg("-S")
                .arg(&tree)
                .arg("-B")
                .arg(&dir)
                .arg("-DCMAKE_BUILD_TYPE=RelWithDebInfo")
                .arg("-DDDATA_TESTS=OFF")
                .arg("-DDDATA_BENCH=OFF"));
            dir
        }
    };
    let jobs = env::var("NUM_JOBS").unwrap_or_else(|_| "2".into());
    let jobs = jobs.parse::<u32>().unwrap_or(2).min(2).to_string();
    run(Command::new("cmake")
        .arg("--build")
        .arg(&build)
        .args(["--target", "ddata_static", "-j", &jobs]));

    println!("cargo:rustc-link-search=native={}", build.display());
    println!("cargo:rustc-link-lib=static=ddata");
    println!("cargo:include={}", tree.join("abi/include").display());
    for dep in ["sqlite3", "libsodium", "zlib", "libcjson", "libpq"] {
        pkg_config::Config::new()
            .cargo_metadata(true)
            .probe(dep)
            .unwrap_or_else(|e| panic!("ddata-sys: pkg-config {dep}: {e}"));
    }
    println!("cargo:rustc-link-lib=pthread");
}

fn run(cmd: &mut Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("ddata-sys: cannot run {cmd:?}: {e} (is cmake installed?)"));
    if !status.success() {
        panic!("ddata-sys: {cmd:?} failed with {status}");
    }
}
