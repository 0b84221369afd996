"""The command line: parse options, call the engine, set the exit status. Nothing else."""
from __future__ import annotations

import difflib
import os
import re
import shlex
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rewriter import __version__
from rewriter.exits import EXIT_FAILED, EXIT_USAGE

if TYPE_CHECKING:
    from rich.console import Console

    from rewriter.report import Report

# Start-up imports only click: `--version` and `--help` answer at once, and each command imports what it needs
# when it runs (the engine and LibCST alone take half a second). tests/test_startup.py keeps it so.

_PROGRESS_THRESHOLD = 20
# engine.DEFAULT_TIME_LIMIT and gate.DEFAULT_TIMEOUT, which option defaults need before any command runs;
# tests/test_startup.py pins them equal.
_TIME_LIMIT = 60.0
_TEST_TIMEOUT = 600


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


_COLOR = "lambda_rewriter.color"


def _keep_color(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_root().meta[_COLOR] = value


def _color_option(f):
    return click.option(
        "--color", type=click.Choice(["auto", "always", "never"]), default=None, expose_value=False,
        callback=_keep_color, is_eager=True,
        help="Colour the output: on a terminal (auto, the default; NO_COLOR turns it off, FORCE_COLOR on), always, never.",
    )(f)


def _colour(stream, ctx: click.Context | None = None) -> bool:
    """Whether to colour what goes to ``stream``: --color, else NO_COLOR, else FORCE_COLOR, else a terminal."""
    ctx = ctx or click.get_current_context(silent=True)
    chosen = ctx.find_root().meta.get(_COLOR, "auto") if ctx is not None else "auto"
    if chosen != "auto":
        return chosen == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _stderr(ctx: click.Context | None = None) -> Console:
    from rich.console import Console

    colour = _colour(sys.stderr, ctx)
    # The colour is decided above, and a progress bar only on a real terminal (see _run): rich's own reading of
    # NO_COLOR and FORCE_COLOR is overridden, so that --color wins over both.
    return Console(stderr=True, highlight=False, force_terminal=colour, no_color=not colour,
                   color_system="standard" if colour else None)


def _manifest_or_exit(manifest: Path, console, refused: str | None = None) -> list:
    """The repositories of MANIFEST; each problem of a manifest that does not load is an `error:` line (exit 2)."""
    from rewriter import manifest as manifests

    try:
        return manifests.load(manifest)
    except manifests.ManifestError as error:
        for problem in error.problems:
            console.print(f"[red]error:[/red] {escape(problem)}", soft_wrap=True)
        if refused:
            console.print(refused, soft_wrap=True)
        sys.exit(EXIT_USAGE)


def _codemod_option(f):
    return click.option(
        "-c",
        "--codemod",
        "codemods",
        multiple=True,
        metavar="CODEMOD",
        help="Run this codemod (repeat for several; default: all). See `lambda-rewriter list`.",
    )(f)


def _jobs_option(f):
    return click.option(
        "-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: CPUs)."
    )(f)


def _time_limit_option(f):
    return click.option(
        "--time-limit", type=click.FloatRange(min=0), default=_TIME_LIMIT, show_default=True,
        metavar="SECONDS", help="Stop a file that takes longer and report it as an error (0: no limit).",
    )(f)


def _cache_option(f):
    return click.option(
        "--no-cache", is_flag=True, help="Analyse every file again; do not read or write the result cache."
    )(f)


_CONFIG = "lambda_rewriter.config"


def _keep_config(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    ctx.meta[_CONFIG] = value


def _config_option(f):
    return click.option(
        "--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), expose_value=False,
        callback=_keep_config, metavar="FILE",
        help="Settings from this file (pyproject.toml or lambda-rewriter.toml), not the one found above PATH.",
    )(f)


def _config_file() -> Path | None:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_CONFIG) if ctx is not None else None


_EXCLUDE = "lambda_rewriter.exclude"


def _keep_exclude(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> None:
    if value:
        ctx.meta.setdefault(_EXCLUDE, {})[param.name] = value


def _exclude_options(f):
    f = click.option(
        "--extend-exclude", multiple=True, metavar="GLOB", expose_value=False, callback=_keep_exclude,
        help="Leave these files and folders out too, on top of the configuration's exclude (repeat for several).",
    )(f)
    return click.option(
        "--exclude", multiple=True, metavar="GLOB", expose_value=False, callback=_keep_exclude,
        help="Leave these files and folders out instead of the configuration's exclude (gitignore-style; repeat).",
    )(f)


def _excludes() -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """(--exclude, or None when not given; --extend-exclude)."""
    ctx = click.get_current_context(silent=True)
    given = ctx.meta.get(_EXCLUDE, {}) if ctx is not None else {}
    return given.get("exclude"), given.get("extend_exclude", ())


_RUNTIME = "lambda_rewriter.runtime"
_RUNTIMES = ("nodejs22.x", "nodejs24.x")  # config.RUNTIME_CHOICES, without importing config at start-up


def _runtime_option(f):
    return click.option(
        "--runtime", type=click.Choice(_RUNTIMES), expose_value=False, metavar="RUNTIME",
        callback=lambda ctx, param, value: ctx.meta.__setitem__(_RUNTIME, value),
        help="sdk-v3: move the templates' functions whose code is on v3 to this runtime (nodejs22.x, nodejs24.x).",
    )(f)


def _with_runtime(planned):
    """The plan with the `--runtime` of the command line, which wins over the setting."""
    ctx = click.get_current_context(silent=True)
    runtime = ctx.meta.get(_RUNTIME) if ctx is not None else None
    if runtime is None:
        return planned
    import dataclasses

    options = dataclasses.replace(planned.settings.options, runtime=runtime)
    planned.jobs = [dataclasses.replace(job, options=options) for job in planned.jobs]
    return planned


def _estimate_option(f):
    return click.option(
        "--estimate", is_flag=True,
        help="Per function, estimate what hoisted client construction saves per warm invocation (measured costs).",
    )(f)


def _print_estimates(report: Report, to_stdout: bool) -> None:
    from codemods import estimates

    for line in estimates.lines(report.results):
        click.echo(line, err=not to_stdout)


def _paths_argument(f):
    return click.argument(
        "paths", nargs=-1, type=click.Path(exists=True, file_okay=True, dir_okay=True, path_type=Path)
    )(f)


_VERBOSITY = "lambda_rewriter.verbosity"


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        if ctx.meta.get(_VERBOSITY, param.name) != param.name:
            raise click.UsageError("give --quiet or --verbose, not both")
        ctx.meta[_VERBOSITY] = param.name


def _verbosity_options(f):
    f = click.option(
        "-v", "--verbose", is_flag=True, expose_value=False, callback=_set_verbosity,
        help="Also name the configuration file used and list every change and note, with the notes of files that "
        "would not change.",
    )(f)
    return click.option(
        "-q", "--quiet", is_flag=True, expose_value=False, callback=_set_verbosity,
        help="Print errors only (a diff, JSON or SARIF you asked for still goes out).",
    )(f)


def _verbosity() -> str:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_VERBOSITY, "normal") if ctx is not None else "normal"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="lambda-rewriter")
@_color_option
def cli() -> None:
    """Rewrite AWS Lambda functions to reuse clients and connections and ship only what they use."""
    from rewriter import pool

    # Here, not in main(): --version and --help end before this runs, without importing multiprocessing.
    click.get_current_context().with_resource(pool.sigterm_unwinds())


@cli.command("list")
def list_codemods() -> None:
    """List the codemods, the languages they read, and what they do."""
    from codemods import all_codemods

    rows = [
        (name, ", ".join(language + (" (opt-in)" if getattr(impl, "OPT_IN", False) else "")
                         for impl in impls for language in impl.LANGUAGES),
         impls[0].DESCRIPTION)
        for name, impls in all_codemods().items()
    ]
    widths = [max((len(row[i]) for row in rows), default=0) for i in (0, 1)]
    for name, languages, description in rows:
        click.echo(f"{name:<{widths[0]}}  {languages:<{widths[1]}}  {description}")


def _known_codemods(names) -> None:
    """An unknown name is a usage error that names the nearest known one: `-c hoist-client` is a typo."""
    from codemods import all_codemods

    known = list(all_codemods())
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}"
            raise click.BadParameter(f"unknown codemod {name} ({hint})", param_hint="'-c' / '--codemod'")


def _run(
    mode, paths: tuple[Path, ...], codemods: tuple[str, ...], jobs: int | None, no_cache: bool = False,
    time_limit: float = _TIME_LIMIT,
) -> Report:
    import dataclasses

    from rewriter import config, engine
    from rewriter.cache import ResultCache
    from rewriter.plan import plan
    from rewriter.report import Report
    from rewriter.writeback import WriteBack

    console = _stderr()
    cache = None if no_cache else ResultCache.default()
    refused = None if cache is None else cache.refusal()
    if refused is not None:
        # Another user could have planted results there: run as with --no-cache, and say so once.
        console.print(f"[yellow]warning:[/yellow] result cache not used: {escape(refused)}; running without it",
                      soft_wrap=True)
        cache = None
    elif cache is not None and mode is WriteBack.APPLY:
        cache = dataclasses.replace(cache, serves_changes=False)  # what apply writes is always worked out afresh
    elif cache is not None and mode is WriteBack.CHECK:
        cache = dataclasses.replace(cache, shows_code=False)  # check reports findings, never the code
    exclude, extend_exclude = _excludes()
    try:
        planned = _with_runtime(plan(list(paths), _config_file(), cache_dir=None if cache is None else cache.root,
                                     exclude=exclude, extend_exclude=extend_exclude))
    except config.ConfigError as error:
        raise click.UsageError(str(error)) from None
    settings, work = planned.settings, planned.jobs
    selected = settings.selected(codemods)
    _known_codemods(selected)
    if mode is WriteBack.CHECK:
        # A typo in a path or an include glob would select nothing, and a check of nothing passes: refuse it.
        # The implicit `.` is exempt: a repository with nothing to read has nothing to change.
        empty = (planned.empty_paths() if paths else []) + planned.unmatched_includes()
        if empty:
            raise click.UsageError("; ".join(empty))
    if _verbosity() == "verbose":  # which file decided, when a setting surprises
        console.print(f"config: {config.shown(settings.source) if settings.source else 'none'}", markup=False,
                      soft_wrap=True)
    if _verbosity() != "quiet":
        for warning in planned.warnings:
            console.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)
    workers = jobs or settings.jobs or engine.default_workers()
    if sys.stderr.isatty() and len(work) >= _PROGRESS_THRESHOLD and _verbosity() != "quiet":
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("rewriting", total=len(work))
            results = engine.run(work, tuple(selected), workers, lambda _: progress.advance(task), cache,
                                 time_limit or None)
    else:
        results = engine.run(work, tuple(selected), workers, cache=cache, time_limit=time_limit or None)
    # Relative paths in, relative paths out: text output names files from where the user stands.
    here = None if any(path.is_absolute() for path in paths) else Path.cwd()
    return Report(mode, results, planned.problems, relative_to=here)


def _finish(report: Report, next_step: str | None = None) -> None:
    from rewriter.writeback import WriteBack

    console = _stderr()
    for path, reason in report.failures:
        console.print(f"[red]error:[/red] {escape(path)}: {escape(reason)}", soft_wrap=True)
    if _verbosity() == "verbose" and report.mode is not WriteBack.CHECK:
        for line in report.text_lines(verbose=True):
            console.print(line, markup=False, soft_wrap=True)
    if _verbosity() != "quiet":
        console.print(report.summary(), soft_wrap=True)
        if next_step is not None and not report.failures:
            console.print(next_step, soft_wrap=True, markup=False)
    sys.exit(report.return_code)


@cli.command()
@_paths_argument
@_codemod_option
@_jobs_option
@_cache_option
@_time_limit_option
@_estimate_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write here, not to stdout.")
@_verbosity_options
@_config_option
@_exclude_options
@_color_option
@_runtime_option
def diff(paths, codemods, jobs, no_cache, time_limit, estimate, fmt, output) -> None:
    """Show what would change, as a unified diff that `git apply` takes. Writes nothing."""
    from rewriter.diff import summarize, unified_diff
    from rewriter.engine import Status
    from rewriter.report import plural
    from rewriter.writeback import WriteBack

    report = _run(WriteBack.DIFF, paths, codemods, jobs, no_cache, time_limit)
    diffs = {
        r.path: unified_diff(r.path, r.before, r.after)
        for r in report.results
        if r.status is Status.CHANGED and r.before is not None and r.after is not None
    }
    if fmt == "json":
        payload = (report.as_json({p: d.decode("utf-8", "replace") for p, d in diffs.items()}) + "\n").encode()
    else:
        payload = b"".join(diffs.values())
    if output is not None:
        output.write_bytes(payload)
    else:
        stdout = sys.stdout.buffer  # bytes as they are: a diff may hold latin-1 or CRLF lines
        if fmt == "text" and _colour(sys.stdout):
            _print_coloured(payload)
        else:
            stdout.write(payload)
            stdout.flush()
    if diffs and fmt == "text" and _verbosity() != "quiet":
        s = summarize(payload)
        _stderr().print(f"{plural(s['files'], 'file')}, {plural(s['hunks'], 'hunk')}, +{s['added']} -{s['removed']} lines")
    if estimate:
        _print_estimates(report, to_stdout=False)  # stdout holds the patch
    _finish(report)


def _print_coloured(payload: bytes) -> None:
    from rich.console import Console

    console = Console(highlight=False, force_terminal=True, color_system="standard")
    for line in payload.decode("utf-8", "replace").splitlines():
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else "cyan" if line.startswith("@@") else None
        console.print(line, style=style, markup=False, soft_wrap=True)


@cli.command()
@_paths_argument
@_codemod_option
@_jobs_option
@_cache_option
@click.option(
    "--patch",
    "patch_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Apply this (reviewed, maybe cut) patch from `diff --output` instead of running codemods.",
)
@_time_limit_option
@_verbosity_options
@_config_option
@_exclude_options
@_color_option
@_runtime_option
def apply(paths, codemods, jobs, no_cache, patch_file, time_limit) -> None:
    """Rewrite the files in place (atomically; a file that changed meanwhile is left alone)."""
    from rewriter.engine import Status
    from rewriter.writeback import WriteBack, write_atomic

    if patch_file is not None:
        _apply_patch(paths, codemods, patch_file)
    report = _run(WriteBack.APPLY, paths, codemods, jobs, no_cache, time_limit)
    for result in report.results:
        if result.status is not Status.CHANGED or result.after is None:
            continue
        try:
            write_atomic(Path(result.abspath), result.after, expected=result.before)
        except OSError as error:
            result.status, result.reason = Status.ERROR, f"not written: {error}"
    _finish(report)


def _apply_patch(paths: tuple[Path, ...], codemods: tuple[str, ...], patch_file: Path) -> None:
    from rewriter import patch
    from rewriter.discovery import find_root
    from rewriter.report import plural

    if codemods or len(paths) > 1:
        raise click.UsageError("--patch applies the patch as it is: give at most one PATH (the root) and no -c")
    root = find_root((paths[0] if paths else Path(".")).resolve())
    try:
        applied = patch.apply(root, patch_file.read_bytes())
    except (patch.PatchError, OSError) as error:
        _stderr().print(f"[red]error:[/red] {escape(str(error))}; patch refused: no file was changed", soft_wrap=True)
        sys.exit(EXIT_FAILED)
    for path in applied.files:
        click.echo(path)
    _stderr().print(
        f"patched {plural(len(applied.files), 'file')}, {plural(applied.hunks, 'hunk')}, +{applied.added} "
        f"-{applied.removed} lines", soft_wrap=True,
    )
    sys.exit(0)


@cli.command()
@_paths_argument
@_codemod_option
@_jobs_option
@_cache_option
@_time_limit_option
@_estimate_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write here, not to stdout.")
@_verbosity_options
@_config_option
@_exclude_options
@_color_option
@_runtime_option
def check(paths, codemods, jobs, no_cache, time_limit, estimate, fmt, output) -> None:
    """Exit 1 when some file would change; list the changes (`path:line:col: CODE message`) and the notes."""
    from rewriter.sarif import as_sarif
    from rewriter.writeback import WriteBack

    report = _run(WriteBack.CHECK, paths, codemods, jobs, no_cache, time_limit)
    verbose = _verbosity() == "verbose"
    if fmt == "json":
        text = report.as_json()
    elif fmt == "sarif":
        text = as_sarif(report, verbose)
    else:
        text = "" if _verbosity() == "quiet" else "\n".join(report.text_lines(verbose))
    if output is not None:
        output.write_text(text + "\n" if text else "", encoding="utf-8")
    elif text:
        colour = fmt == "text" and _colour(sys.stdout)
        click.echo(_coloured_findings(text) if colour else text, color=colour)
    if estimate:
        _print_estimates(report, to_stdout=fmt == "text" and output is None)
    _finish(report, next_step=_next_step(report, paths, codemods))


_FINDING = re.compile(r"^(?P<where>.*?:\d+:\d+:) (?P<code>LR\d{3}) (?P<note>note: )?", re.M)


def _coloured_findings(text: str) -> str:
    """``path:line:col:`` bold, a change's code red, a note's cyan, as linters colour them."""
    def paint(match: re.Match) -> str:
        note = match["note"] is not None
        code = click.style(match["code"], fg="cyan" if note else "red", bold=True)
        return f"{click.style(match['where'], bold=True)} {code} {click.style('note: ', fg='cyan') if note else ''}"

    return _FINDING.sub(paint, text)


def _next_step(report: Report, paths: tuple[Path, ...], codemods: tuple[str, ...]) -> str | None:
    """What to run after a check that found something: the same paths and codemods, through apply."""
    from rewriter.engine import Status

    changed = report.counts[Status.CHANGED]
    if not changed:
        return None
    args = "".join(f" -c {shlex.quote(c)}" for c in codemods) + "".join(f" {shlex.quote(str(p))}" for p in paths)
    would = "file would change" if changed == 1 else "files would change"
    return (f"{changed} {would}: run `lambda-rewriter diff{args}` to see the changes, "
            f"`lambda-rewriter apply{args}` to make them")


# rewriter.git's ON_EXISTING; that module (GitPython) is imported by the commands that use it, not at start-up.
_ON_EXISTING = ("fail", "skip", "replace")


def _test_options(f):
    f = click.option(
        "--test-timeout", type=click.IntRange(min=1), default=_TEST_TIMEOUT, show_default=True, metavar="SECONDS",
        help="End each test run (and everything it started) after this long.",
    )(f)
    return click.option(
        "--test-command", metavar="CMD",
        help="Run CMD (with /bin/sh -c) in the base and in the rewritten tree; tests that passed before and fail "
             "after stop the commit and the push. Runs the repository's code: off unless given.",
    )(f)


def _check_test_command(command: str | None) -> None:
    if command is not None:
        from rewriter import gate

        try:
            gate.check(command)
        except gate.CommandError as error:
            raise click.UsageError(str(error)) from None


def _pr_options(f):
    """--open-pr and what goes with it, for branch and batch."""
    options = [
        click.option("--open-pr", is_flag=True, help="Open a pull request for the pushed branch (GitHub), or update "
                     "the one the tool opened before; one someone else opened is left alone."),
        click.option("--ready", is_flag=True, help="Open pull requests ready for review (default: draft)."),
        click.option("--label", "labels", multiple=True, metavar="NAME", help="Label the pull request (repeat)."),
        click.option("--reviewer", "reviewers", multiple=True, metavar="LOGIN", help="Request a review (repeat)."),
        click.option("--team-reviewer", "team_reviewers", multiple=True, metavar="SLUG",
                     help="Request a team's review (repeat)."),
        click.option("--assignee", "assignees", multiple=True, metavar="LOGIN", help="Assign the pull request (repeat)."),
        click.option("--token-command", metavar="CMD", help="Run CMD (/bin/sh -c) and use the first line it prints "
                     "as the token (default: $GITHUB_TOKEN). The token is never printed or stored."),
        click.option("--forge", "forge_kind", type=click.Choice(["github", "gitlab"]), default=None,
                     help="What the remote's host is, when its name does not say (github.com and gitlab.com do)."),
        click.option("--api-url", metavar="URL", help="The forge's API (GitHub Enterprise: https://HOST/api/v3)."),
        click.option("--pr-interval", type=click.FloatRange(min=0), default=1.0, show_default=True,
                     metavar="SECONDS", help="Wait at least this long between two pull request creations."),
        click.option("--max-prs", type=click.IntRange(min=0), default=None, metavar="N",
                     help="Open at most N pull requests in this run (the rest: the next run, with --resume)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _pr_settings(push: bool, open_pr: bool, ready, labels, reviewers, team_reviewers, assignees, token_command,
                 forge_kind, api_url, close_stale: bool = False):
    """(forge_run.Settings, the token reader), or (None, None) without --open-pr; the token is read now, so that
    a missing one stops the run before anything is cloned or pushed."""
    if not open_pr:
        if close_stale:
            raise click.UsageError("--close-stale closes the tool's pull requests: give it with --open-pr")
        return None, None
    if not push:
        raise click.UsageError("--open-pr needs the branch pushed: add --push")
    import importlib.util

    for module, package in (("github", "PyGithub>=2.10"), ("gitlab", "python-gitlab>=8.6")):
        if importlib.util.find_spec(module) is None:
            raise click.UsageError(f"--open-pr needs {package}: pip install '{package}' (a dependency of lambda-rewriter)")
    from rewriter import forge, forge_pr, forge_run

    read = {}

    def token(kind: str) -> str:
        if kind not in read:
            read[kind] = forge.read_token(kind, token_command)
        return read[kind]

    # The forge named, else the one whose token is set (GitHub when neither or both are): checked before the run.
    first = forge_kind or next((k for k, v in forge.TOKEN_VARIABLES.items() if os.environ.get(v)), "github")
    try:
        token(first)
    except forge.ForgeError as error:
        raise click.UsageError(str(error)) from None
    request = forge_pr.Request(ready, tuple(labels), tuple(reviewers), tuple(team_reviewers), tuple(assignees))
    return forge_run.Settings(request, forge_kind, api_url, close_stale), token


def _print_tests(console: Console, verdict, failed: bool) -> None:
    if verdict is None:
        return
    if not failed:
        console.print(verdict.sentence(), soft_wrap=True, markup=False)
        return
    console.print(f"[red]tests-failed:[/red] {escape(verdict.sentence())}; no branch was made, nothing was pushed",
                  soft_wrap=True)
    if verdict.after.tail:
        console.print("last lines of the output after the rewrite:", soft_wrap=True, markup=False)
        for line in verdict.after.tail:
            console.print(f"  {line}", soft_wrap=True, markup=False, highlight=False)


@cli.command()
@click.argument("repo", required=False, default=".", type=click.Path(path_type=Path))
@_codemod_option
@_jobs_option
@click.option("--branch", "branch_name", metavar="NAME", help="Branch to create (default: lambda-rewriter/<codemods>).")
@click.option("--base", metavar="REF", help="Branch, tag or commit to start from (default: the current branch).")
@click.option("--push", "remote", metavar="REMOTE", help="Push the branch to this remote (name, URL or path).")
@click.option(
    "--on-existing",
    type=click.Choice(_ON_EXISTING),
    default="fail",
    show_default=True,
    help="When the branch exists: refuse, leave it, or rebuild it from the base.",
)
@click.option("--force", is_flag=True, help="With --on-existing replace: also replace a branch with commits the tool did not make.")
@click.option("--author", metavar='"NAME <EMAIL>"', help="Author and committer (default: the repository's git config).")
@_test_options
@_pr_options
@_config_option
def branch(repo, codemods, jobs, branch_name, base, remote, on_existing, force, author, test_command,
           test_timeout, open_pr, ready, labels, reviewers, team_reviewers, assignees, token_command, forge_kind,
           api_url, pr_interval, max_prs) -> None:
    """Commit each codemod's changes on a new branch; your checkout, index and stash are not touched."""
    from rewriter import git as git_branch
    from rewriter.redaction import redact

    console = _stderr()
    _known_codemods(codemods)
    _check_test_command(test_command)
    pr_settings, token = _pr_settings(remote is not None, open_pr, ready, labels, reviewers, team_reviewers, assignees,
                                      token_command, forge_kind, api_url)
    try:
        outcome = git_branch.make_branch(
            repo, tuple(codemods), branch=branch_name, base=base, push=remote, on_existing=on_existing,
            force=force, author=author, workers=jobs, config_file=_config_file(), test_command=test_command,
            test_timeout=test_timeout,
        )
    except git_branch.BadRequest as error:
        raise click.UsageError(redact(str(error), remote or "")) from None
    except git_branch.GitError as error:
        unchanged = "" if isinstance(error, git_branch.PushIncomplete) else "; nothing was changed"
        console.print(f"[red]error:[/red] {escape(redact(str(error), remote or ''))}{unchanged}", soft_wrap=True)
        sys.exit(EXIT_FAILED)
    except OSError as error:  # the scratch folder: $TMPDIR full, a path of the base longer than the system takes
        console.print(f"[red]error:[/red] {escape(_os_error(error))}; nothing was changed", soft_wrap=True)
        sys.exit(EXIT_FAILED)
    for warning in outcome.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)
    for path, reason in outcome.failures:
        console.print(f"[red]error:[/red] {escape(path)}: {escape(reason)}", soft_wrap=True)
    if outcome.status == "tests-failed":
        _print_tests(console, outcome.tests, failed=True)
        sys.exit(EXIT_FAILED)
    if outcome.status == "skipped":
        console.print(
            f"branch {outcome.branch} exists already; left as it is (--on-existing skip)", soft_wrap=True, markup=False
        )
    elif outcome.status == "nothing to change":
        console.print("nothing to change: no branch created", soft_wrap=True)
    else:
        click.echo(outcome.branch)
        noun = "commit" if len(outcome.commits) == 1 else "commits"
        console.print(f"{outcome.status} branch {outcome.branch} on {outcome.base[:12]}, {len(outcome.commits)} {noun}:",
                      soft_wrap=True, markup=False)
        for commit in outcome.commits:
            console.print(f"  {commit.sha[:12]} {commit.subject}", soft_wrap=True, markup=False)
        _print_tests(console, outcome.tests, failed=False)
        if outcome.pushed:
            console.print(f"pushed to {redact(remote)}: {redact(outcome.pushed, remote)}", soft_wrap=True,
                          markup=False)
    failed = bool(outcome.failures)
    if pr_settings is not None and (outcome.pushed or outcome.status == "skipped"):
        from rewriter import forge_branch

        said, ok = forge_branch.pull_request(repo, remote, outcome, pr_settings, token, pr_interval, max_prs, base)
        console.print(said, soft_wrap=True, markup=False)
        failed = failed or not ok
    sys.exit(EXIT_FAILED if failed else 0)


@cli.command()
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default="lambda-rewriter-batch",
              show_default=True, help="Clones, ledger and patches live here; reused by later runs.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Repositories processed at the same time.")
@click.option("--push", is_flag=True, help="Push each branch (default: a dry run that writes patches).")
@click.option("--resume", is_flag=True, help="Skip the repositories the ledger shows done; retry the others.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path), help="JSON report to write.")
@_codemod_option
@click.option("--branch", "branch_name", metavar="NAME", help="Branch name for entries that name none.")
@click.option("--author", metavar='"NAME <EMAIL>"', help="Author and committer of the commits.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where the repositories are processed: local processes, or a Dask distributed cluster.")
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler address (with --executor dask).")
@_test_options
@_pr_options
@click.option("--close-stale", is_flag=True,
              help="With --open-pr: close the tool's own pull request, with a comment, where nothing is left to change.")
@click.option("--summary", "summary_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the Markdown summary to this file.")
def batch(manifest, workspace, jobs, push, resume, report_file, codemods, branch_name, author, executor, scheduler,
          test_command, test_timeout, open_pr, ready, labels, reviewers, team_reviewers, assignees, token_command,
          forge_kind, api_url, pr_interval, max_prs, close_stale, summary_file):
    """Make the branch in every repository of MANIFEST (URLs or paths, one a line; or TOML); one report."""
    import json

    from rewriter import batch as batches
    from rewriter import manifest as manifests

    console = _stderr()
    repos = _manifest_or_exit(manifest, console, "the manifest was refused: no repository was touched")
    _known_codemods(codemods)
    _check_test_command(test_command)
    if author is not None:
        from rewriter import git as git_branch

        try:
            git_branch.parse_author(author)
        except git_branch.BadRequest as error:
            raise click.UsageError(str(error)) from None
    if branch_name is not None and not manifests.acceptable_branch(branch_name):
        raise click.BadParameter(f"{branch_name!r} is not an acceptable branch name", param_hint="'--branch'")
    for given, hint in ((report_file, "'--report'"), (summary_file, "'--summary'")):
        if given is not None and not os.access(given.absolute().parent, os.W_OK | os.X_OK):
            # Found out before the batch, not after an hour of work that would then have no report.
            raise click.BadParameter(f"{given}: its folder does not exist or is not writable", param_hint=hint)
    pr_settings, token = _pr_settings(push, open_pr, ready, labels, reviewers, team_reviewers, assignees,
                                      token_command, forge_kind, api_url, close_stale)
    options = batches.Options(str(workspace.absolute()), push, tuple(codemods), branch_name, author, test_command,
                              test_timeout, open_pr=open_pr, close_stale=close_stale)
    pull_requests = None
    if pr_settings is not None:
        from rewriter import forge, forge_run

        pull_requests = forge_run.PullRequests(pr_settings, token, forge.Pacer(interval=pr_interval, max_prs=max_prs))
    interrupted = None
    try:
        workers = jobs if executor == "local" else None
        with batches.workspace_lock(workspace), batches.Display(len(repos), console, workers) as display:
            entries = batches.run(repos, options, jobs=jobs, resume=resume, executor=executor, scheduler=scheduler,
                                  events=display, pull_requests=pull_requests)
    except batches.BatchError as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
        sys.exit(EXIT_USAGE)
    except batches.Interrupted as stop:
        interrupted, entries = stop, stop.entries
        console.print(f"interrupted: {stop.left} repositories did not finish; the ledger in {escape(str(workspace))} "
                      "keeps each stage they reached: run again with --resume", soft_wrap=True)
    text = batches.markdown(entries, options)
    if interrupted is not None:
        text += f"\nInterrupted: {interrupted.left} of {len(repos)} repositories did not finish (run again with --resume).\n"
    if sys.stdout.isatty() and _colour(sys.stdout):  # read on a terminal; piped, it is Markdown for an issue
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        click.echo(text)
    try:
        if summary_file is not None:
            summary_file.write_text(text, encoding="utf-8")
        if report_file is not None:
            payload = batches.report(entries, options, str(manifest))
            payload["interrupted"] = interrupted is not None
            report_file.write_text(json.dumps(payload, indent=2) + "\n")
    except OSError as error:
        console.print(f"[red]error:[/red] report not written: {escape(str(error))}", soft_wrap=True)
        sys.exit(EXIT_FAILED)
    if interrupted is not None:
        sys.exit(128 + interrupted.signum)
    sys.exit(batches.exit_status(entries))


@cli.command()
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path), default="lambda-rewriter-batch",
              show_default=True, help="The batch workspace whose ledger names each repository's pull request.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--token-command", metavar="CMD", help="Run CMD and use the first line it prints as the token.")
@click.option("--forge", "forge_kind", type=click.Choice(["github", "gitlab"]), default=None,
              help="What the remote's host is, when its name does not say.")
@click.option("--api-url", metavar="URL", help="The forge's API (GitHub Enterprise: https://HOST/api/v3).")
def status(manifest, workspace, fmt, token_command, forge_kind, api_url) -> None:
    """Per repository: branch, pull request, its state (draft, open, merged, closed), checks and reviews."""
    import json

    from rewriter import batch as batches
    from rewriter import forge, forge_pr, forge_run
    from rewriter import status as statuses

    console = _stderr()
    repos = _manifest_or_exit(manifest, console)
    first = forge_kind or next((k for k, v in forge.TOKEN_VARIABLES.items() if os.environ.get(v)), "github")
    try:
        token = forge.read_token(first, token_command)
    except forge.ForgeError as error:
        raise click.UsageError(str(error)) from None
    settings = forge_run.Settings(forge_pr.Request(), forge_kind, api_url)
    runner = forge_run.PullRequests(settings, lambda kind: token if kind == first else
                                    forge.read_token(kind, token_command), forge.Pacer(interval=0))
    rows = statuses.collect(repos, batches.Ledger(workspace.absolute()), runner)
    if fmt == "json":
        click.echo(json.dumps({"repositories": rows, "summary": statuses.summary_line(rows)}, indent=2))
    else:
        click.echo(statuses.markdown(rows))
    for row in rows:
        if row["error"]:
            console.print(f"[red]error:[/red] {escape(row['repository'])}: {escape(row['error'])}", soft_wrap=True)
    sys.exit(EXIT_FAILED if any(row["error"] for row in rows) else 0)


def _os_error(error: OSError) -> str:
    """What failed, on which path; a path of thousands of characters is cut short."""
    what = error.strerror or str(error) or type(error).__name__
    if error.filename is None:
        return what
    name = os.fsdecode(error.filename)
    if len(name) > 200:
        name = f"{name[:120]}...{name[-60:]} ({len(name)} characters)"
    return f"{what}: {name}"


def main(argv: list[str] | None = None) -> int:
    from rewriter.redaction import redact

    try:
        cli.main(args=argv, prog_name="lambda-rewriter", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        # One line that says what went wrong and where to look, not click's usage block.
        where: click.Context | None = getattr(error, "ctx", None)  # UsageError and its kin have one
        command = where.command_path if where is not None else "lambda-rewriter"
        _stderr(where).print(
            f"[red]error:[/red] {escape(redact(error.format_message()))} (see `{escape(command)} --help`)",
            soft_wrap=True,
        )
        return EXIT_USAGE
    except click.Abort as abort:
        # Ctrl-C or SIGTERM: the workers are gone, and no write started after the signal (each write is whole
        # or not made). 128 + the signal, as a shell reports it: 130, or 143 for SIGTERM.
        interrupt = abort.__cause__ or abort.__context__
        if isinstance(interrupt, KeyboardInterrupt):
            _stderr().print("aborted")
            return 128 + getattr(interrupt, "signum", signal.SIGINT)
        _stderr().print("aborted")
        return EXIT_FAILED
    except OSError as error:  # a full disk, a path longer than the system takes: the environment, not a bug
        _stderr().print(f"[red]error:[/red] {escape(redact(_os_error(error)))}", soft_wrap=True)
        return EXIT_FAILED
    except RecursionError:
        _stderr().print("[red]error:[/red] input nested too deeply to read", soft_wrap=True)
        return EXIT_FAILED
    except Exception as error:  # a bug: still one line, no secret; CliRunner tests see the traceback
        _stderr().print(f"[red]error:[/red] internal error: {escape(redact(f'{type(error).__name__}: {error}'))}",
                        soft_wrap=True)
        return EXIT_FAILED
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
