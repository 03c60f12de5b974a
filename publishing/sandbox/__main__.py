"""python -m publishing.sandbox --host 127.0.0.1 --port 8100 [--state-file PATH] [--verbose]"""

import argparse
import logging

from publishing.sandbox import serve


def main():
    parser = argparse.ArgumentParser(prog="python -m publishing.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--state-file", help="load the state from this file and save it after each change")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    serve(
        args.host,
        args.port,
        state_file=args.state_file,
        verbose=args.verbose,
        announce=lambda url: print(f"WeChat/Weibo sandbox listening on {url}", flush=True),  # noqa: T201
    )


if __name__ == "__main__":
    main()
