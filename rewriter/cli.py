"""The command line: parse options, call the engine, set the exit status. Nothing else."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from codemods import all_codemods
from rewriter import __version__, config, engine, patch
from rewriter import git as git_branch
from rewriter.diff import summarize, unified_diff
from rewriter.discovery import find_root
from rewriter.engine import Status
from rewriter.plan import plan
from rewriter.report import EXIT_FAILED, EXIT_USAGE, Report
from rewriter.writeback import WriteBack, write_atomic

_PROGRESS_THRESHOLD = 20


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


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


def _paths_argument(f):
    return click.argument(
        "paths", nargs=-1, type=click.Path(exists=True, file_okay=True, dir_okay=True, path_type=Path)
    )(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lambda-rewriter")
def cli() -> None:
    """Rewrite AWS Lambda functions to reuse clients and connections and ship only what they use."""


@cli.command("list")
def list_codemods() -> None:
    """List the codemods, the languages they read, and what they do."""
    rows = [(name, ", ".join(impl.LANGUAGE for impl in impls), impls[0].DESCRIPTION) for name, impls in all_codemods().items()]
    widths = [max((len(row[i]) for row in rows), default=0) for i in (0, 1)]
    for name, languages, description in rows:
        click.echo(f"{name:<{widths[0]}}  {languages:<{widths[1]}}  {description}")


def _run(mode: WriteBack, paths: tuple[Path, ...], codemods: tuple[str, ...], jobs: int | None) -> Report:
    console = _stderr()
    try:
        planned = plan(list(paths))
    except config.ConfigError as error:
        raise click.UsageError(str(error)) from None
    settings, work = planned.settings, planned.jobs
    selected = codemods or settings.codemods
    known = all_codemods()
    unknown = [c for c in selected if c not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown codemod {', '.join(unknown)} (known: {', '.join(known)})", param_hint="'-c' / '--codemod'"
        )
    workers = jobs or settings.jobs or engine.default_workers()
    if console.is_terminal and len(work) >= _PROGRESS_THRESHOLD:
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("rewriting", total=len(work))
            results = engine.run(work, tuple(selected), workers, lambda _: progress.advance(task))
    else:
        results = engine.run(work, tuple(selected), workers)
    return Report(mode, results, planned.problems)


def _finish(report: Report) -> None:
    console = _stderr()
    for path, reason in report.failures:
        console.print(f"[red]error:[/red] {path}: {reason}", soft_wrap=True)
    console.print(report.summary(), soft_wrap=True)
    sys.exit(report.return_code)


@cli.command()
@_paths_argument
@_codemod_option
@_jobs_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write here, not to stdout.")
def diff(paths, codemods, jobs, fmt, output) -> None:
    """Show what would change, as a unified diff that `git apply` takes. Writes nothing."""
    report = _run(WriteBack.DIFF, paths, codemods, jobs)
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
        if fmt == "text" and sys.stdout.isatty():
            _print_coloured(payload)
        else:
            stdout.write(payload)
            stdout.flush()
    if diffs and fmt == "text":
        s = summarize(payload)
        _stderr().print(f"{s['files']} files, {s['hunks']} hunks, +{s['added']} -{s['removed']} lines")
    _finish(report)


def _print_coloured(payload: bytes) -> None:
    console = Console(highlight=False)
    for line in payload.decode("utf-8", "replace").splitlines():
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else "cyan" if line.startswith("@@") else None
        console.print(line, style=style, markup=False, soft_wrap=True)


@cli.command()
@_paths_argument
@_codemod_option
@_jobs_option
@click.option(
    "--patch",
    "patch_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Apply this (reviewed, maybe cut) patch from `diff --output` instead of running codemods.",
)
def apply(paths, codemods, jobs, patch_file) -> None:
    """Rewrite the files in place (atomically; a file that changed meanwhile is left alone)."""
    if patch_file is not None:
        _apply_patch(paths, codemods, patch_file)
    report = _run(WriteBack.APPLY, paths, codemods, jobs)
    for result in report.results:
        if result.status is not Status.CHANGED:
            continue
        path = Path(result.abspath)
        try:
            if path.read_bytes() != result.before:
                raise OSError("the file changed while it was being rewritten")
            write_atomic(path, result.after)
        except OSError as error:
            result.status, result.reason = Status.ERROR, f"not written: {error}"
    _finish(report)


def _apply_patch(paths: tuple[Path, ...], codemods: tuple[str, ...], patch_file: Path) -> None:
    if codemods or len(paths) > 1:
        raise click.UsageError("--patch applies the patch as it is: give at most one PATH (the root) and no -c")
    root = find_root((paths[0] if paths else Path(".")).resolve())
    try:
        applied = patch.apply(root, patch_file.read_bytes())
    except (patch.PatchError, OSError) as error:
        _stderr().print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
        _stderr().print("patch refused: no file was changed", soft_wrap=True)
        sys.exit(EXIT_FAILED)
    for path in applied.files:
        click.echo(path)
    noun = "file" if len(applied.files) == 1 else "files"
    _stderr().print(
        f"patched {len(applied.files)} {noun}, {applied.hunks} hunks, +{applied.added} -{applied.removed} lines",
        soft_wrap=True,
    )
    sys.exit(0)


@cli.command()
@_paths_argument
@_codemod_option
@_jobs_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Also show notes on files that would not change.")
def check(paths, codemods, jobs, fmt, verbose) -> None:
    """Exit 1 when some file would change; list the changes and the notes."""
    report = _run(WriteBack.CHECK, paths, codemods, jobs)
    if fmt == "json":
        click.echo(report.as_json())
    else:
        for line in report.text_lines(verbose):
            click.echo(line)
    _finish(report)


@cli.command()
@click.argument("repo", required=False, default=".", type=click.Path(path_type=Path))
@_codemod_option
@_jobs_option
@click.option("--branch", "branch_name", metavar="NAME", help="Branch to create (default: lambda-rewriter/<codemods>).")
@click.option("--base", metavar="REF", help="Branch, tag or commit to start from (default: the current branch).")
@click.option("--push", "remote", metavar="REMOTE", help="Push the branch to this remote (name, URL or path).")
@click.option(
    "--on-existing",
    type=click.Choice(git_branch.ON_EXISTING),
    default="fail",
    show_default=True,
    help="When the branch exists: refuse, leave it, or rebuild it from the base.",
)
@click.option("--force", is_flag=True, help="With --on-existing replace: also replace a branch with commits the tool did not make.")
@click.option("--author", metavar='"NAME <EMAIL>"', help="Author and committer (default: the repository's git config).")
def branch(repo, codemods, jobs, branch_name, base, remote, on_existing, force, author) -> None:
    """Commit each codemod's changes on a new branch; your checkout, index and stash are not touched."""
    console = _stderr()
    try:
        outcome = git_branch.make_branch(
            repo, tuple(codemods), branch=branch_name, base=base, push=remote, on_existing=on_existing,
            force=force, author=author, workers=jobs,
        )
    except git_branch.BadRequest as error:
        raise click.UsageError(str(error)) from None
    except git_branch.GitError as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
        console.print("nothing was changed", soft_wrap=True)
        sys.exit(EXIT_FAILED)
    for path, reason in outcome.failures:
        console.print(f"[red]error:[/red] {escape(path)}: {escape(reason)}", soft_wrap=True)
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
        if outcome.pushed:
            console.print(f"pushed to {remote}: {outcome.pushed}", soft_wrap=True, markup=False)
    sys.exit(EXIT_FAILED if outcome.failures else 0)


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="lambda-rewriter", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return EXIT_USAGE
    except click.Abort:
        _stderr().print("aborted")
        return EXIT_FAILED
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
