//! A running `s3cors watch --listen 127.0.0.1:0` for the watch and status-page
//! tests: its JSON log lines collected as they come, its address, plain HTTP GETs,
//! and waits with a deadline. Killed when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::aws_env;
use super::work::Work;

pub struct Watcher {
    pub child: Child,
    pub addr: String,
    /// Every log line so far, each parsed as JSON (`--log-format json`).
    pub logs: Arc<Mutex<Vec<Value>>>,
}

/// An HTTP answer: status, lower-cased head, body.
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Watcher {
    /// `s3cors watch policies --interval 1s --listen 127.0.0.1:0 EXTRA...` in
    /// `work`'s folder; returns once it has logged the address it serves.
    pub fn start(work: &Work, extra: &[&str]) -> Watcher {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("s3cors"))
            .current_dir(work.dir.path())
            .envs(aws_env(&work.endpoint))
            .args(["--path-style", "--color", "never", "--log-format", "json"])
            .args(["watch", "policies", "--interval", "1s"])
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("s3cors watch starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let entry = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
                sink.lock().unwrap().push(entry);
            }
        });
        let mut w = Watcher {
            child,
            addr: String::new(),
            logs,
        };
        w.addr = w.wait_log("the listening address", |l| {
            l["addr"].as_str().map(str::to_owned)
        });
        w
    }

    /// Waits up to 30 s for `find` to find something; fails if watch exits first.
    pub fn wait<T>(&mut self, what: &str, find: impl Fn(&Watcher) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = find(self) {
                return found;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "watch exited ({status}) before {what}; logs: {:#?}",
                    self.logs.lock().unwrap()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {what} in 30 s; logs: {:#?}",
                self.logs.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits up to 30 s for a log line `find` picks something from.
    pub fn wait_log<T>(&mut self, what: &str, find: impl Fn(&Value) -> Option<T>) -> T {
        self.wait(what, |w| w.logs.lock().unwrap().iter().find_map(&find))
    }

    /// `GET path`, within 10 s.
    pub fn get(&self, path: &str) -> Answer {
        let mut stream = TcpStream::connect(&self.addr).expect("connect to --listen");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"));
        Answer {
            status,
            head: head.to_ascii_lowercase(),
            body: body.to_owned(),
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
