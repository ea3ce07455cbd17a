"""`regv2`, the command line: push, pull, copy, list, inspect and delete images (docs/cli.md).

Built on the public API of `registry_async` only. `ProgressPrinter` is part of that API and
is exported by `registry_async`; the rest is the command line's own.
"""
