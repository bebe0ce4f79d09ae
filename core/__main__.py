"""`python -m core`: the command line (core.cli)."""

import gc
import sys

from core.cli import main

if __name__ == "__main__":
    code = main()
    # The process ends next: what it made is left to the operating system rather than searched for reference
    # cycles one last time (~0.3 s after a job, with yt-dlp's ~1,900 extractors in memory).
    gc.freeze()
    sys.exit(code)
