// Shared by every page: sending forms with the CSRF token, and going to sign-in (keeping the
// form) when the session ended.
export const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

export function formBody(form, extra = {}) {
  const body = new URLSearchParams(new FormData(form));
  for (const [k, v] of Object.entries(extra)) body.set(k, v);
  return body;
}

export function keepDraft(form) {
  sessionStorage.setItem(`draft:${location.pathname}`, new URLSearchParams(new FormData(form)).toString());
}

// POST a form (or fields) and get JSON back; a lost session keeps the form and goes to sign-in.
export async function post(url, body, form = null) {
  const response = await fetch(url, {
    method: "POST",
    body,
    headers: { Accept: "application/json", "X-CSRF-Token": csrf() },
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({ error: { message: `The server answered ${response.status}.` } }));
  if (response.status === 401 && data.error && data.error.sign_in) {
    if (form) keepDraft(form);
    const next = encodeURIComponent(location.pathname + location.search);
    location.assign(`/sign-in?next=${next}&reason=${encodeURIComponent(data.error.message)}`);
    throw new Error("signed out");
  }
  return { ok: response.ok, status: response.status, data };
}

export async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && data.error && data.error.sign_in) {
    location.assign(data.error.sign_in);
    throw new Error("signed out");
  }
  return { ok: response.ok, status: response.status, data };
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}
