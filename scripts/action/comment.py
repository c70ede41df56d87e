#!/usr/bin/env python3
"""Posts s3cors' markdown report as ONE pull-request comment, updated in place.

The comment starts with a hidden marker, `<!-- s3cors:plan -->` (S3CORS_MARKER
names it: the command, and the action's comment-key if any). The first run on a
pull request creates the comment; later runs find the comment carrying the marker
(through every page of the pull request's comments) and edit it, so a pull
request has one s3cors comment per marker however often it is planned. Comments
without the marker are never touched.

Environment (the action sets it; standard library only, so any runner's python3
runs it):
  S3CORS_BODY        the markdown file to post
  S3CORS_MARKER      the marker's text, e.g. s3cors:plan
  GITHUB_TOKEN       a token allowed to write pull-request comments
  GITHUB_REPOSITORY  owner/name
  GITHUB_API_URL     default https://api.github.com
  S3CORS_PR          the pull request's number; default: the event's
                     (GITHUB_EVENT_PATH: pull_request.number, or issue.number)
  GITHUB_OUTPUT      where comment-url is written

Exit 0 when the comment is posted or updated, and when there is no pull request
to comment on (a notice says so) or the token may not write (a warning: pull
requests from forks get a read-only token); 1 on any other failure.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

# GitHub refuses comments over 65,536 characters; s3cors' markdown stays under
# 60,000, so this only guards against a body from elsewhere.
MAX_BODY = 65_000


def marker_line(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.:/-]+", name) or "--" in name:
        raise ValueError(
            f"comment marker {name!r}: use letters, digits and _ . : / - (no '--')"
        )
    return f"<!-- {name} -->"


def pull_request_number() -> int | None:
    given = os.environ.get("S3CORS_PR", "").strip()
    if given:
        return int(given)
    event_path = os.environ.get("GITHUB_EVENT_PATH")
    if not event_path or not Path(event_path).is_file():
        return None
    event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    for key in ("pull_request", "issue"):
        number = (event.get(key) or {}).get("number")
        if isinstance(number, int):
            return number
    return None


class GitHub:
    def __init__(self, api: str, token: str) -> None:
        self.api = api.rstrip("/")
        self.token = token

    def request(self, method: str, url: str, body: dict | None = None):
        if not url.startswith("http"):
            url = self.api + url
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("X-GitHub-Api-Version", "2022-11-28")
        req.add_header("User-Agent", "s3cors-action")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            payload = json.loads(resp.read() or b"null")
            return payload, resp.headers.get("Link", "")

    def comments(self, repo: str, number: int):
        """Every comment of the pull request, page by page (Link: rel="next")."""
        url = f"/repos/{repo}/issues/{number}/comments?per_page=100"
        while url:
            page, link = self.request("GET", url)
            yield from page
            found = re.search(r'<([^>]+)>;\s*rel="next"', link)
            url = found.group(1) if found else ""


def upsert(
    gh: GitHub, repo: str, number: int, marker: str, text: str
) -> tuple[str, dict]:
    """Creates or updates the comment carrying `marker`; ("created" | "updated", comment)."""
    body = f"{marker}\n{text}"
    if len(body) > MAX_BODY:
        cut = "\n\n… (cut: the report is longer than a comment may be; see the job summary)"
        body = body[: MAX_BODY - len(cut)] + cut
    for comment in gh.comments(repo, number):
        if marker in (comment.get("body") or ""):
            updated, _ = gh.request(
                "PATCH",
                f"/repos/{repo}/issues/comments/{comment['id']}",
                {"body": body},
            )
            return "updated", updated
    created, _ = gh.request(
        "POST", f"/repos/{repo}/issues/{number}/comments", {"body": body}
    )
    return "created", created


def main() -> int:
    try:
        marker = marker_line(os.environ.get("S3CORS_MARKER", "s3cors:plan"))
        text = Path(os.environ["S3CORS_BODY"]).read_text(encoding="utf-8")
        number = pull_request_number()
    except (KeyError, OSError, ValueError) as e:
        print(f"::error title=s3cors comment::{e}", file=sys.stderr)
        return 1
    if number is None:
        print("::notice title=s3cors comment::not a pull request: no comment posted")
        return 0
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    gh = GitHub(
        os.environ.get("GITHUB_API_URL", "https://api.github.com"),
        os.environ.get("GITHUB_TOKEN", ""),
    )
    try:
        what, comment = upsert(gh, repo, number, marker, text)
    except urllib.error.HTTPError as e:
        detail = e.read().decode("utf-8", "replace")[:500]
        if e.code == 403:
            print(
                "::warning title=s3cors comment::the token may not comment on "
                f"pull request #{number} (403: {detail}); pull requests from forks get "
                "a read-only token; give the job `permissions: pull-requests: write`",
                file=sys.stderr,
            )
            return 0
        print(
            f"::error title=s3cors comment::{e.code} {e.reason}: {detail}",
            file=sys.stderr,
        )
        return 1
    except (urllib.error.URLError, OSError, ValueError) as e:
        print(
            f"::error title=s3cors comment::cannot reach the GitHub API: {e}",
            file=sys.stderr,
        )
        return 1
    url = comment.get("html_url", "")
    print(f"s3cors: {what} the comment on pull request #{number}: {url}")
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as f:
            f.write(f"comment-url={url}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
