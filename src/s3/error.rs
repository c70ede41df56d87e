//! S3 call failures: what S3 answered (code and message as sent), classified into a
//! small [`S3ErrorKind`] the app layer can act on, with an actionable hint.

use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::answer::{self, MalformedAnswer};

/// What kind of failure an [`S3Error`] is, independent of the exact S3 error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3ErrorKind {
    /// The bucket does not exist (`NoSuchBucket`, or 404 on HeadBucket).
    NoSuchBucket,
    /// 403: missing permission, bad credentials, or the expected owner does not match.
    AccessDenied,
    /// S3 rejected the request's content (`InvalidRequest`, `InvalidArgument`).
    InvalidRequest,
    /// S3 could not accept the XML document (`MalformedXML`).
    MalformedXml,
    /// Throttled after the SDK's retries (`SlowDown`, 503, 429).
    Throttled,
    /// The bucket lives in another region; `region` when S3 said which.
    WrongRegion { region: Option<String> },
    /// The request never got an HTTP answer (DNS, connect, TLS, connection reset).
    Network,
    /// No credentials in the standard chain (or a provider in it failed): no request
    /// was sent, and every other call of the run fails the same way.
    NoCredentials,
    /// No answer in time: an attempt passed `--timeout`, or the call its time budget.
    TimedOut,
    /// A successful answer whose body cannot be trusted (cut short, too large, not
    /// well-formed, a rule without origins or methods): a server or proxy fault.
    MalformedAnswer,
    /// Anything else, including an answer this tool cannot represent.
    Other,
}

impl S3ErrorKind {
    /// A short, actionable hint shown after the error.
    pub fn hint(&self) -> String {
        match self {
            S3ErrorKind::NoSuchBucket => {
                "check the bucket name, the account and the endpoint".to_owned()
            }
            S3ErrorKind::AccessDenied => "check the credentials/profile, the IAM permissions \
                 (s3:GetBucketCORS, s3:PutBucketCORS, s3:ListAllMyBuckets, s3:GetBucketTagging) \
                 and the expected bucket owner (`account:`)"
                .to_owned(),
            S3ErrorKind::InvalidRequest => {
                "S3 rejected the configuration; run `s3cors validate` to locate it".to_owned()
            }
            S3ErrorKind::MalformedXml => "S3 rejected the configuration's shape (every rule needs \
                 AllowedOrigins and AllowedMethods, 1 to 100 rules); run `s3cors validate`"
                .to_owned(),
            S3ErrorKind::Throttled => {
                "S3 is throttling; lower --parallelism, or give calls more time (--timeout) or \
                 attempts (AWS_MAX_ATTEMPTS)"
                    .to_owned()
            }
            S3ErrorKind::WrongRegion { region: Some(r) } => {
                format!("the bucket is in region {r}; declare `region: {r}` or pass --region {r}")
            }
            S3ErrorKind::WrongRegion { region: None } => {
                "the bucket is in another region; declare its `region:` or pass --region".to_owned()
            }
            S3ErrorKind::Network => {
                "could not reach S3; check the network, proxy and --endpoint-url".to_owned()
            }
            S3ErrorKind::NoCredentials => "set AWS_PROFILE (after `aws configure` or \
                 `aws sso login`) or --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                 or run where an IAM role is available; -vvv shows where the SDK looked"
                .to_owned(),
            S3ErrorKind::TimedOut => "S3 did not answer in time; check the network, proxy and \
                 --endpoint-url, or raise --timeout"
                .to_owned(),
            S3ErrorKind::MalformedAnswer => "this is a server or proxy fault, not your policy; \
                 nothing was planned for this bucket; retry, or check what sits between s3cors \
                 and S3"
                .to_owned(),
            S3ErrorKind::Other => "rerun with -v for the SDK's details".to_owned(),
        }
    }
}

/// A failed S3 call: the operation, the bucket, and S3's answer as it was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct S3Error {
    /// The S3 operation name, e.g. `GetBucketCors`.
    pub op: &'static str,
    /// The bucket, for bucket operations.
    pub bucket: Option<String>,
    /// S3's error code (e.g. `AccessDenied`), when the server sent one.
    pub code: Option<String>,
    /// S3's error message, or a description of a failure without an answer.
    pub message: Option<String>,
    /// The HTTP status, when there was an HTTP answer.
    pub status: Option<u16>,
    /// The classification used for decisions and the hint.
    pub kind: S3ErrorKind,
    /// How long the call ran before it failed, for [`S3ErrorKind::TimedOut`].
    pub elapsed: Option<std::time::Duration>,
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.op)?;
        if let Some(b) = &self.bucket {
            write!(f, " on bucket {b:?}")?;
        }
        if self.kind == S3ErrorKind::MalformedAnswer {
            let what = self.message.as_deref().unwrap_or("no details");
            return write!(
                f,
                " returned a malformed body: {what} ({})",
                self.kind.hint()
            );
        }
        if self.kind == S3ErrorKind::TimedOut {
            let secs = self.elapsed.map_or(0.0, |e| e.as_secs_f64());
            return write!(f, " timed out after {secs:.0} s ({})", self.kind.hint());
        }
        f.write_str(": ")?;
        match (&self.code, &self.message) {
            (Some(c), Some(m)) => write!(f, "{c}: {m}")?,
            (Some(c), None) => f.write_str(c)?,
            (None, Some(m)) => f.write_str(m)?,
            (None, None) => match self.status {
                Some(s) => write!(f, "HTTP {s} without an error code")?,
                None => f.write_str("unknown error")?,
            },
        }
        write!(f, " ({})", self.kind.hint())
    }
}

impl S3Error {
    /// An error that did not come from S3's answer (e.g. a rule the SDK cannot build,
    /// or a value this tool cannot represent).
    pub fn other(op: &'static str, bucket: Option<&str>, message: impl Into<String>) -> Self {
        S3Error {
            op,
            bucket: bucket.map(str::to_owned),
            code: None,
            message: Some(message.into()),
            status: None,
            kind: S3ErrorKind::Other,
            elapsed: None,
        }
    }

    /// A successful answer whose body cannot be trusted; `what` says why.
    pub fn malformed(
        op: &'static str,
        bucket: Option<&str>,
        what: &str,
        status: Option<u16>,
    ) -> Self {
        S3Error {
            op,
            bucket: bucket.map(str::to_owned),
            code: None,
            message: Some(printable(what)),
            status,
            kind: S3ErrorKind::MalformedAnswer,
            elapsed: None,
        }
    }

    /// A call that got no answer within its time (`elapsed` since it started).
    pub fn timed_out(op: &'static str, bucket: Option<&str>, elapsed: std::time::Duration) -> Self {
        S3Error {
            op,
            bucket: bucket.map(str::to_owned),
            code: None,
            message: None,
            status: None,
            kind: S3ErrorKind::TimedOut,
            elapsed: Some(elapsed),
        }
    }

    /// This throttling error, saying how long the call kept trying.
    pub fn still_throttled(mut self, attempts: u32, elapsed: std::time::Duration) -> Self {
        let tried = format!(
            "Still throttled after {attempts} attempt{} in {:.1} s.",
            if attempts == 1 { "" } else { "s" },
            elapsed.as_secs_f64()
        );
        self.message = Some(match self.message.take() {
            Some(m) => format!("{m} {tried}"),
            None => tried,
        });
        self
    }

    /// Classify an SDK error. Public so tests that drive the SDK directly can check
    /// how an answer surfaces.
    pub fn from_sdk<E>(
        op: &'static str,
        bucket: Option<&str>,
        err: &SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let bucket = bucket.map(str::to_owned);
        let (status, header_region, body_region) = match err.raw_response() {
            Some(raw) => (
                Some(raw.status().as_u16()),
                raw.headers()
                    .get("x-amz-bucket-region")
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned),
                raw.body().bytes().and_then(region_from_error_body),
            ),
            None => (None, None, None),
        };
        if let Some(message) = credentials_problem(err) {
            return S3Error {
                op,
                bucket,
                code: None,
                message: Some(message),
                status: None,
                kind: S3ErrorKind::NoCredentials,
                elapsed: None,
            };
        }
        if let Some(found) = find_source::<MalformedAnswer>(err) {
            return S3Error::malformed(op, bucket.as_deref(), &found.0, status);
        }
        if find_source::<http_body_util::LengthLimitError>(err).is_some() {
            let too_large = answer::too_large(None);
            return S3Error::malformed(op, bucket.as_deref(), &too_large.0, status);
        }
        if matches!(err, SdkError::ResponseError(_)) && status.is_some_and(|s| s < 300) {
            // A successful status whose body could not be read or parsed.
            let why =
                std::error::Error::source(err).map_or_else(|| source_chain(err), source_chain);
            return S3Error::malformed(op, bucket.as_deref(), &why, status);
        }
        match err {
            SdkError::TimeoutError(_) => {
                return S3Error {
                    op,
                    bucket,
                    code: None,
                    message: Some(error_chain(err)),
                    status: None,
                    kind: S3ErrorKind::TimedOut,
                    elapsed: None,
                };
            }
            SdkError::DispatchFailure(failure) => {
                let timed_out = failure.as_connector_error().is_some_and(|c| c.is_timeout());
                return S3Error {
                    op,
                    bucket,
                    code: None,
                    message: Some(error_chain(err)),
                    status: None,
                    kind: if timed_out {
                        S3ErrorKind::TimedOut
                    } else {
                        S3ErrorKind::Network
                    },
                    elapsed: None,
                };
            }
            SdkError::ConstructionFailure(_) => {
                return S3Error {
                    op,
                    bucket,
                    code: None,
                    message: Some(error_chain(err)),
                    status: None,
                    kind: S3ErrorKind::Other,
                    elapsed: None,
                };
            }
            _ => {}
        }
        let code = err.code().map(printable);
        let message = err.message().map(printable).or_else(|| {
            // HeadBucket errors have no body; a response error has no metadata; an
            // error body that is not S3's XML is shown (safely) for what it is.
            let body = err.raw_response().and_then(|raw| raw.body().bytes());
            match body {
                Some(b) if code.is_none() && !b.is_empty() => Some(format!(
                    "HTTP {} with an error body that is not S3's XML: \"{}\"",
                    status.unwrap_or_default(),
                    printable(&String::from_utf8_lossy(&b[..b.len().min(MAX_EXCERPT)]))
                )),
                _ => matches!(err, SdkError::ResponseError(_)).then(|| source_chain(err)),
            }
        });
        let kind = classify(code.as_deref(), status, header_region.or(body_region));
        S3Error {
            op,
            bucket,
            code,
            message,
            status,
            kind,
            elapsed: None,
        }
    }

    /// The region S3 pointed at, for a wrong-region answer.
    pub fn redirect_region(&self) -> Option<&str> {
        match &self.kind {
            S3ErrorKind::WrongRegion { region } => region.as_deref(),
            _ => None,
        }
    }
}

/// Classify by S3's code first, then by HTTP status.
fn classify(code: Option<&str>, status: Option<u16>, region: Option<String>) -> S3ErrorKind {
    match code {
        Some("NoSuchBucket") => return S3ErrorKind::NoSuchBucket,
        Some(
            "AccessDenied"
            | "AllAccessDisabled"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "InvalidToken"
            | "AccountProblem",
        ) => return S3ErrorKind::AccessDenied,
        Some("InvalidRequest" | "InvalidArgument") => return S3ErrorKind::InvalidRequest,
        Some("MalformedXML") => return S3ErrorKind::MalformedXml,
        Some(
            "SlowDown"
            | "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequests"
            | "TooManyRequestsException"
            | "ServiceUnavailable",
        ) => return S3ErrorKind::Throttled,
        Some("PermanentRedirect" | "IllegalLocationConstraintException" | "Redirect") => {
            return S3ErrorKind::WrongRegion { region };
        }
        Some("AuthorizationHeaderMalformed" | "IllegalLocationConstraint") if region.is_some() => {
            return S3ErrorKind::WrongRegion { region };
        }
        _ => {}
    }
    match status {
        Some(301 | 307) => S3ErrorKind::WrongRegion { region },
        Some(404) if code.is_none() || code == Some("NotFound") => S3ErrorKind::NoSuchBucket,
        Some(403) => S3ErrorKind::AccessDenied,
        Some(429 | 503) => S3ErrorKind::Throttled,
        Some(400) if code == Some("AuthorizationHeaderMalformed") => S3ErrorKind::AccessDenied,
        _ => S3ErrorKind::Other,
    }
}

/// S3 names the bucket's region in some error bodies (`<Region>eu-west-1</Region>`).
fn region_from_error_body(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Region>")? + "<Region>".len();
    let len = text[start..].find("</Region>")?;
    let region = text[start..start + len].trim();
    (!region.is_empty()).then(|| region.to_owned())
}

/// A failure to load credentials, said briefly: the SDK reports it as a dispatch
/// failure whose source is a `CredentialsError`, with every provider of the chain
/// in its text (a thousand characters that end in a hint about the network).
fn credentials_problem(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(err);
    while let Some(e) = next {
        match e.downcast_ref::<CredentialsError>() {
            Some(CredentialsError::CredentialsNotLoaded(_)) => {
                return Some("no AWS credentials found".to_owned());
            }
            Some(other) => {
                return Some(format!(
                    "could not load AWS credentials: {}",
                    error_chain(other)
                ));
            }
            None => next = e.source(),
        }
    }
    None
}

/// Longest S3 error code or message kept, in characters.
const MAX_MESSAGE_CHARS: usize = 500;

/// Most bytes of an unreadable error body shown.
const MAX_EXCERPT: usize = 200;

/// S3's text as safe to print on a terminal: control characters (escape sequences,
/// bells, carriage returns) written as escapes, and at most [`MAX_MESSAGE_CHARS`]
/// characters. A server or proxy that sends an HTML page or terminal escapes as an
/// error message cannot repaint the user's terminal.
fn printable(text: &str) -> String {
    let capped: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    let mut out = crate::text::terminal_safe(&capped).into_owned();
    if text.chars().nth(MAX_MESSAGE_CHARS).is_some() {
        out.push_str("...");
    }
    out
}

/// The error and its sources on one line, as `DisplayErrorContext` renders them.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    aws_sdk_s3::error::DisplayErrorContext(err).to_string()
}

/// The error's sources, `: `-joined, without the debug dump of the raw response
/// that `DisplayErrorContext` appends.
fn source_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    printable(&parts.join(": "))
}

/// The first error of type `T` in `err`'s source chain.
fn find_source<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (code, HTTP status, region named by S3, expected kind)
    type Case = (
        Option<&'static str>,
        Option<u16>,
        Option<&'static str>,
        S3ErrorKind,
    );

    #[test]
    fn classifies_codes_and_statuses() {
        let cases: &[Case] = &[
            (
                Some("NoSuchBucket"),
                Some(404),
                None,
                S3ErrorKind::NoSuchBucket,
            ),
            (None, Some(404), None, S3ErrorKind::NoSuchBucket),
            (Some("NotFound"), Some(404), None, S3ErrorKind::NoSuchBucket),
            (
                Some("AccessDenied"),
                Some(403),
                None,
                S3ErrorKind::AccessDenied,
            ),
            (None, Some(403), None, S3ErrorKind::AccessDenied),
            (
                Some("InvalidRequest"),
                Some(400),
                None,
                S3ErrorKind::InvalidRequest,
            ),
            (
                Some("MalformedXML"),
                Some(400),
                None,
                S3ErrorKind::MalformedXml,
            ),
            (Some("SlowDown"), Some(503), None, S3ErrorKind::Throttled),
            (None, Some(429), None, S3ErrorKind::Throttled),
            (
                Some("PermanentRedirect"),
                Some(301),
                Some("eu-west-1"),
                S3ErrorKind::WrongRegion {
                    region: Some("eu-west-1".into()),
                },
            ),
            (
                None,
                Some(301),
                None,
                S3ErrorKind::WrongRegion { region: None },
            ),
            (
                Some("AuthorizationHeaderMalformed"),
                Some(400),
                Some("ap-south-1"),
                S3ErrorKind::WrongRegion {
                    region: Some("ap-south-1".into()),
                },
            ),
            (
                Some("AuthorizationHeaderMalformed"),
                Some(400),
                None,
                S3ErrorKind::AccessDenied,
            ),
            (
                Some("IllegalLocationConstraint"),
                Some(400),
                Some("us-west-2"),
                S3ErrorKind::WrongRegion {
                    region: Some("us-west-2".into()),
                },
            ),
            (Some("InternalError"), Some(500), None, S3ErrorKind::Other),
        ];
        for (code, status, region, want) in cases {
            let got = classify(*code, *status, region.map(str::to_owned));
            assert_eq!(
                &got, want,
                "code {code:?} status {status:?} region {region:?}"
            );
        }
    }

    #[test]
    fn reads_region_from_error_body() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "<Error><Code>AuthorizationHeaderMalformed</Code><Region>eu-west-1</Region></Error>",
                Some("eu-west-1"),
            ),
            ("<Error><Code>PermanentRedirect</Code></Error>", None),
            ("<Region></Region>", None),
            ("", None),
        ];
        for (body, want) in cases {
            assert_eq!(
                region_from_error_body(body.as_bytes()).as_deref(),
                *want,
                "{body}"
            );
        }
    }

    #[test]
    fn missing_credentials_are_said_once_and_plainly() {
        use aws_sdk_s3::operation::get_bucket_cors::GetBucketCorsError;
        use aws_smithy_runtime_api::client::result::ConnectorError;
        let dispatch = |cause: CredentialsError| -> SdkError<GetBucketCorsError, HttpResponse> {
            SdkError::dispatch_failure(ConnectorError::other(Box::new(cause), None))
        };
        let err = S3Error::from_sdk(
            "GetBucketCors",
            Some("b"),
            &dispatch(CredentialsError::not_loaded(
                "no providers in chain provided credentials",
            )),
        );
        assert_eq!(err.kind, S3ErrorKind::NoCredentials);
        let shown = err.to_string();
        assert!(
            shown.starts_with(
                "GetBucketCors on bucket \"b\": no AWS credentials found (set AWS_PROFILE"
            ),
            "{shown}"
        );
        assert!(
            shown.contains("AWS_ACCESS_KEY_ID") && shown.len() < 400,
            "{shown}"
        );
        assert!(!shown.contains("network"), "{shown}");

        let expired = S3Error::from_sdk(
            "ListBuckets",
            None,
            &dispatch(CredentialsError::provider_error(
                "the SSO session has expired",
            )),
        );
        assert_eq!(expired.kind, S3ErrorKind::NoCredentials);
        assert!(
            expired
                .to_string()
                .contains("could not load AWS credentials: ")
                && expired.to_string().contains("the SSO session has expired"),
            "{expired}"
        );

        let refused = S3Error::from_sdk(
            "GetBucketCors",
            Some("b"),
            &SdkError::<GetBucketCorsError, HttpResponse>::dispatch_failure(ConnectorError::io(
                Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            )),
        );
        assert_eq!(refused.kind, S3ErrorKind::Network);
    }

    #[test]
    fn printable_escapes_control_characters_and_caps_length() {
        let cases: &[(&str, &str)] = &[
            ("Access Denied", "Access Denied"),
            ("\x1b[31mRED\x1b[0m\x07", "\\u{1b}[31mRED\\u{1b}[0m\\u{7}"),
            ("line\r\nnext", "line\\r\\nnext"),
            ("<html><b>x</b></html>", "<html><b>x</b></html>"),
        ];
        for (raw, want) in cases {
            assert_eq!(printable(raw), *want, "{raw:?}");
        }
        let long = "é".repeat(2000);
        assert_eq!(printable(&long).chars().count(), MAX_MESSAGE_CHARS + 3);
    }

    #[test]
    fn display_names_op_bucket_code_message_and_hint() {
        let err = S3Error {
            op: "GetBucketCors",
            bucket: Some("x".into()),
            code: Some("AccessDenied".into()),
            message: Some("Access Denied".into()),
            status: Some(403),
            kind: S3ErrorKind::AccessDenied,
            elapsed: None,
        };
        let shown = err.to_string();
        assert!(
            shown.starts_with("GetBucketCors on bucket \"x\": AccessDenied: Access Denied (check the credentials/profile"),
            "{shown}"
        );
        let slow = S3Error::timed_out(
            "GetBucketCors",
            Some("x"),
            std::time::Duration::from_millis(6400),
        );
        assert!(
            slow.to_string().starts_with(
                "GetBucketCors on bucket \"x\" timed out after 6 s (S3 did not answer"
            ),
            "{slow}"
        );
        let list = S3Error::other("ListBuckets", None, "boom");
        assert!(
            list.to_string().starts_with("ListBuckets: boom ("),
            "{list}"
        );
    }
}
