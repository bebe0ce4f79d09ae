// A page of transcript lines drawn as one element (each line as Streamlit widgets cost the browser ~10 ms a line).
// A line's time plays the page's audio from there (or opens the original at that moment); the line being heard is
// marked; ✏️ turns a line into a box to correct it, and Save (Ctrl+Enter) hands the new text to the page.
export default function ({ data, parentElement, setTriggerValue }) {
  const audio = document.querySelector("audio");
  const list = document.createElement("div");
  list.className = data.side_by_side ? "lines side" : "lines";
  const spans = [];

  for (const row of data.rows) {
    const line = document.createElement("div");
    line.className = "line";
    spans.push([row.start, row.end, line]);

    let time;
    if (data.audio) {
      time = element("button", "time", row.clock);
      time.title = "Play from here";
      time.addEventListener("click", () => play(row.start));
    } else {
      time = element("a", "time", row.clock);
      time.href = row.link;
      time.target = "_blank";
      time.rel = "noopener noreferrer";
      time.title = "Open the original here";
    }

    const text = element("div", "text");
    text.append(element("span", `mood ${row.mood}`, "▍"));
    if (row.speaker) text.append(element("span", `who ${row.colour}`, row.speaker));
    const words = element("span", "words", row.text);
    text.append(words);
    line.append(time, text);
    if (data.side_by_side) line.append(element("div", "text other", row.translation || ""));

    if (data.editable && row.editable) {
      const fix = element("button", "fix", "✏️");
      fix.title = "Correct this line";
      fix.setAttribute("aria-label", `Correct the line at ${row.clock}`);
      fix.addEventListener("click", () => correct(row, text, words, fix));
      line.append(fix);
    }
    list.append(line);
  }
  parentElement.querySelector(".lines")?.remove();
  parentElement.append(list);

  function correct(row, text, words, fix) {
    fix.disabled = true;
    const box = element("textarea", "fixing");
    box.value = row.text;
    box.maxLength = data.max_chars;
    box.setAttribute("aria-label", "Corrected text");
    const save = element("button", "save", "Save");
    const cancel = element("button", "cancel", "Cancel");
    const actions = element("div", "actions");
    actions.append(save, cancel);
    words.hidden = true;
    text.append(box, actions);
    box.focus();
    const changed = () => { save.disabled = !box.value.trim() || box.value.trim() === row.text.trim(); };
    changed();
    box.addEventListener("input", changed);
    save.addEventListener("click", () => {
      save.disabled = true;
      setTriggerValue("save", { index: row.index, text: box.value });
    });
    cancel.addEventListener("click", () => {
      box.remove();
      actions.remove();
      words.hidden = false;
      fix.disabled = false;
    });
    box.addEventListener("keydown", (event) => {  // Escape takes the box away; Ctrl+Enter (⌘+Enter) saves
      if (event.key === "Escape") cancel.click();
      else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !save.disabled) save.click();
    });
  }

  function play(seconds) {
    const player = audio || document.querySelector("audio");
    if (!player) return;
    player.currentTime = seconds;
    player.play().catch(() => {});  // a browser may refuse to play before the person has touched the page
  }

  let marked = null;
  function mark() {
    const at = audio.currentTime;
    const now = spans.find(([start, end]) => start <= at && at < end)?.[2] ?? null;
    if (now === marked) return;
    marked?.classList.remove("now");
    now?.classList.add("now");
    marked = now;
  }
  if (data.audio && audio) {
    audio.addEventListener("timeupdate", mark);
    return () => audio.removeEventListener("timeupdate", mark);
  }
}

function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;  // text, never markup: lines hold what people said
  return made;
}
