// Claim intake and correction: find a hospital by typing, and fill a registered person's name.
(function () {
  const filter = document.getElementById("institution-filter");
  const select = document.getElementById("id_institution");
  if (filter && select) {
    filter.addEventListener("input", function () {
      const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      let shown = [];
      Array.from(select.options).forEach(function (option) {
        if (!option.value) return; // 不在列表中：手工填写 stays
        const text = option.textContent.toLowerCase();
        const match = words.every(function (word) { return text.includes(word); });
        option.hidden = !match;
        if (match) shown.push(option);
      });
      if (shown.length === 1 && select.value !== shown[0].value) {
        select.value = shown[0].value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    // Enter in the filter must not submit the claim.
    filter.addEventListener("keydown", function (event) { if (event.key === "Enter") event.preventDefault(); });
  }
  document.body.addEventListener("htmx:afterSwap", function () {
    const found = document.getElementById("panel-person-fill");
    if (!found) return;
    const name = document.getElementById("id_name");
    if (name && !name.value) name.value = found.dataset.name;
    const insurance = document.getElementById("id_insurance_type");
    if (insurance && found.dataset.insuranceType) insurance.value = found.dataset.insuranceType;
  });
})();
