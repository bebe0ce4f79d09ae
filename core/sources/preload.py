"""What every guarded child (core.sources.addresses.run_guarded) starts with. The forkserver that forks them
imports this once, so each download or listing begins with yt-dlp loaded and every extractor's link pattern
compiled (~0.8 s less each on a 2-core machine) rather than doing that itself."""

from core.sources import media, platforms  # noqa: F401 - loaded for the children

platforms.warm_up()
