// Confirm dangerous actions: <button data-confirm="确定要…？">
document.addEventListener("click", function (event) {
  const target = event.target.closest("[data-confirm]");
  if (target && !window.confirm(target.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
});
// Behaviour that would otherwise be inline handlers (the Content-Security-Policy forbids them):
// <button data-print> prints the page; <input type=checkbox data-select-all="selector"> ticks
// every box the selector finds; <select data-autosubmit> submits its form on change, and a form
// with data-year-path="/base/" goes to /base/<year>/ instead of submitting a query.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
document.addEventListener("change", function (event) {
  const target = event.target;
  if (target.matches("input[data-select-all]")) {
    document.querySelectorAll(target.dataset.selectAll).forEach(function (box) { box.checked = target.checked; });
  }
  if (target.matches("select[data-autosubmit]") && target.form) {
    target.form.requestSubmit();
  }
});
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (form.dataset && form.dataset.yearPath && form.elements.year) {
    event.preventDefault();
    window.location.href = form.dataset.yearPath + encodeURIComponent(form.elements.year.value) + "/";
  }
});
// Show server errors from htmx requests instead of failing silently.
if (document.body) document.body.addEventListener("htmx:responseError", function (event) {
  const status = event.detail.xhr.status;
  const text = status === 403 ? "没有权限执行此操作。" : status === 404 ? "没有找到该记录。" : "服务器出错（" + status + "），请稍后重试。";
  window.alert(text);
});
// A panel that htmx refreshes from the server must never overwrite what the user ticked:
// the checkboxes on the page are the single source of truth. Just before a response is swapped
// into a [data-keep-ticks] element, the current ticks are read; right after, they are put back,
// and when the server had seen other ticks the panel is asked again so its counts catch up.
document.body.addEventListener("htmx:beforeSwap", function (event) {
  const target = event.detail.target;
  if (!target || !target.matches("[data-keep-ticks]")) return;
  const ticks = new Map();
  target.querySelectorAll("input[type=checkbox][name]").forEach(function (box) {
    ticks.set(box.name + "\u0000" + box.value, box.checked);
  });
  target.yidiKeptTicks = ticks;
});
document.body.addEventListener("htmx:afterSwap", function (event) {
  const target = event.detail.target;
  const ticks = target && target.yidiKeptTicks;
  if (!ticks) return;
  delete target.yidiKeptTicks;
  let changed = null;
  target.querySelectorAll("input[type=checkbox][name]").forEach(function (box) {
    const key = box.name + "\u0000" + box.value;
    if (ticks.has(key) && box.checked !== ticks.get(key)) {
      box.checked = ticks.get(key);
      changed = box;
    }
  });
  // A change event from a restored box reaches the same hx-post as the user's own click.
  if (changed) htmx.trigger(changed, "change");
});
