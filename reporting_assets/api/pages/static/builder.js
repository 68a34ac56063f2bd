// The report builder: fields per table, operators per field type, rows added on demand, a live
// preview that follows every change, problems shown next to their control, and a draft kept in
// this tab so a sign-in in between loses nothing.
import { post, formBody, keepDraft, debounce } from "/static/app.js";

const form = document.getElementById("builder");
const catalog = JSON.parse(document.getElementById("catalog").textContent);
const previewBox = document.getElementById("preview");
const pageInput = document.getElementById("preview-page");
const draftKey = `draft:${location.pathname}`;

const tableOf = (name) => catalog.tables.find((t) => t.name === name) || catalog.tables[0];
const currentTable = () => tableOf(form.elements.table.value);

function option(value, text, extra = {}) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  for (const [k, v] of Object.entries(extra)) o.dataset[k] = v;
  return o;
}

function fillFieldSelect(select) {
  const keep = select.value;
  select.replaceChildren(option(select.dataset.fields === "any" ? "*" : "", select.dataset.fields === "any" ? "(rows)" : "(none)"));
  for (const f of currentTable().fields) select.append(option(f.name, f.name, { type: f.type }));
  select.value = [...select.options].some((o) => o.value === keep) ? keep : select.options[0].value;
}

function fillOperators(row) {
  const field = row.querySelector("[data-fields=filter]");
  const ops = row.querySelector("[data-ops]");
  const chosen = field.selectedOptions[0];
  const type = (chosen && chosen.dataset.type) || "text";
  const keep = ops.value;
  ops.replaceChildren(...catalog.operators[type].map(([op, text]) => option(op, text)));
  if ([...ops.options].some((o) => o.value === keep)) ops.value = keep;
  showValueInputs(row);
}

function showValueInputs(row) {
  const op = row.querySelector("[data-ops]").value;
  for (const box of row.querySelectorAll("[data-when]")) {
    const when = box.dataset.when;
    box.hidden = !(when === "value" ? op !== "last" : when === op);
  }
}

function switchTable() {
  for (const set of form.querySelectorAll("fieldset.columns")) {
    const on = set.dataset.table === form.elements.table.value;
    set.hidden = !on;
    set.disabled = !on;
  }
  form.querySelectorAll("[data-fields]").forEach(fillFieldSelect);
  form.querySelectorAll("[data-row=filter]").forEach(fillOperators);
}

function addRow(kind) {
  const rows = form.querySelector(`[data-row=${kind}]`).parentElement;
  const last = rows.lastElementChild;
  const index = rows.children.length;
  const copy = last.cloneNode(true);
  const bump = (text) => text.replace(/([.-])\d+(?=[.-]|$)/, `$1${index}`);
  for (const el of copy.querySelectorAll("[id], [name], [for], [aria-describedby]")) {
    for (const attr of ["id", "name", "for", "aria-describedby"]) {
      if (el.hasAttribute(attr)) el.setAttribute(attr, bump(el.getAttribute(attr)));
    }
    el.removeAttribute("aria-invalid");
    if (el.matches("input")) el.value = el.name.endsWith(".amount") ? "7" : "";
    if (el.matches("select")) el.selectedIndex = 0;
    if (el.matches(".error-text")) el.textContent = "";
  }
  rows.append(copy);
  if (kind === "filter") fillOperators(copy);
  copy.querySelector("select, input").focus();
}

function showErrors(errors) {
  // the preview checks the query, not the name: a name problem from saving stays until the next save
  for (const el of form.querySelectorAll("[aria-invalid]:not(#name)")) el.removeAttribute("aria-invalid");
  for (const el of document.querySelectorAll(".error-text:not(#err-name)")) el.textContent = "";
  for (const [key, messages] of Object.entries(errors)) {
    const target = document.getElementById(`err-${key}`) || document.getElementById("err-form");
    target.textContent = [target.textContent, ...messages].filter(Boolean).join(" ");
    const control = document.querySelector(`[aria-describedby~="err-${key}"]`);
    if (control) control.setAttribute("aria-invalid", "true");
  }
}

let latest = 0;
async function refresh() {
  const mine = ++latest;
  previewBox.setAttribute("aria-busy", "true");
  try {
    const { data } = await post("/reports/preview", formBody(form), form);
    if (mine !== latest) return; // a newer preview was asked for meanwhile
    previewBox.innerHTML = data.html || "";
    showErrors(data.errors || {});
    const names = [...previewBox.querySelectorAll("table.preview th")].map((th) => th.textContent);
    document.getElementById("column-names").replaceChildren(...names.map((n) => option(n, n)));
  } finally {
    previewBox.removeAttribute("aria-busy");
  }
}
const refreshSoon = debounce(refresh, 400);

function restoreDraft() {
  const saved = sessionStorage.getItem(draftKey);
  if (!saved) return;
  const values = new URLSearchParams(saved);
  if (values.get("table")) { form.elements.table.value = values.get("table"); switchTable(); }
  for (const kind of ["agg", "filter", "order"]) {
    const wanted = Math.max(-1, ...[...values.keys()].filter((k) => k.startsWith(`${kind}.`)).map((k) => Number(k.split(".")[1]))) + 1;
    while (form.querySelectorAll(`[data-row=${kind}]`).length < wanted) addRow(kind);
  }
  for (const el of form.querySelectorAll("input[type=checkbox]")) el.checked = values.getAll(el.name).includes(el.value);
  for (const el of form.querySelectorAll("input:not([type=checkbox]):not([type=hidden]), select, textarea")) {
    if (values.has(el.name)) el.value = values.get(el.name);
    if (el.matches("[data-fields=filter]")) fillOperators(el.closest("[data-row]"));
  }
  for (const el of form.querySelectorAll("[data-ops]")) {
    const name = el.name;
    if (values.has(name)) { el.value = values.get(name); showValueInputs(el.closest("[data-row]")); }
  }
  document.getElementById("draft-note").hidden = false;
}

form.addEventListener("change", (event) => {
  const el = event.target;
  if (el === form.elements.table) switchTable();
  if (el.matches("[data-fields=filter]")) fillOperators(el.closest("[data-row]"));
  if (el.matches("[data-ops]")) showValueInputs(el.closest("[data-row]"));
});
form.addEventListener("input", (event) => {
  if (event.target !== pageInput) pageInput.value = "1";
  keepDraft(form);
  refreshSoon();
});
form.addEventListener("change", () => { keepDraft(form); refreshSoon(); });
form.addEventListener("submit", () => keepDraft(form));
form.addEventListener("click", (event) => {
  const add = event.target.closest("[data-add]");
  if (add) addRow(add.dataset.add);
});
previewBox.addEventListener("click", (event) => {
  const button = event.target.closest("[data-page]");
  if (button) { pageInput.value = button.dataset.page; refresh(); }
});
document.getElementById("refresh-preview").addEventListener("click", refresh);
document.getElementById("draft-discard").addEventListener("click", () => {
  sessionStorage.removeItem(draftKey);
  location.reload();
});

form.querySelectorAll("[data-row=filter]").forEach(showValueInputs);
restoreDraft();
refresh();
