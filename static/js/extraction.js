// The patient table of a study's copy: add, duplicate and delete rows; move between
// rows with the arrow keys or Enter; paste a block of cells copied from a spreadsheet;
// Ctrl+S saves; leaving the page with unsaved changes asks first.
// Without this script the table still works: three blank rows and a delete box per row.
(function () {
  "use strict";

  function init() {
    var form = document.getElementById("copy-form");
    var body = form && form.querySelector("[data-rows]");
    var template = document.getElementById("row-template");
    if (!body || !template) return;
    var dirty = false;
    var note = form.querySelector("[data-unsaved-note]");
    var count = document.querySelector("[data-row-count]");

    function rows() {
      return Array.prototype.slice.call(body.querySelectorAll("tr[data-row]"));
    }

    function markDirty() {
      if (dirty) return;
      dirty = true;
      if (note) note.hidden = false;
    }

    function renumber() {
      var live = 0;
      rows().forEach(function (row, index) {
        var number = row.querySelector("[data-row-number]");
        if (number) number.textContent = String(index + 1);
        cellsOf(row).forEach(function (input) {
          var label = input.getAttribute("aria-label") || "";
          input.setAttribute("aria-label", label.replace(/row \d*$/, "row " + (index + 1)));
        });
        var filled = cellsOf(row).some(function (input) {
          return input.value.trim() !== "";
        });
        if (filled && !row.classList.contains("xrow--deleted")) live += 1;
      });
      if (count) count.textContent = String(live);
    }

    function nextIndex() {
      var index = parseInt(body.getAttribute("data-next-index"), 10) || 0;
      body.setAttribute("data-next-index", String(index + 1));
      return String(index);
    }

    function newRow() {
      var html = template.innerHTML.replace(/__i__/g, nextIndex());
      var holder = document.createElement("tbody");
      holder.innerHTML = html.trim();
      return holder.querySelector("tr");
    }

    function cellsOf(row) {
      return Array.prototype.slice.call(row.querySelectorAll("input[data-cell]"));
    }

    function addRow(after) {
      var row = newRow();
      if (after && after.nextSibling) body.insertBefore(row, after.nextSibling);
      else body.appendChild(row);
      renumber();
      return row;
    }

    function duplicate(row) {
      var copy = addRow(row);
      var from = cellsOf(row);
      cellsOf(copy).forEach(function (input, i) {
        if (i > 0 && from[i]) input.value = from[i].value; // the patient's name is theirs alone
      });
      markDirty();
      var first = cellsOf(copy)[0];
      if (first) first.focus();
    }

    function move(input, step) {
      var row = input.closest("tr");
      var column = cellsOf(row).indexOf(input);
      var all = rows();
      var target = all[all.indexOf(row) + step];
      if (!target && step > 0) target = addRow(row);
      if (!target) return;
      var cell = cellsOf(target)[column];
      if (cell) {
        cell.focus();
        cell.select();
      }
    }

    // Where the browser cannot size a field to its value (CSS field-sizing), its `size`
    // does it, so no value is cut off at the cell's edge.
    var fitsItself = window.CSS && CSS.supports && CSS.supports("field-sizing", "content");
    function fit(input) {
      if (!fitsItself && input.type === "text") input.size = Math.max(8, input.value.length + 1);
    }
    function fitAll() {
      Array.prototype.forEach.call(form.querySelectorAll("input[type=text]"), fit);
    }

    function paste(input, text) {
      var lines = text.replace(/\r\n?/g, "\n").split("\n");
      while (lines.length && lines[lines.length - 1] === "") lines.pop();
      var row = input.closest("tr");
      var column = cellsOf(row).indexOf(input);
      lines.forEach(function (line, offset) {
        if (offset > 0) {
          var all = rows();
          row = all[all.indexOf(row) + 1] || addRow(row);
        }
        var cells = cellsOf(row);
        line.split("\t").forEach(function (value, i) {
          var cell = cells[column + i];
          if (cell) cell.value = value.trim();
        });
      });
      markDirty();
      renumber();
      fitAll();
    }

    fitAll();
    form.addEventListener("input", function (event) {
      markDirty();
      renumber();
      fit(event.target);
    });
    form.addEventListener("submit", function () {
      dirty = false;
    });
    window.addEventListener("beforeunload", function (event) {
      if (!dirty) return;
      event.preventDefault();
      event.returnValue = "";
    });

    form.addEventListener("keydown", function (event) {
      var input = event.target;
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
        event.preventDefault();
        form.requestSubmit(form.querySelector("[data-save]"));
        return;
      }
      if (!input.matches || !input.matches("input[data-cell]")) {
        if (event.key === "Enter" && input.matches && input.matches("input[type=text]")) {
          event.preventDefault(); // Enter in a study field must not save half-typed data
        }
        return;
      }
      if (event.key === "ArrowDown" || (event.key === "Enter" && !event.shiftKey)) {
        event.preventDefault();
        move(input, 1);
      } else if (event.key === "ArrowUp" || (event.key === "Enter" && event.shiftKey)) {
        event.preventDefault();
        move(input, -1);
      }
    });

    body.addEventListener("paste", function (event) {
      var input = event.target;
      if (!input.matches("input[data-cell]")) return;
      var text = (event.clipboardData || window.clipboardData).getData("text");
      if (text.indexOf("\t") === -1 && text.indexOf("\n") === -1) return;
      event.preventDefault();
      paste(input, text);
    });

    body.addEventListener("click", function (event) {
      var button = event.target.closest("[data-row-duplicate]");
      if (button) duplicate(button.closest("tr"));
    });
    body.addEventListener("change", function (event) {
      if (!event.target.matches("[data-row-delete]")) return;
      event.target.closest("tr").classList.toggle("xrow--deleted", event.target.checked);
      renumber();
    });

    var add = form.querySelector("[data-row-add]");
    if (add) {
      add.addEventListener("click", function () {
        var row = addRow(null);
        var first = cellsOf(row)[0];
        if (first) first.focus();
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
