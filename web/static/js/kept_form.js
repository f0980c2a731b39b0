/* issue 17 · B: nothing lost at the window. No inline script (CSP); behaviour hangs on data-.
 * - form[data-max-bytes]: a chosen file over the limit is refused at once, before submitting,
 *   with the server's own words (data-too-large); the other fields are untouched.
 * - .held-upload[data-for=NAME]: a file kept from a refused submit, moved next to its field.
 */
(function () {
  "use strict";

  function fieldOf(input) {
    return input.closest("[data-field]") || input.parentNode;
  }

  function showError(input, text) {
    var field = fieldOf(input);
    var id = (input.id || input.name) + "-size-error";
    var note = document.getElementById(id);
    if (!text) {
      if (note) { note.remove(); }
      input.removeAttribute("aria-invalid");
      field.classList.remove("invalid");
      return;
    }
    if (!note) {
      note = document.createElement("p");
      note.className = "field-error size-error";
      note.id = id;
      note.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", note);
    }
    note.textContent = text;
    input.setAttribute("aria-invalid", "true");
    field.classList.add("invalid");
  }

  function tooLarge(input, limit) {
    return Array.prototype.some.call(input.files || [], function (f) { return f.size > limit; });
  }

  document.querySelectorAll("form[data-max-bytes]").forEach(function (form) {
    var message = form.getAttribute("data-too-large") || "文件过大";
    function limitOf() { return parseInt(form.getAttribute("data-max-bytes"), 10) || Infinity; }
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      input.addEventListener("change", function () {
        if (tooLarge(input, limitOf())) {
          var name = input.files[0].name;
          input.value = "";  // not sent; a held file (if any) stays
          showError(input, "「" + name + "」" + message + ", 请重新选择较小的文件");
        } else {
          showError(input, "");
        }
      });
    });
    // capture: runs before clerk.js disables the buttons of a form[data-once]
    form.addEventListener("submit", function (event) {
      var bad = Array.prototype.filter.call(
        form.querySelectorAll("input[type=file]"), function (i) { return tooLarge(i, limitOf()); });
      if (bad.length) {
        event.preventDefault();
        event.stopImmediatePropagation();
        bad.forEach(function (i) { i.value = ""; showError(i, message + ", 请重新选择较小的文件"); });
        bad[0].focus();
      }
    }, true);
  });

  document.querySelectorAll(".held-upload[data-for]").forEach(function (held) {
    var name = held.getAttribute("data-for");
    var field = Array.prototype.find.call(document.querySelectorAll("[data-field]"), function (f) {
      return f.getAttribute("data-field") === name;
    });
    if (!field) { return; }
    var label = field.querySelector("label");
    if (label) { label.insertAdjacentElement("afterend", held); } else { field.prepend(held); }
  });
}());
