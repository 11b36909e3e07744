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
