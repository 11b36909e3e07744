// Counter form helpers: Enter in the ID number looks the person up instead of
// submitting; switches show their section.
document.addEventListener("keydown", function (event) {
  if (event.key === "Enter" && event.target.matches("#id_id_number")) {
    event.preventDefault();
    event.target.dispatchEvent(new Event("change", { bubbles: true }));
  }
});
document.addEventListener("change", function (event) {
  const toggle = event.target.closest("[data-toggles]");
  if (toggle) {
    document.querySelectorAll(toggle.dataset.toggles).forEach(function (el) { el.hidden = !toggle.checked; });
  }
});
