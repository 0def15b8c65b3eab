"use strict";
// The factsep page: sends the article to /v1/label and shows every sentence highlighted.
// Article text only ever reaches the page as text nodes (textContent), never as HTML.

const LABELS = ["fact", "opinion", "filler"];
let shown = null; // {points: the article as code points, article: the response's article}

function byId(id) {
  return document.getElementById(id);
}

function setStatus(message, isError) {
  const status = byId("status");
  status.textContent = message;
  status.className = isError ? "error" : "";
}

// The service's offsets count code points (Python); JavaScript strings count UTF-16 units.
function slice(points, start, end) {
  return points.slice(start, end).join("");
}

function gapSeparator(gap) {
  return gap.includes("\n\n") ? "\n\n" : gap.includes("\n") ? "\n" : " ";
}

function sentenceSpan(sentence, text) {
  const span = document.createElement("span");
  const label = LABELS.includes(sentence.label) ? sentence.label : "filler";
  span.className = "sentence " + label;
  span.dataset.label = label;
  span.title = label + " " + sentence.score.toFixed(2);
  span.textContent = text;
  return span;
}

function render() {
  const result = byId("result");
  result.replaceChildren();
  if (shown === null) {
    return;
  }
  const factsOnly = byId("facts-only").checked;
  const points = shown.points;
  let cursor = 0;
  let previousEnd = null;
  for (const sentence of shown.article.sentences) {
    if (factsOnly) {
      if (sentence.label !== "fact") {
        continue;
      }
      if (previousEnd !== null) {
        result.append(gapSeparator(slice(points, previousEnd, sentence.start)));
      }
      previousEnd = sentence.end;
    } else {
      result.append(slice(points, cursor, sentence.start));
      cursor = sentence.end;
    }
    result.append(sentenceSpan(sentence, slice(points, sentence.start, sentence.end)));
  }
  if (!factsOnly) {
    result.append(slice(points, cursor, points.length));
  }
  const shares = byId("shares");
  shares.replaceChildren();
  for (const label of LABELS) {
    const share = document.createElement("span");
    share.className = label;
    share.dataset.label = label;
    share.textContent = label + " " + Math.round(100 * shown.article.shares[label]) + "%";
    shares.append(share);
  }
}

async function labelArticle() {
  const text = byId("article").value;
  if (!text.trim()) {
    setStatus("Paste or drop an article first.", true);
    return;
  }
  const button = byId("label-button");
  button.disabled = true;
  setStatus("Labelling…", false);
  try {
    const headers = { "Content-Type": "application/json" };
    const key = byId("key").value.trim();
    if (key) {
      headers["X-API-Key"] = key;
    }
    const response = await fetch("/v1/label", {
      method: "POST",
      headers: headers,
      body: JSON.stringify({ text: text }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      setStatus("Error " + response.status + ": " + (body.detail || response.statusText), true);
      return;
    }
    shown = { points: Array.from(text), article: body.articles[0] };
    render();
    const count = shown.article.sentences.length;
    setStatus(count + " sentences labelled (" + body.precision + ").", false);
  } catch (error) {
    setStatus("Could not reach the service: " + error.message, true);
  } finally {
    button.disabled = false;
  }
}

function readDroppedFile(event) {
  const file = event.dataTransfer && event.dataTransfer.files[0];
  byId("article").classList.remove("dragging");
  if (!file) {
    return; // dropped text: the textarea inserts it itself
  }
  event.preventDefault();
  file.text().then(
    (text) => {
      byId("article").value = text;
      labelArticle();
    },
    () => setStatus("Could not read " + file.name + " as text.", true),
  );
}

document.addEventListener("DOMContentLoaded", () => {
  const area = byId("article");
  byId("label-button").addEventListener("click", labelArticle);
  byId("facts-only").addEventListener("change", render);
  area.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      labelArticle();
    }
  });
  area.addEventListener("dragover", (event) => {
    event.preventDefault();
    area.classList.add("dragging");
  });
  area.addEventListener("dragleave", () => area.classList.remove("dragging"));
  area.addEventListener("drop", readDroppedFile);
});
