/* 窗口/审批人员 pages: no inline script (CSP); behaviour hangs on data- attributes.
 * - form[data-autosubmit]: a changed select submits the filter form at once.
 * - form[data-once]: the submit button is disabled after the first submit (no double 办理).
 * - [data-print]: prints the page (the receipt).
 */
(function () {
  "use strict";

  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () {
        form.submit();
      });
    });
  });

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        // after this event, so the button's own name/value still goes with the form
        window.setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });

  // The first field with an error gets the focus, so the clerk sees what to fix.
  var firstInvalid = document.querySelector(".schema-form .invalid input, .schema-form .invalid select, .schema-form .invalid textarea");
  if (firstInvalid && typeof firstInvalid.focus === "function") {
    firstInvalid.focus();
  }
})();
