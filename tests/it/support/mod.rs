//! Test harness: S3-compatible servers shared per test binary, and S3 helpers.
//!
//! `moto()` / `localstack()` use `S3CORS_MOTO_ENDPOINT` / `S3CORS_LOCALSTACK_ENDPOINT`
//! when set (`scripts/test` starts both once for every test binary); otherwise they
//! spawn `scripts/servers run NAME`, which prints the endpoint and stops the server
//! when this process's end of its stdin closes (normal exit, panic or kill). A server
//! that cannot start fails the test with instructions: tests never skip silently.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod watcher;
pub mod work;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;
use s3cors::s3::AwsS3;

/// Dummy credentials every emulator accepts.
pub const ACCESS_KEY_ID: &str = "test";
pub const SECRET_ACCESS_KEY: &str = "test";
pub const REGION: &str = "us-east-1";

/// A running server (ours or the one `scripts/test` started).
pub struct Server {
    endpoint: String,
    /// `scripts/servers run` and its pipes: never dropped (statics are not), so the
    /// server lives as long as this test process.
    _owned: Option<(Child, BufReader<ChildStdout>)>,
}

impl Server {
    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

/// moto: the API backend. Shared by all tests of this binary.
pub fn moto() -> &'static Server {
    static MOTO: OnceLock<Result<Server, String>> = OnceLock::new();
    shared(&MOTO, "moto", "S3CORS_MOTO_ENDPOINT")
}

/// LocalStack: the CORS enforcement backend. Shared by all tests of this binary.
pub fn localstack() -> &'static Server {
    static LOCALSTACK: OnceLock<Result<Server, String>> = OnceLock::new();
    shared(&LOCALSTACK, "localstack", "S3CORS_LOCALSTACK_ENDPOINT")
}

fn shared(
    cell: &'static OnceLock<Result<Server, String>>,
    name: &str,
    env_var: &str,
) -> &'static Server {
    let server = cell.get_or_init(|| match std::env::var(env_var) {
        Ok(endpoint) if !endpoint.trim().is_empty() => Ok(Server {
            endpoint: endpoint.trim().trim_end_matches('/').to_owned(),
            _owned: None,
        }),
        _ => spawn(name),
    });
    match server {
        Ok(server) => server,
        // Every test that needs the server fails with the same explanation.
        Err(why) => panic!("{why}"),
    }
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn how_to_get(name: &str) -> String {
    format!(
        "install it with `scripts/servers install {name}`, or run `scripts/test` (installs \
         and starts both emulators, then runs every test); to use a server you started \
         yourself, set {} to its endpoint",
        if name == "moto" {
            "S3CORS_MOTO_ENDPOINT"
        } else {
            "S3CORS_LOCALSTACK_ENDPOINT"
        }
    )
}

fn spawn(name: &str) -> Result<Server, String> {
    let root = repo_root();
    let probe = match name {
        "moto" => root.join(".venv/moto/bin/moto_server"),
        _ => root.join(".venv/localstack/bin/python"),
    };
    if !probe.exists() {
        return Err(format!(
            "the {name} test server is not installed ({} is missing): {}",
            probe.display(),
            how_to_get(name)
        ));
    }
    let script = root.join("scripts/servers");
    let mut child = Command::new("bash")
        .arg(&script)
        .args(["run", name])
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}; {}", script.display(), how_to_get(name)))?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    let read = stdout.read_line(&mut line);
    let endpoint = line.trim().to_owned();
    let mut stderr = child.stderr.take().ok_or("no stderr pipe")?;
    if read.is_err() || !endpoint.starts_with("http") {
        // The script has failed and exits (or exits at stdin EOF, which also stops any
        // server it started); its stderr says why, with the server's log tail.
        drop(child.stdin.take());
        let mut why = String::new();
        let _ = stderr.read_to_string(&mut why);
        let _ = child.wait();
        return Err(format!(
            "the {name} test server did not start (`scripts/servers run {name}`):\n{}\n{}",
            why.trim_end(),
            how_to_get(name)
        ));
    }
    // Keep relaying the script's stderr (e.g. "server exited unexpectedly").
    let label = name.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[{label}] {line}");
        }
    });
    Ok(Server {
        endpoint,
        _owned: Some((child, stdout)),
    })
}

/// A bucket name unique per test and per run, valid for S3: `prefix-<pid>-<time>-<n>`.
pub fn unique_bucket(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() % 1_000_000_000)
        .unwrap_or(0);
    let mut clean: String = prefix
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    clean.truncate(30);
    let clean = clean.trim_matches('-');
    let clean = if clean.is_empty() { "t" } else { clean };
    format!("{clean}-{}-{millis}-{n}", std::process::id())
}

/// An SDK configuration for a test server: path style is set on the client, region
/// us-east-1, dummy static credentials, and nothing read from the host environment
/// or ~/.aws.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "s3cors-tests",
        ))
        .load()
        .await
}

/// The S3 layer under test, talking to `endpoint` with path-style addressing.
pub async fn aws_s3(endpoint: &str) -> AwsS3 {
    AwsS3::from_sdk_config(sdk_config(endpoint).await, true)
}

/// A raw SDK client for setting up and asserting server state directly.
pub async fn sdk_client(endpoint: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&sdk_config(endpoint).await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Create `name` at `endpoint` (in us-east-1, so no location constraint).
pub async fn create_bucket(endpoint: &str, name: &str) {
    sdk_client(endpoint)
        .await
        .create_bucket()
        .bucket(name)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "creating bucket {name} at {endpoint}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
}

/// Environment for running the `s3cors` binary against `endpoint` hermetically
/// (e.g. `assert_cmd::Command::envs(aws_env(ep))`): dummy credentials, us-east-1,
/// no shared config files, no instance metadata lookups.
pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_CONFIG_FILE", "/dev/null".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}

/// One fault for [`Proxy`] to inject (`scripts/s3proxy.py --fault MODE`, whose
/// docstring describes every mode): which calls get it and how.
///
/// ```ignore
/// // GetBucketCors of bucket `b` never answered, every time:
/// let proxy = Proxy::with_fault(moto().endpoint(), &Fault::new("hang").ops("GetBucketCors").buckets(&b), &[]);
/// // later, PutBucketCors's first call per bucket takes effect but its answer is lost:
/// proxy.set_fault(&Fault::new("lost-reset").ops("PutBucketCors").first(1));
/// proxy.clear_fault();
/// ```
///
/// Modes: `status` (an S3 XML error with [`Fault::status`] / [`Fault::code`]),
/// `reset` (TCP reset, no answer), `hang` (never answered), `lost-reset` and
/// `lost-hang` (the server acts on the request, then the answer is lost),
/// `truncate` (half the body, framed as complete), `short-body` (half the body, then
/// the connection closes), `oversize` (a 2xx body padded to [`Fault::size`] bytes,
/// chunked), `html-message` (an error whose `<Message>` holds HTML and terminal
/// control characters), `no-origins` (every `<AllowedOrigin>` removed).
#[derive(Debug, Clone, Default)]
pub struct Fault {
    mode: String,
    ops: String,
    buckets: String,
    first: u32,
    status: Option<u16>,
    code: Option<String>,
    size: Option<usize>,
}

impl Fault {
    /// The fault `mode`, on every call of every operation and bucket.
    pub fn new(mode: &str) -> Fault {
        Fault {
            mode: mode.to_owned(),
            ..Fault::default()
        }
    }

    /// Only these operations (comma-separated S3 names, e.g. `"GetBucketCors"`).
    pub fn ops(mut self, ops: &str) -> Fault {
        self.ops = ops.to_owned();
        self
    }

    /// Only these buckets (comma-separated).
    pub fn buckets(mut self, buckets: &str) -> Fault {
        self.buckets = buckets.to_owned();
        self
    }

    /// Only the first `n` matching calls per (operation, bucket); 0 (the default)
    /// means every call.
    pub fn first(mut self, n: u32) -> Fault {
        self.first = n;
        self
    }

    /// The HTTP status of `status` and `html-message` answers (default 500).
    pub fn status(mut self, status: u16) -> Fault {
        self.status = Some(status);
        self
    }

    /// The S3 error code of `status` answers (default: one that fits the status).
    pub fn code(mut self, code: &str) -> Fault {
        self.code = Some(code.to_owned());
        self
    }

    /// The padded body size of `oversize` (default 1 MiB).
    pub fn size(mut self, bytes: usize) -> Fault {
        self.size = Some(bytes);
        self
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("mode", self.mode.clone()),
            ("ops", self.ops.clone()),
            ("buckets", self.buckets.clone()),
            ("first", self.first.to_string()),
        ];
        pairs.extend(self.status.map(|s| ("status", s.to_string())));
        pairs.extend(self.code.clone().map(|c| ("code", c)));
        pairs.extend(self.size.map(|s| ("size", s.to_string())));
        pairs
    }

    /// The proxy's command-line arguments for this fault.
    pub fn args(&self) -> Vec<String> {
        self.pairs()
            .into_iter()
            .flat_map(|(k, v)| [format!("--fault-{k}").replace("--fault-mode", "--fault"), v])
            .collect()
    }
}

/// Starts `scripts/SCRIPT ARGS` with moto's venv Python (stdin piped: it stops
/// when that closes) and returns it with the endpoint it prints as its first
/// line. Fails the test, saying how to fix it, when it cannot start.
pub fn start_script(script: &str, args: &[&str]) -> (Child, String) {
    let root = repo_root();
    let python = root.join(".venv/moto/bin/python");
    assert!(
        python.exists(),
        "scripts/{script} runs with moto's Python ({} is missing): {}",
        python.display(),
        how_to_get("moto")
    );
    let mut child = Command::new(&python)
        .arg(root.join("scripts").join(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start scripts/{script}: {e}"));
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout is piped");
    // The first line comes at once or never (the process exits, closing stdout).
    let _ = BufReader::new(stdout).read_line(&mut line);
    let endpoint = line.trim().to_owned();
    if !endpoint.starts_with("http://") {
        let _ = child.kill();
        let status = child.wait();
        panic!("scripts/{script} {args:?} did not start ({status:?}); see its stderr above");
    }
    (child, endpoint)
}

/// The fault-injecting, delaying, counting proxy (`scripts/s3proxy.py`), started in
/// front of `upstream` for one test; it stops when this value is dropped (its stdin
/// closes). See the script's `--help` for the options and [`Fault`] for faults.
pub struct Proxy {
    endpoint: String,
    child: Child,
}

impl Proxy {
    /// Start the proxy with `args` (e.g. `["--throttle-first", "2"]`) in front of
    /// `upstream`. Fails the test, saying how to fix it, when it cannot start.
    pub fn start(upstream: &str, args: &[&str]) -> Proxy {
        let mut argv = vec!["--upstream", upstream];
        argv.extend_from_slice(args);
        let (child, endpoint) = start_script("s3proxy.py", &argv);
        Proxy { endpoint, child }
    }

    /// Start the proxy in front of `upstream` with `fault` and the other `args`.
    pub fn with_fault(upstream: &str, fault: &Fault, args: &[&str]) -> Proxy {
        let fault_args = fault.args();
        let mut all: Vec<&str> = fault_args.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        Proxy::start(upstream, &all)
    }

    /// Replace the running proxy's fault (`POST /__proxy/fault`); its `first` counts
    /// start again.
    pub fn set_fault(&self, fault: &Fault) {
        let query: Vec<String> = fault
            .pairs()
            .into_iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.replace('%', "%25")
                        .replace('&', "%26")
                        .replace(' ', "%20")
                )
            })
            .collect();
        self.control("POST", &format!("/__proxy/fault?{}", query.join("&")));
    }

    /// Inject no fault from now on.
    pub fn clear_fault(&self) {
        self.control("POST", "/__proxy/fault?mode=none");
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The proxy's counters (`GET /__proxy/stats`): `requests`, `forwarded`,
    /// `throttled`, `redirected`, `failed`, `faulted` (each by S3 operation), `redirected_buckets`,
    /// `signed_regions`, `by_bucket`, `total`.
    pub fn stats(&self) -> serde_json::Value {
        let body = self.control("GET", "/__proxy/stats");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("proxy stats {body:?}: {e}"))
    }

    /// `stats()[section][key]` as a number (0 when absent).
    pub fn count(&self, section: &str, key: &str) -> u64 {
        self.stats()[section][key].as_u64().unwrap_or(0)
    }

    /// Zero every counter (and the `--throttle-first` counts).
    pub fn reset(&self) {
        self.control("POST", "/__proxy/reset");
    }

    fn control(&self, method: &str, path: &str) -> String {
        use std::io::Write;
        let addr = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr)
            .unwrap_or_else(|e| panic!("connecting to the proxy at {addr}: {e}"));
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .expect("writing to the proxy");
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .expect("reading the proxy's answer");
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("malformed proxy answer {answer:?}"));
        assert!(head.starts_with("HTTP/1.1 200"), "{method} {path}: {head}");
        body.to_owned()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Create `name` at `endpoint` in `region` (with the location constraint S3 wants
/// outside us-east-1).
pub async fn create_bucket_in(endpoint: &str, name: &str, region: &str) {
    let client = sdk_client(endpoint).await;
    let mut create = client.create_bucket().bucket(name);
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
                .build(),
        );
    }
    create.send().await.unwrap_or_else(|e| {
        panic!(
            "creating bucket {name} in {region} at {endpoint}: {}",
            aws_sdk_s3::error::DisplayErrorContext(&e)
        )
    });
}

/// Give `name` the tags `tags` directly at `endpoint`.
pub async fn tag_bucket(endpoint: &str, name: &str, tags: &[(&str, &str)]) {
    let mut tagging = aws_sdk_s3::types::Tagging::builder();
    for (k, v) in tags {
        tagging = tagging.tag_set(
            aws_sdk_s3::types::Tag::builder()
                .key(*k)
                .value(*v)
                .build()
                .expect("key and value set"),
        );
    }
    sdk_client(endpoint)
        .await
        .put_bucket_tagging()
        .bucket(name)
        .tagging(tagging.build().expect("tag set"))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "tagging bucket {name}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
}

/// The `s3cors` binary with a hermetic AWS environment for `endpoint`
/// ([`aws_env`]) and path-style addressing.
pub fn s3cors(endpoint: &str) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("s3cors").expect("the s3cors binary is built");
    cmd.envs(aws_env(endpoint))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_MAX_ATTEMPTS")
        .env_remove("AWS_RETRY_MODE")
        .env_remove("S3CORS_SHARD")
        .env_remove("S3CORS_SHARD_COUNT")
        .env_remove("S3CORS_SHARD_INDEX")
        .env_remove("S3CORS_SHARD_BY")
        .env_remove("JOB_COMPLETION_INDEX")
        .args([
            "--endpoint-url",
            endpoint,
            "--path-style",
            "--region",
            REGION,
        ]);
    cmd
}
