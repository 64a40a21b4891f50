use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs;
use std::time::{Duration, Instant};

use super::*;

// Bytes allocated by the current thread, so a test can tell that packaging
// never held a large file in memory (tests run on threads of their own).
thread_local! {
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter is a const-initialised thread-local without a destructor, so
// touching it never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + layout.size() as u64));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + layout.size() as u64));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + new_size as u64));
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// What `f` returns, the bytes this thread allocated meanwhile, and how long
/// it took.
fn measured<T>(f: impl FnOnce() -> T) -> (T, u64, Duration) {
    let before = ALLOCATED.with(Cell::get);
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    (out, ALLOCATED.with(Cell::get) - before, took)
}

/// Packaging as it was before the checks and the streaming (read each file
/// whole, follow every symlink): the new code must give the same bytes for
/// every directory the old one accepted and the new one does too.
fn reference(dir: &Path) -> Package {
    fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let ty = entry.file_type().unwrap();
            let is_dir = if ty.is_symlink() {
                path.is_dir()
            } else {
                ty.is_dir()
            };
            if skipped(&name, is_dir) {
                continue;
            }
            if is_dir {
                collect(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, path));
            }
        }
    }
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    files.sort();
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (rel, path) in &files {
        let data = fs::read(path).unwrap();
        let mode = if executable(&fs::metadata(path).unwrap()) {
            0o755
        } else {
            0o644
        };
        let opts = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::default())
            .unix_permissions(mode);
        zip.start_file(rel.as_str(), opts).unwrap();
        zip.write_all(&data).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes));
    Package { zip: bytes, sha256 }
}

/// Deterministic bytes that deflate does not shrink (xorshift).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn names(p: &Package) -> Vec<String> {
    let z = zip::ZipArchive::new(Cursor::new(p.zip.clone())).unwrap();
    z.file_names().map(|n| n.unwrap().into_owned()).collect()
}

fn problems(dir: &Path) -> Vec<Problem> {
    package_with(dir, &Limits::LAMBDA).unwrap_err()
}

#[cfg(unix)]
fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn same_content_same_bytes_and_changes_show() {
    let a = tempfile::tempdir().unwrap();
    fs::write(a.path().join("handler.py"), "def h(e, c):\n    return 1\n").unwrap();
    fs::create_dir(a.path().join("lib")).unwrap();
    fs::write(a.path().join("lib/util.py"), "X = 1\n").unwrap();
    fs::create_dir(a.path().join("__pycache__")).unwrap();
    fs::write(a.path().join("__pycache__/handler.cpython-312.pyc"), "junk").unwrap();
    let p1 = package_dir(a.path()).unwrap();
    // Touch mtimes and add debris: still identical.
    std::thread::sleep(Duration::from_millis(10));
    fs::write(a.path().join("handler.py"), "def h(e, c):\n    return 1\n").unwrap();
    fs::write(a.path().join("x.pyc"), "junk").unwrap();
    let p2 = package_dir(a.path()).unwrap();
    assert_eq!(p1, p2);
    fs::write(a.path().join("handler.py"), "def h(e, c):\n    return 2\n").unwrap();
    let p3 = package_dir(a.path()).unwrap();
    assert_ne!(p1.sha256, p3.sha256);
    let mut sorted = names(&p3);
    sorted.sort();
    assert_eq!(
        sorted,
        vec!["handler.py".to_string(), "lib/util.py".to_string()]
    );
}

#[test]
fn empty_dir_is_an_error() {
    let a = tempfile::tempdir().unwrap();
    assert_eq!(problems(a.path()), [Problem::Empty]);
    assert!(
        package_dir(a.path())
            .unwrap_err()
            .to_string()
            .contains("no files")
    );
}

/// Streaming gives the bytes reading whole files gave: small, empty,
/// executable, nested, large compressible and large incompressible files,
/// and symlinks inside the directory (followed, as before).
#[cfg(unix)]
#[test]
fn streaming_gives_the_bytes_reading_whole_files_gave() {
    use std::os::unix::fs::PermissionsExt;
    let a = tempfile::tempdir().unwrap();
    let d = a.path();
    fs::write(d.join("handler.py"), "def h(e, c):\n    return 1\n").unwrap();
    fs::write(d.join("empty.txt"), "").unwrap();
    fs::write(d.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(d.join("run.sh"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::create_dir_all(d.join("lib/deep/er")).unwrap();
    fs::write(d.join("lib/deep/er/x.py"), "X = 1\n".repeat(1000)).unwrap();
    let text: String = (0..200_000).map(|i| format!("line {i}\n")).collect();
    fs::write(d.join("lib/big.txt"), text).unwrap();
    fs::write(d.join("lib/noise.bin"), noise(3 << 20, 7)).unwrap();
    symlink("lib/deep", d.join("deep-link"));
    symlink("../handler.py", d.join("lib/handler-link.py"));
    let new = package_dir(d).unwrap();
    assert_eq!(new, reference(d));
    let mut want = vec![
        "deep-link/er/x.py",
        "empty.txt",
        "handler.py",
        "lib/big.txt",
        "lib/deep/er/x.py",
        "lib/handler-link.py",
        "lib/noise.bin",
        "run.sh",
    ];
    want.sort();
    assert_eq!(names(&new), want);
}

/// A pinned digest: a change to the bytes (zip crate, options, order)
/// would make every deployed function plan as changed.
#[test]
fn the_bytes_are_pinned() {
    let a = tempfile::tempdir().unwrap();
    fs::write(
        a.path().join("handler.py"),
        "def lambda_handler(event, context):\n    return event\n",
    )
    .unwrap();
    fs::create_dir(a.path().join("lib")).unwrap();
    fs::write(a.path().join("lib/util.py"), "X = 1\n").unwrap();
    let p = package_dir(a.path()).unwrap();
    assert_eq!(p, reference(a.path()));
    assert_eq!(p.sha256, PINNED_SHA256);
}

const PINNED_SHA256: &str = "R3kNQzAxATVet50QCueMZ5NbeN/5k8Z/fPoZC/Hyc1A=";

/// The planted secret is next to the project; a link to it from inside
/// the source directory makes packaging fail, and its contents appear in
/// no message.
#[cfg(unix)]
#[test]
fn nothing_outside_the_source_directory_is_read() {
    let t = tempfile::tempdir().unwrap();
    let secret = "aws_secret_access_key = PLANTED-SECRET-4711\n";
    fs::write(t.path().join("credentials"), secret).unwrap();
    fs::create_dir_all(t.path().join("outside-dir")).unwrap();
    fs::write(t.path().join("outside-dir/key.pem"), secret).unwrap();
    let src = t.path().join("project/lambda");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("handler.py"), "X = 1\n").unwrap();
    // Fine before the links: the planted files are not in the zip.
    let p = package_dir(&src).unwrap();
    assert_eq!(names(&p), ["handler.py"]);
    assert!(!String::from_utf8_lossy(&p.zip).contains("PLANTED"));
    symlink("../../credentials", src.join("creds"));
    symlink(t.path().join("outside-dir"), src.join("keys"));
    let outside = t.path().canonicalize().unwrap();
    assert_eq!(
        problems(&src),
        [
            Problem::SymlinkOutside {
                link: "creds".into(),
                target: "../../credentials".into(),
                resolved: outside.join("credentials"),
            },
            Problem::SymlinkOutside {
                link: "keys".into(),
                target: t.path().join("outside-dir"),
                resolved: outside.join("outside-dir"),
            },
        ]
    );
    let err = format!("{:#}", package_dir(&src).unwrap_err());
    assert!(err.contains("symlink `creds` points outside"), "{err}");
    assert!(!err.contains("PLANTED"), "{err}");
    // A link into the project but out of the source directory is out too.
    fs::write(t.path().join("project/shared.py"), "S = 1\n").unwrap();
    fs::remove_file(src.join("creds")).unwrap();
    fs::remove_file(src.join("keys")).unwrap();
    symlink("../shared.py", src.join("shared.py"));
    assert!(matches!(
        &problems(&src)[..],
        [Problem::SymlinkOutside { link, .. }] if link == "shared.py"
    ));
}

/// Debris is left out before its target is looked at: a `.venv` link to a
/// virtualenv elsewhere is not a problem.
#[cfg(unix)]
#[test]
fn links_left_out_as_debris_are_not_problems() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("venv")).unwrap();
    let src = t.path().join("lambda");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("handler.py"), "X = 1\n").unwrap();
    symlink(t.path().join("venv"), src.join(".venv"));
    symlink("/nonexistent/x.pyc", src.join("stale.pyc"));
    assert_eq!(names(&package_dir(&src).unwrap()), ["handler.py"]);
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().canonicalize().unwrap();
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::write(src.join("handler.py"), "X = 1\n").unwrap();
    symlink("..", src.join("sub/up"));
    symlink(".", src.join("self"));
    symlink("b", src.join("a"));
    symlink("a", src.join("b"));
    assert_eq!(
        problems(&src),
        [
            Problem::SymlinkLoop {
                link: "a".into(),
                target: "b".into(),
                resolved: None,
            },
            Problem::SymlinkLoop {
                link: "b".into(),
                target: "a".into(),
                resolved: None,
            },
            Problem::SymlinkLoop {
                link: "self".into(),
                target: ".".into(),
                resolved: Some(src.clone()),
            },
            Problem::SymlinkLoop {
                link: "sub/up".into(),
                target: "..".into(),
                resolved: Some(src.clone()),
            },
        ]
    );
}

#[cfg(unix)]
#[test]
fn broken_symlinks_fifos_and_sockets_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path();
    fs::write(src.join("handler.py"), "X = 1\n").unwrap();
    symlink("missing.py", src.join("dangling.py"));
    let fifo = std::ffi::CString::new(src.join("pipe").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let _socket = std::os::unix::net::UnixListener::bind(src.join("sock")).unwrap();
    symlink("pipe", src.join("pipe-link"));
    // Packaging returns at once: the FIFO is never opened (it would block).
    let (got, _, took) = measured(|| problems(src));
    assert!(took < Duration::from_secs(5));
    assert_eq!(
        got,
        [
            Problem::BrokenSymlink {
                link: "dangling.py".into(),
                target: "missing.py".into(),
            },
            Problem::SpecialFile {
                path: "pipe".into(),
                kind: "FIFO (named pipe)",
            },
            Problem::SpecialFile {
                path: "pipe-link".into(),
                kind: "FIFO (named pipe)",
            },
            Problem::SpecialFile {
                path: "sock".into(),
                kind: "socket",
            },
        ]
    );
}

/// The filesystem root and the system directories are refused before
/// anything under them is listed.
#[test]
fn the_root_and_system_directories_are_never_walked() {
    for dir in ["/", "/proc", "/proc/self", "/sys", "/dev"] {
        if !Path::new(dir).exists() {
            continue;
        }
        let (got, allocated, _) = measured(|| problems(Path::new(dir)));
        assert!(
            matches!(&got[..], [Problem::SystemDirectory { .. }]),
            "{dir}: {got:?}"
        );
        assert!(allocated < 64 << 10, "{dir}: {allocated} bytes allocated");
        let err = check_source(Path::new("/"), Path::new(dir), true).unwrap_err();
        assert!(matches!(err, Problem::SystemDirectory { .. }), "{dir}");
    }
}

#[test]
fn sources_outside_the_project_need_the_opt_in() {
    let t = tempfile::tempdir().unwrap();
    let project = t.path().join("project");
    fs::create_dir_all(project.join("lambda")).unwrap();
    fs::create_dir_all(t.path().join("shared")).unwrap();
    let canonical = t.path().canonicalize().unwrap();
    assert_eq!(
        check_source(&project, &project.join("lambda"), false),
        Ok(canonical.join("project/lambda"))
    );
    assert_eq!(
        check_source(&project, &project.join("."), false),
        Ok(canonical.join("project"))
    );
    assert_eq!(
        check_source(&project, &project.join("../shared"), false),
        Err(Problem::OutsideProject {
            resolved: canonical.join("shared"),
            project: canonical.join("project"),
        })
    );
    assert_eq!(
        check_source(&project, &project.join("../shared"), true),
        Ok(canonical.join("shared"))
    );
    // `../project2` shares a prefix with `project` but is not inside it.
    fs::create_dir_all(t.path().join("project2")).unwrap();
    assert!(check_source(&project, &project.join("../project2"), false).is_err());
    // A source that is a link out of the project is outside too.
    #[cfg(unix)]
    {
        symlink("../shared", project.join("linked"));
        assert!(check_source(&project, &project.join("linked"), false).is_err());
    }
}

/// A 300 MB file (sparse: cheap to make) is over the unzipped limit, found
/// from its metadata: packaging returns at once without reading it.
#[test]
fn over_the_unzipped_limit_is_refused_before_reading() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("handler.py"), "X = 1\n").unwrap();
    fs::File::create(t.path().join("model.bin"))
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    let (got, allocated, took) = measured(|| problems(t.path()));
    assert_eq!(
        got,
        [Problem::TooLargeUnzipped {
            size: (300 << 20) + 6,
            limit: 250 << 20,
            largest: vec![("model.bin".into(), 300 << 20), ("handler.py".into(), 6)],
        }]
    );
    assert!(allocated < 1 << 20, "{allocated} bytes allocated");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(
        got[0].to_string(),
        "the files add up to 300 MB unzipped, over the 250 MB limit"
    );
}

#[test]
fn the_unzipped_limit_is_inclusive() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("a"), "12345").unwrap();
    fs::write(t.path().join("b"), "67890").unwrap();
    let at = |unzipped| {
        package_with(
            t.path(),
            &Limits {
                zipped: 1 << 20,
                unzipped,
            },
        )
    };
    assert!(at(10).is_ok());
    assert!(matches!(
        &at(9).unwrap_err()[..],
        [Problem::TooLargeUnzipped {
            size: 10,
            limit: 9,
            ..
        }]
    ));
}

/// Over the zipped limit, packaging stops where the zip passes it. A file
/// larger than the streaming buffer is never in memory whole.
#[test]
fn over_the_zipped_limit_stops_as_it_is_reached() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("a.py"), "X = 1\n").unwrap();
    let size = buffer_size(LOOKAHEAD) + (16 << 20);
    fs::write(t.path().join("noise.bin"), noise(size, 3)).unwrap();
    let limits = Limits {
        zipped: 256 << 10,
        unzipped: 250 << 20,
    };
    let (got, allocated, _) = measured(|| package_with(t.path(), &limits));
    assert_eq!(
        got.unwrap_err(),
        [Problem::TooLargeZipped {
            limit: 256 << 10,
            at: "noise.bin".into(),
        }]
    );
    // The buffer, the encoder's state and the zip so far; not the file.
    let bound = (buffer_size(LOOKAHEAD) + (2 << 20)) as u64;
    assert!(allocated < bound, "{allocated} bytes allocated");
}

/// The streaming buffer hands every byte on, in order, through writes that
/// take only part of what they are given, across refills; a file that grew
/// or shrank since the scan reads as more or fewer bytes.
#[test]
fn streaming_hands_on_every_byte() {
    struct Slow(Vec<u8>);
    impl Write for Slow {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let n = b.len().min(100_003);
            self.0.extend_from_slice(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("f");
    let data = noise((3 << 20) + 12_345, 11);
    fs::write(&path, &data).unwrap();
    let file = fs::File::open(&path).unwrap();
    for lookahead in [4096, 1 << 20, LOOKAHEAD] {
        let mut out = Slow(Vec::new());
        let size = data.len() as u64;
        (&file).seek(SeekFrom::Start(0)).unwrap();
        assert_eq!(stream(&file, size, &mut out, lookahead).unwrap(), size);
        assert!(out.0 == data, "lookahead {lookahead}");
        (&file).seek(SeekFrom::Start(0)).unwrap();
        assert_eq!(
            stream(&file, size - 1, &mut Slow(Vec::new()), lookahead).unwrap(),
            size
        );
        (&file).seek(SeekFrom::Start(0)).unwrap();
        assert_eq!(
            stream(&file, size + 9, &mut Slow(Vec::new()), lookahead).unwrap(),
            size
        );
    }
}

/// Why the lookahead: with too little input ahead of each write, deflate
/// makes other bytes (8 KiB is what `io::copy` would give it); with
/// enough, the bytes of one `write_all` of the whole file.
#[test]
fn the_encoder_needs_its_lookahead() {
    let t = tempfile::tempdir().unwrap();
    let text: String = (0..300_000)
        .map(|i| format!("line {i} {}\n", i % 7))
        .collect();
    fs::write(t.path().join("log.txt"), text).unwrap();
    let listing = scan(t.path(), &Limits::LAMBDA).unwrap();
    let want = reference(t.path());
    let with = |lookahead| zip_with(&listing, &Limits::LAMBDA, lookahead).unwrap();
    assert_ne!(with(8 << 10), want);
    assert_eq!(with(1 << 20), want);
    assert_eq!(with(LOOKAHEAD), want);
}

/// A file larger than the streaming buffer zips to the bytes reading it
/// whole gave: compressible stretches (where one write consumes the most
/// input) around text and noise.
#[test]
fn a_file_larger_than_the_buffer_zips_as_before() {
    let t = tempfile::tempdir().unwrap();
    let text: Vec<u8> = (0..60_000)
        .map(|i| format!("{{\"id\": {i}, \"name\": \"item-{}\"}}\n", i % 97))
        .collect::<String>()
        .into_bytes();
    let mut data = Vec::new();
    while data.len() < buffer_size(LOOKAHEAD) + (4 << 20) {
        data.extend(vec![0u8; 5 << 20]);
        data.extend(&text);
        data.extend(noise(256 << 10, data.len() as u64));
    }
    fs::write(t.path().join("big.bin"), &data).unwrap();
    drop(data);
    let (p, _, took) = measured(|| package_dir(t.path()).unwrap());
    assert_eq!(p, reference(t.path()));
    eprintln!("packaged in {took:?}");
}

#[test]
fn sizes_read_as_aws_writes_them() {
    assert_eq!(human_size(0), "0 bytes");
    assert_eq!(human_size(1023), "1023 bytes");
    assert_eq!(human_size(1536), "1.5 KB");
    assert_eq!(human_size(50 << 20), "50 MB");
    assert_eq!(human_size(262_144_000), "250 MB");
    assert_eq!(human_size((300 << 20) + 6), "300 MB");
    assert_eq!(human_size(52_500_000), "50.1 MB");
}
