"""Find moments by meaning across the whole library."""

import streamlit as st

from core import api
from core.formatting import clock, highlight, literal
from core.models import CATEGORIES, SearchFilters
from pages.components import VIDEO_PAGE, page_start

page_start("🔎 Search")
query = st.text_input("Search the library by meaning", placeholder="e.g. how to bake a cake")
# The filters' choices (the library's platforms, themes and people) are read only while the box is open; what was
# chosen stays in force when it is closed, and is said under it.
filters_box = st.expander("Filters", key="filters", on_change="rerun", bind="query-params")
chosen = st.session_state.setdefault("search-filters", {})
if filters_box.open:
    with filters_box:
        left, middle, right = st.columns(3)
        chosen["platforms"] = left.multiselect("Platform", api.platforms_in_library(),
                                               default=chosen.get("platforms"))
        chosen["categories"] = middle.multiselect("Category", sorted(CATEGORIES), default=chosen.get("categories"))
        chosen["sentiments"] = right.multiselect("Sentiment", ["positive", "neutral", "negative"],
                                                 default=chosen.get("sentiments"))
        start, end, theme_column = st.columns(3)
        chosen["date_from"] = start.date_input("Uploaded from", value=chosen.get("date_from"))
        chosen["date_to"] = end.date_input("Uploaded until", value=chosen.get("date_to"))
        labels = {view.id: view.label for view in api.themes()}
        chosen["themes"] = theme_column.multiselect("Theme", list(labels), format_func=labels.get,
                                                    default=[t for t in chosen.get("themes", []) if t in labels])
        chosen["theme_labels"] = [labels[t] for t in chosen["themes"]]
        chosen["speakers"] = st.multiselect("Said by", [person.name for person in api.people()],
                                            default=chosen.get("speakers"), placeholder="anyone",
                                            help="only what these people said")
else:
    active = [f"{name}: {', '.join(map(str, values))}" for name, values in (
        ("platform", chosen.get("platforms")), ("category", chosen.get("categories")),
        ("sentiment", chosen.get("sentiments")), ("theme", chosen.get("theme_labels")),
        ("said by", chosen.get("speakers")),
        ("from", [chosen["date_from"]] if chosen.get("date_from") else []),
        ("until", [chosen["date_to"]] if chosen.get("date_to") else [])) if values]
    if active:
        st.caption("Filtered by " + " · ".join(literal(item) for item in active))
limit = st.slider("Results", 5, 50, 10)

if query:
    date_from, date_to = chosen.get("date_from"), chosen.get("date_to")
    filters = SearchFilters(platforms=chosen.get("platforms", []), categories=chosen.get("categories", []),
                            sentiments=chosen.get("sentiments", []), themes=chosen.get("themes", []),
                            speakers=chosen.get("speakers", []),
                            date_from=date_from.isoformat() if date_from else None,
                            date_to=date_to.isoformat() if date_to else None)
    hits = api.search(query, limit=limit, filters=filters)
    if not hits:
        st.info("Nothing found. Completed videos become searchable as soon as they finish.")
    for hit in hits:
        with st.container(border=True):
            thumb, body = st.columns([1, 5], vertical_alignment="center")
            image = api.media_file(hit.thumbnail_path)
            if image:
                thumb.image(str(image), width="stretch")
            chapter = f" · 📑 {literal(hit.chapter)}" if hit.chapter else ""
            body.markdown(f"**{literal(hit.title or hit.video_id)}**{chapter} · [{clock(hit.start)}]({hit.url}) · "
                          f"match {hit.score:.0%}")
            said_by = f":blue-badge[{literal(hit.speaker)}] " if hit.speaker else ""
            body.markdown(said_by + highlight(hit.text, query))
            if hit.translation is not None:
                body.markdown(f":blue-badge[matched in {(hit.language or '?').upper()}] "
                              f"{highlight(hit.translation, query)}")
            body.page_link(VIDEO_PAGE, label="Open at this moment", icon="▶️",
                           query_params={"job": hit.job_id, "t": str(int(hit.start))})
