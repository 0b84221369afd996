"""The command line: parse options, call the engine, set the exit status. Nothing else."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from codemods import all_codemods
from rewriter import __version__, config, engine
from rewriter.diff import summarize, unified_diff
from rewriter.discovery import discover
from rewriter.engine import FileJob, Status
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
    for name, impls in all_codemods().items():
        languages = ", ".join(impl.LANGUAGE for impl in impls)
        click.echo(f"{name:<20} {languages:<12} {impls[0].DESCRIPTION}")


def _run(mode: WriteBack, paths: tuple[Path, ...], codemods: tuple[str, ...], jobs: int | None) -> Report:
    console = _stderr()
    found = discover(list(paths) or [Path(".")])
    try:
        settings = config.load(found.root)
    except config.ConfigError as error:
        raise click.UsageError(str(error)) from None
    if settings.exclude:
        found = discover(list(paths) or [Path(".")], settings.exclude)
    selected = codemods or settings.codemods
    known = all_codemods()
    unknown = [c for c in selected if c not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown codemod {', '.join(unknown)} (known: {', '.join(known)})", param_hint="'-c' / '--codemod'"
        )
    work = [
        FileJob(
            str(path),
            _display(path, found.root),
            str(found.root),
            found.entry_points.get(path),
            settings.max_file_bytes,
        )
        for path in found.files
    ]
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
    problems = [(_display(path, found.root), why) for path, why in found.problems]
    return Report(mode, results, problems)


def _display(path: Path, root: Path) -> str:
    try:
        return path.absolute().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


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
        stdout = click.get_binary_stream("stdout")
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
def apply(paths, codemods, jobs) -> None:
    """Rewrite the files in place (atomically; a file that changed meanwhile is left alone)."""
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
