// Upload page: show how much of a big settlement file has been sent (a month can be 100 MB),
// then follow the server's answer like a normal form post would.
(function () {
  const form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  const box = document.getElementById("upload-progress");
  const bar = box.querySelector(".progress-bar");
  const note = document.getElementById("upload-note");
  form.addEventListener("submit", function (event) {
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) return;
    event.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    box.classList.remove("d-none");
    form.querySelector("button[type=submit]").disabled = true;
    const mb = (bytes) => (bytes / 1048576).toFixed(1);
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      const percent = Math.round((e.loaded * 100) / e.total);
      bar.style.width = percent + "%";
      bar.textContent = percent + "%";
      note.textContent = "正在上传：" + mb(e.loaded) + " / " + mb(e.total) + " MB";
    });
    xhr.upload.addEventListener("load", function () {
      note.textContent = "上传完成，正在保存文件并开始校验…";
    });
    xhr.addEventListener("load", function () {
      if (xhr.responseURL && xhr.responseURL.split("#")[0] !== window.location.href.split("#")[0]) {
        window.location.href = xhr.responseURL;
      } else {
        document.open();
        document.write(xhr.responseText);
        document.close();
      }
    });
    xhr.addEventListener("error", function () {
      note.textContent = "上传失败：网络中断或文件过大，请重试。";
      form.querySelector("button[type=submit]").disabled = false;
    });
    xhr.send(new FormData(form));
  });
})();
