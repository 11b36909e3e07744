// Batch approval: "select all" ticks every claim this supervisor may approve (not the disabled ones).
(function () {
  const all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll("#approval-queue input[name=claim]").forEach(function (box) { box.checked = all.checked; });
  });
})();
