"""The `repodoc` command line: generate, serve, worker, register."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="repodoc", description="Keep a generated docs tree in step with the code.")
    parser.add_argument("--version", action="version", version=f"repodoc {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True)
    gen = verbs.add_parser("generate", help="write the docs tree of a checkout")
    gen.add_argument("path", nargs="?", default=".", help="the git checkout or folder (default: .)")
    gen.add_argument("--since", metavar="REV", help="only the files changed since REV (same result as a full run)")
    gen.add_argument("--check", action="store_true", help="write nothing; exit 1 when the docs are stale")
    gen.add_argument("--out", metavar="DIR", help="write the docs tree into DIR instead")
    serve = verbs.add_parser("serve", help="run the GitHub App's webhook server")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 8080")
    work = verbs.add_parser("worker", help="run a queue worker (distributed mode, needs REDIS_URL)")
    work.add_argument("--metrics-port", type=int, default=None, help="serve GET /metrics here (default: $METRICS_PORT)")
    work.add_argument("--metrics-host", default="0.0.0.0", help="the address --metrics-port listens on")
    reg = verbs.add_parser("register", help="create the GitHub App from app.yaml and write its credentials to .env")
    reg.add_argument("--public-url", required=True, metavar="URL", help="where `repodoc serve` will be reachable")
    reg.add_argument("--org", metavar="ORG", help="register the App for this organisation (default: your account)")
    reg.add_argument("--github-url", metavar="URL", default="https://github.com", help="GitHub Enterprise Server's URL")
    reg.add_argument("--manifest", metavar="PATH", help="the manifest to use (default: the packaged app.yaml)")
    reg.add_argument("--force", action="store_true", help="replace an existing .env and key file")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.verb == "generate":
        return _generate(args)
    if args.verb == "register":
        return _register(args)
    if args.verb == "serve":
        from webhooks.__main__ import serve

        return serve(args.host, args.port)
    from webhooks.__main__ import worker

    return worker(args.metrics_host, args.metrics_port)


def _register(args: argparse.Namespace) -> int:
    import os

    from . import register

    opts = register.Options(
        args.public_url,
        org=args.org,
        github_url=args.github_url,
        manifest=Path(args.manifest) if args.manifest else None,
        force=args.force,
        api_url=os.environ.get("GITHUB_API_URL") or None,
    )
    return register.main(opts)


def _generate(args: argparse.Namespace) -> int:
    from .local import Options, UsageError, run, summary_lines
    from .report import printable

    opts = Options(
        Path(args.path),
        since=args.since,
        check=args.check,
        out=Path(args.out) if args.out else None,
        progress=sys.stderr.isatty(),
    )
    try:
        report = run(opts)
    except UsageError as exc:
        print(printable(f"repodoc: {exc}"), file=sys.stderr)
        return 2
    for warning in report.warnings:
        print(printable(f"repodoc: warning: {warning}"), file=sys.stderr)
    print("\n".join(summary_lines(report)))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
