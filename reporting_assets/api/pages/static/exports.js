// One-click downloads, "Run now" and "Retry": the button is disabled while its request runs
// (and each form carries a one-time nonce, so a double click makes one export), the export's
// progress is shown, and a finished download starts by itself.
import { post, getJson, formBody } from "/static/app.js";

const POLL_MS = 1000;
const freshNonce = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function follow(statusUrl, progress, { download }) {
  for (;;) {
    const { ok, data } = await getJson(statusUrl);
    if (!ok) { progress.textContent = data.error ? data.error.message : "The export could not be read."; return; }
    const rows = data.row_count != null ? `, ${data.row_count.toLocaleString()} rows` : "";
    if (data.status === "completed") {
      progress.innerHTML = "";
      const link = document.createElement("a");
      link.href = data.download;
      link.textContent = `Ready${rows}: download again`;
      progress.append("✓ ", link);
      progress.dataset.status = "completed";
      if (download) location.assign(data.download);
      return;
    }
    if (data.status === "failed") {
      progress.textContent = `✗ Failed: ${data.error_message || "see the export"}`;
      progress.dataset.status = "failed";
      return;
    }
    progress.textContent = `${data.status === "pending" ? "Waiting for its run" : "Making the file"}…`;
    progress.dataset.status = data.status;
    await sleep(POLL_MS);
  }
}

async function submit(form, { download }) {
  const button = form.querySelector("button[type=submit]");
  const progress = form.querySelector(".progress");
  if (button.disabled) return;
  button.disabled = true;
  progress.textContent = "Starting…";
  try {
    const { ok, data } = await post(form.action, formBody(form));
    if (!ok) { progress.textContent = `✗ ${data.error ? data.error.message : "Not started."}`; return; }
    progress.dataset.export = data.export_id;
    await follow(data.status, progress, { download });
  } catch (error) {
    if (error.message !== "signed out") progress.textContent = `✗ ${error.message}`;
  } finally {
    button.disabled = false;
    if (form.elements.nonce) form.elements.nonce.value = freshNonce();
  }
}

for (const form of document.querySelectorAll("form[data-download], form[data-run-now], form[data-retry]")) {
  if (form.elements.nonce) form.elements.nonce.value = freshNonce();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(form, { download: form.hasAttribute("data-download") });
  });
}
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => { if (!confirm(form.dataset.confirm)) event.preventDefault(); });
}
const saved = document.getElementById("saved-note");
if (saved) {
  sessionStorage.removeItem("draft:/reports/new");
  sessionStorage.removeItem("draft:/reports");
  sessionStorage.removeItem(`draft:/reports/${saved.dataset.report}`);
  sessionStorage.removeItem(`draft:/reports/${saved.dataset.report}/edit`);
}
