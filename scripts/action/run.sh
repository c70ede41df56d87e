#!/usr/bin/env bash
# The s3cors GitHub Action's steps (action.yml), kept here so that shellcheck
# lints them and tests/it/action*.rs runs them outside GitHub.
#
#   run.sh prepare   check the inputs; choose the s3cors build, its install folder
#                    and cache key (outputs: install, root, bin, cache-key, commit)
#   run.sh install   cargo install that build into S3CORS_ROOT
#   run.sh run       run s3cors (plan, apply, drift, validate, verify, or show of
#                    saved plans); write the report, the outputs (exit-code,
#                    has-changes, report, plan-file, markdown, sarif-file) and the
#                    job summary; exit 0 when s3cors exited 0 or 2, else 1
#
# Inputs come as INPUT_* variables (set by action.yml, never spliced into the
# script), outputs go to GITHUB_OUTPUT. S3CORS_ACTION_DRY_RUN=1 makes `run` print
# the s3cors command line, one word per line, and run nothing (the recipe tests
# check the examples' command lines this way).
set -euo pipefail

COMMANDS="plan apply drift validate verify show"
FORMATS="human json markdown sarif junit html"

fail() { echo "::error title=s3cors action::$*" >&2; exit 1; }
output() { echo "$1=$2" >>"${GITHUB_OUTPUT:-/dev/null}"; }
one_of() { [[ " $2 " == *" $1 "* ]]; }

check_inputs() {
    local command="${INPUT_COMMAND:-}" format="${INPUT_FORMAT:-markdown}"
    one_of "$command" "$COMMANDS" \
        || fail "command: '$command' is not one of: $COMMANDS"
    one_of "$format" "$FORMATS" \
        || fail "format: '$format' is not one of: $FORMATS"
    if [[ "${INPUT_COMMENT:-false}" == true && "$command" != plan && "$format" != markdown ]]; then
        fail "comment: true needs format: markdown for $command (plan renders its comment from the saved plan, whatever the format)"
    fi
    [[ "${INPUT_COMMENT:-false}" == true || "${INPUT_COMMENT:-false}" == false ]] \
        || fail "comment: '${INPUT_COMMENT}' is not true or false"
}

prepare() {
    check_inputs
    local version="${INPUT_VERSION:-action}" base key commit=""
    base="${RUNNER_TOOL_CACHE:-$HOME/.cache}/s3cors"
    case "$version" in
    path)
        command -v s3cors >/dev/null || fail "version: path, but no s3cors on PATH"
        output install false
        output bin s3cors
        return
        ;;
    action)
        # The source this action was checked out at: its digest names the build.
        local digest
        digest="$(cd "$GITHUB_ACTION_PATH" \
            && find Cargo.toml Cargo.lock build.rs src -type f -print0 | sort -z \
            | xargs -0 sha256sum | sha256sum | cut -c1-16)"
        key="source-$digest"
        # --version names the commit when `uses:` names one (a tag has dots,
        # which build.rs does not take).
        if [[ "${GITHUB_ACTION_REF:-}" =~ ^[0-9a-f]{40}$ ]]; then
            commit="${GITHUB_ACTION_REF:0:7}"
        fi
        ;;
    *)
        [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] \
            || fail "version: '$version' is not action, path, or a version such as 0.1.0"
        key="registry-$version"
        ;;
    esac
    local root="$base/$key"
    output root "$root"
    output bin "$root/bin/s3cors"
    output commit "$commit"
    output cache-key "s3cors-${RUNNER_OS_ARCH:-local}-$key"
    # Installed by an earlier step of this job: nothing to restore or build.
    if [[ -x "$root/bin/s3cors" ]]; then output install false; else output install true; fi
    echo "$root/bin" >>"${GITHUB_PATH:-/dev/null}"
}

install() {
    command -v cargo >/dev/null \
        || fail "cargo is not on PATH: install a Rust toolchain first (e.g. dtolnay/rust-toolchain), or use version: path"
    local version="${INPUT_VERSION:-action}"
    if [[ "$version" == action ]]; then
        cargo install --locked --root "$S3CORS_ROOT" --path "$GITHUB_ACTION_PATH"
    else
        cargo install --locked --root "$S3CORS_ROOT" --version "$version" s3cors
    fi
    "$S3CORS_ROOT/bin/s3cors" --version
}

run() {
    check_inputs
    local command="$INPUT_COMMAND" format="${INPUT_FORMAT:-markdown}" bin="${S3CORS_BIN:-s3cors}"
    local -a paths extra argv
    # Words separated by spaces or newlines. A path with * ? or [ that matches
    # files stands for them, sorted (show's plan-*.json); one that matches
    # nothing stays as written, for s3cors to name. args are never globbed.
    local -a words
    read -r -d '' -a words <<<"${INPUT_PATHS:-policies/}" || true
    read -r -d '' -a extra <<<"${INPUT_ARGS:-}" || true
    paths=()
    local word match
    for word in "${words[@]}"; do
        if [[ "$word" == *[*?[]* ]] && compgen -G "$word" >/dev/null; then
            while IFS= read -r match; do paths+=("$match"); done < <(compgen -G "$word" | LC_ALL=C sort)
        else
            paths+=("$word")
        fi
    done
    local plan_file="${INPUT_PLAN_FILE:-}"

    argv=(--format "$format" "$command")
    case "$command" in
    plan)
        plan_file="${plan_file:-s3cors.plan.json}"
        argv+=("${paths[@]}" --out "$plan_file" --detailed-exitcode)
        ;;
    apply)
        if [[ -n "$plan_file" ]]; then
            argv+=("$plan_file")
        else
            local p
            for p in "${paths[@]}"; do argv+=(--policies "$p"); done
        fi
        ;;
    *) argv+=("${paths[@]}") ;;
    esac
    argv+=("${extra[@]}")

    if [[ "${S3CORS_ACTION_DRY_RUN:-}" == 1 ]]; then
        printf '%s\n' s3cors "${argv[@]}"
        return 0
    fi

    local tmp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}" ext report
    case "$format" in
    human) ext=txt ;; markdown) ext=md ;; junit) ext=xml ;; *) ext="$format" ;;
    esac
    if [[ -n "${INPUT_REPORT_FILE:-}" ]]; then
        report="$INPUT_REPORT_FILE"
        mkdir -p "$(dirname "$report")"
    else
        report="$(mktemp "$tmp/s3cors-$command.XXXXXX.$ext")"
    fi
    report="$(realpath -m "$report")"
    local errors
    errors="$(mktemp "$tmp/s3cors-$command.XXXXXX.stderr")"

    echo "::group::s3cors ${argv[*]}" >&2
    # stdout to the report; stderr to the log and, for a failure's comment, a file.
    local code
    set +e
    "$bin" "${argv[@]}" 2>&1 >"$report" | tee "$errors" >&2
    code="${PIPESTATUS[0]}"
    set -e
    echo "::endgroup::" >&2
    if [[ "$format" == human || "$format" == markdown ]]; then
        cat "$report"
    else
        echo "s3cors: the $format report is $report ($(wc -c <"$report") bytes)"
    fi

    output exit-code "$code"
    output has-changes "$([[ $code == 2 ]] && echo true || echo false)"
    output report "$report"
    output sarif-file "$([[ $format == sarif ]] && echo "$report" || true)"
    if [[ "$command" == plan && -f "$plan_file" && $code != 1 ]]; then
        output plan-file "$(realpath "$plan_file")"
    else
        output plan-file ""
    fi

    # The markdown report: the report itself, or a saved plan rendered by `show`
    # (no S3 calls), or, after an error, the error for the pull-request comment.
    local markdown=""
    if [[ "$format" == markdown && -s "$report" ]]; then
        markdown="$report"
    elif [[ "$command" == plan && -f "$plan_file" && $code != 1 ]]; then
        markdown="$(mktemp "$tmp/s3cors-plan.XXXXXX.md")"
        "$bin" --format markdown show "$plan_file" >"$markdown" \
            || { echo "::warning::s3cors show $plan_file failed: no markdown plan" >&2; markdown=""; }
    fi
    if [[ -z "$markdown" && $code != 0 && $code != 2 ]]; then
        markdown="$(mktemp "$tmp/s3cors-$command.XXXXXX.md")"
        local invalid=""
        # Policy errors stop plan, drift and verify first; in a format other than
        # markdown they are not in the log as text, so validate (offline) says them.
        if [[ "$command" != apply ]] \
            && ! "$bin" --format markdown validate "${paths[@]}" >"$markdown.validate" 2>/dev/null; then
            invalid="$markdown.validate"
        fi
        {
            echo "### s3cors $command failed (exit $code)"
            echo
            if [[ -n "$invalid" ]]; then
                echo "The policies have errors:"
                echo
                cat "$invalid"
            else
                echo "The last lines it wrote:"
                echo
                echo '~~~~text'
                tail -n 40 "$errors" | grep -v '^~~~~' || true
                echo '~~~~'
            fi
            if [[ -n "${GITHUB_RUN_ID:-}" ]]; then
                echo
                echo "[The whole log](${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/$GITHUB_RUN_ID)"
            fi
        } >"$markdown.tmp"
        mv "$markdown.tmp" "$markdown"
        rm -f "$markdown.validate"
    fi
    output markdown "$markdown"
    if [[ -n "$markdown" && "${INPUT_SUMMARY:-true}" == true && -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
        cat "$markdown" >>"$GITHUB_STEP_SUMMARY"
    fi
    rm -f "$errors"

    case "$code" in
    0) ;;
    2) echo "s3cors $command exited 2: $([[ $command == plan ]] && echo changes pending || echo drift found)" >&2 ;;
    *) fail "s3cors $command failed (exit $code)" ;;
    esac
}

case "${1:-}" in
prepare) prepare ;;
install) install ;;
run) run ;;
*) fail "usage: run.sh prepare|install|run" ;;
esac
