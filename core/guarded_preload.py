"""What every guarded child (core.addresses.run_guarded) starts with. The forkserver that forks them imports this
once, so each download, listing or webhook begins with yt-dlp loaded and every extractor's link pattern compiled
(~0.8 s less each on a 2-core machine) rather than doing that itself."""

from core import media, platforms, webhooks  # noqa: F401 - loaded for the children

platforms.warm_up()
