// Confirm dangerous actions: <button data-confirm="确定要…？">
document.addEventListener("click", function (event) {
  const target = event.target.closest("[data-confirm]");
  if (target && !window.confirm(target.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
});
// Show server errors from htmx requests instead of failing silently.
document.body.addEventListener("htmx:responseError", function (event) {
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
