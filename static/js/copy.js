/*
 * Copy buttons: <button data-copy="ID"> copies the value of the field with that id
 * (an invitation or reset link) and says so beside itself. Without JavaScript the
 * field is still there to select and copy by hand.
 */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) {
      return;
    }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    var status = document.getElementById(button.getAttribute("data-copy") + "-status");
    function done(text) {
      if (status) {
        status.textContent = text;
      }
    }
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () { done("Copied."); },
        function () { done("Select the link and copy it."); }
      );
    } else {
      done(document.execCommand("copy") ? "Copied." : "Select the link and copy it.");
    }
  });
})();
