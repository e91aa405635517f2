"""How every `python -m ganlib.<command>` ends: with its main()'s exit code, one line for a
mistake the user can fix, and quietly when the program reading its output has gone away.

Every command's main() is decorated with `reports_errors`: a GanlibError anywhere in it (a
bad option, a missing or damaged file, an unwritable folder) becomes one line on stderr,
"error: what is wrong and how to fix it", and exit code 2, never a traceback. Tests call
main() directly and read the same code.

`python -m ganlib.train dcgan | head -3` closes the pipe after three lines; the next print
then raises BrokenPipeError, which Python would report as a traceback (twice: once from
the print, once from flushing stdout at exit). A closed reader is not a mistake of the
command, so, like other Unix tools, it stops without a word. Every file it had saved is
already complete on disk (ganlib writes files whole, then renames them into place).
"""

import functools
import os
import sys

from ganlib.errors import GanlibError

# What a command returns for a mistake the user can fix, as argparse does for a bad option.
EXIT_USER_ERROR = 2
# What a shell reports for a process ended by SIGPIPE (128 + signal 13), as for `yes | head`.
EXIT_PIPE_CLOSED = 141


def reports_errors(main):
    """Decorate a command's main(): a GanlibError prints one line "error: ..." and returns 2."""
    @functools.wraps(main)
    def main_reporting_errors(argv=None):
        try:
            return main(argv)
        except GanlibError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USER_ERROR

    return main_reporting_errors


def run(main):
    """Run a command's main() and exit with its code; a closed output pipe ends it quietly."""
    try:
        code = main()
        sys.stdout.flush()  # inside the try: the last buffered lines can meet the closed pipe
    except BrokenPipeError:
        # Point stdout at the null device so the interpreter's own flush at exit, which
        # would meet the same closed pipe, has nowhere to fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_PIPE_CLOSED
    sys.exit(code)
