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
 *
 * No key that does something waits for a timer: a key that is a shortcut alone acts
 * at once, even if some sequence also starts with it (pages avoid that). Only a key
 * that starts sequences and does nothing alone ("g") waits for the next key; the wait
 * is dropped after a while, and doing nothing.
 */
(function () {
  "use strict";

  var SEQUENCE_TIMEOUT_MS = 1500;
  var pending = "";
  var pendingTimer = null;

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
