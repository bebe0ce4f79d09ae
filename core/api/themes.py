"""The library's themes: what its videos are about, found by a worker as the library grows."""

from __future__ import annotations

from core.config import Settings, get_settings
from core.library import themes as library_themes
from core.library.themes import ThemeRefused  # noqa: F401 - raised by rename_theme and merge_themes
from core.models import SearchFilters, Theme, ThemeView
from core.providers.embed import embedding_model_name
from core.store import get_store

#: A job id no video has: themes whose videos have all gone narrow a search to nothing, rather than to everything.
NO_VIDEO = "-"


def themes() -> list[ThemeView]:
    """The themes with their videos, the largest first (a deleted video leaves its theme at once)."""
    return library_themes.views(get_store().get_themes())


def themes_of(job_id: str) -> list[ThemeView]:
    """The themes a video is in, the largest first: one, or one per subject of a long video's chapters."""
    return [view for view in library_themes.views(get_store().get_themes()) if job_id in view.job_ids]


def rename_theme(theme_id: str, label: str) -> ThemeView:
    """Give a theme a person's name, kept from then on; ThemeRefused for an empty or taken name, LookupError for no
    such theme."""
    store = get_store(service_role=True)
    changed = library_themes.renamed(store.get_themes(), theme_id, label)
    store.save_themes(changed)
    return _view(changed, theme_id)


def merge_themes(source_id: str, target_id: str) -> ThemeView:
    """Show one theme's videos inside another from now on (also after the library is grouped again)."""
    store = get_store(service_role=True)
    changed = library_themes.merged(store.get_themes(), source_id, target_id)
    store.save_themes(changed)
    return _view(changed, target_id)


def refresh_themes(settings: Settings | None = None) -> list[ThemeView]:
    """Group the library again now, in this process (workers do it after videos complete)."""
    settings = settings or get_settings()
    found = library_themes.refresh(get_store(service_role=True), embedding_model_name(settings),
                                   library_themes.hosted_namer(settings))
    return library_themes.views(found)


def with_themes(filters: SearchFilters) -> SearchFilters:
    """The filters with their themes turned into the videos they hold (kept to those already asked for)."""
    if not filters.themes:
        return filters
    themes = get_store().get_themes()
    chosen = {view.id for view in library_themes.views(themes)}
    missing = [theme_id for theme_id in filters.themes if theme_id not in chosen]
    if missing:
        raise LookupError(f"There is no theme {missing[0]!r}.")
    return filters.model_copy(update={"themes": [], "job_ids": videos_of(themes, filters.themes, filters.job_ids)})


def videos_of(themes: list[Theme], theme_ids: list[str], job_ids: list[str]) -> list[str]:
    """The videos these themes hold (as shown: with what was merged into them), kept to `job_ids` when given; a job
    id no video has when none, so a filter by themes whose videos have gone keeps nothing rather than everything."""
    videos = {job_id for view in library_themes.views(themes) if view.id in theme_ids for job_id in view.job_ids}
    if job_ids:
        videos &= set(job_ids)
    return sorted(videos) or [NO_VIDEO]


def _view(themes: list[Theme], theme_id: str) -> ThemeView:
    for view in library_themes.views(themes):
        if view.id == theme_id:
            return view
    theme = next(theme for theme in themes if theme.id == theme_id)  # one whose videos all went
    return ThemeView(id=theme.id, label=theme.label, keywords=theme.keywords, videos=0, job_ids=[])

