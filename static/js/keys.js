/*
 * Keyboard shortcuts, read from the page.
 *
 * Any element with data-key="<keys>" is a shortcut target; "<keys>" is one key
 * ("/", "?") or a two-key sequence typed one after the other ("g r"). What a
 * shortcut does depends on the element:
 *   - a <dialog> opens or closes (the "?" help panel),
 *   - an input, textarea or select gets the focus,
 *   - anything else (links, buttons) is clicked.
 * The templates decide which shortcuts a page has and show them as <kbd> hints;
 * this script only listens. Keys typed into form fields are left alone, and
 * Escape leaves a field that a shortcut focused.
 */
(function () {
  "use strict";

  var SEQUENCE_TIMEOUT_MS = 1500;
  // A key that does something alone and also starts sequences ("x" excludes, "x 3"
  // excludes with the third reason): alone once this passes, or at once on Enter or
  // the same key again.
  var ALONE_AFTER_MS = 900;
  var pending = "";
  var pendingTimer = null;
  var pendingAlone = null;

  function isTyping(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    if (tag === "input") {
      // Ticking a box or pressing a button is not typing: shortcuts still work after it.
      var type = (target.getAttribute("type") || "text").toLowerCase();
      return ["checkbox", "radio", "button", "submit", "reset"].indexOf(type) === -1;
    }
    return (
      tag === "input" ||
      tag === "textarea" ||
      tag === "select" ||
      target.isContentEditable
    );
  }

  function findTarget(keys) {
    var all = document.querySelectorAll("[data-key]");
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-key") === keys) {
        return all[i];
      }
    }
    return null;
  }

  function startsASequence(key) {
    var all = document.querySelectorAll("[data-key]");
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-key").indexOf(key + " ") === 0) {
        return true;
      }
    }
    return false;
  }

  function showPending(key) {
    var box = document.getElementById("key-pending");
    if (!box) {
      return;
    }
    var slot = box.querySelector("[data-key-pending]");
    if (slot) {
      slot.textContent = key;
    }
    box.hidden = key === "";
  }

  function clearPending() {
    pending = "";
    pendingAlone = null;
    if (pendingTimer) {
      window.clearTimeout(pendingTimer);
      pendingTimer = null;
    }
    showPending("");
  }

  function activate(element) {
    var tag = element.tagName.toLowerCase();
    if (tag === "dialog") {
      if (element.open) {
        element.close();
      } else if (typeof element.showModal === "function") {
        element.showModal();
      } else {
        element.setAttribute("open", "");
      }
    } else if (tag === "input" || tag === "textarea" || tag === "select") {
      element.focus();
      if (typeof element.select === "function" && tag !== "select") {
        element.select();
      }
    } else {
      element.click();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) {
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) {
      clearPending();
      return;
    }
    if (isTyping(event.target)) {
      if (event.key === "Escape" && event.target.hasAttribute("data-key")) {
        event.target.blur();
      }
      return;
    }
    var key = event.key;
    if (pending && pendingAlone && (key === "Enter" || key === pending)) {
      var alone = pendingAlone;
      clearPending();
      event.preventDefault();
      activate(alone);
      return;
    }
    if (!key || key.length !== 1) {
      if (key !== "Shift") {
        clearPending();
      }
      return;
    }

    if (pending) {
      var sequence = pending + " " + key;
      clearPending();
      var target = findTarget(sequence);
      if (target) {
        event.preventDefault();
        activate(target);
      }
      return;
    }

    var single = findTarget(key);
    if (single && startsASequence(key)) {
      event.preventDefault();
      pending = key;
      pendingAlone = single;
      showPending(key);
      pendingTimer = window.setTimeout(function () {
        var target = pendingAlone;
        clearPending();
        if (target && document.body.contains(target)) {
          activate(target);
        }
      }, ALONE_AFTER_MS);
      return;
    }
    if (single) {
      event.preventDefault();
      activate(single);
      return;
    }
    if (startsASequence(key)) {
      event.preventDefault();
      pending = key;
      showPending(key);
      pendingTimer = window.setTimeout(clearPending, SEQUENCE_TIMEOUT_MS);
    }
  });
})();
