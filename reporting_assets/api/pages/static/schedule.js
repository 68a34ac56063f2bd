// The schedule form: the cron in words and the next runs follow what is typed; a bad cron,
// timezone or recipient is named next to its field as you type.
import { post, formBody, debounce } from "/static/app.js";

const form = document.getElementById("schedule-form");
if (form) {
  const timing = document.getElementById("timing");
  const checked = ["cron", "timezone", "recipients"];
  const delivery = form.elements.delivery_method;

  const showDelivery = () => {
    for (const box of form.querySelectorAll("[data-delivery]")) {
      box.hidden = !(delivery.value === "both" || delivery.value === box.dataset.delivery);
    }
  };

  const check = debounce(async () => {
    const { data } = await post("/schedules/check", formBody(form), form);
    if (data.html !== undefined) timing.innerHTML = data.html;
    for (const key of checked) {
      const messages = (data.errors || {})[key] || [];
      document.getElementById(`err-${key}`).textContent = messages.join(" ");
      const control = document.querySelector(`[aria-describedby~="err-${key}"]`);
      if (messages.length) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }
  }, 300);

  form.addEventListener("input", (event) => { if (event.target.matches("#cron, #timezone, #recipients")) check(); });
  delivery.addEventListener("change", showDelivery);
  showDelivery();
}
