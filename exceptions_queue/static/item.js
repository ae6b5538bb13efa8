// Item page: highlight a field's box on the page image, keyboard shortcuts, editable tables.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll(".field-row"));
  var current = -1;

  function boxes(name) {
    return document.querySelectorAll('rect.box[data-field="' + CSS.escape(name) + '"]');
  }

  function select(i, scrollRow) {
    if (i < 0 || i >= rows.length) return;
    rows.forEach(function (r) { r.classList.remove("selected"); });
    document.querySelectorAll("rect.box.active").forEach(function (b) { b.classList.remove("active"); });
    current = i;
    var row = rows[i];
    row.classList.add("selected");
    if (scrollRow) row.scrollIntoView({ block: "nearest" });
    var found = boxes(row.dataset.field);
    found.forEach(function (b) { b.classList.add("active"); });
    if (found.length) {
      var frame = found[0].closest(".page-frame");
      var viewer = document.querySelector(".viewer");
      var svg = found[0].ownerSVGElement;
      if (frame && viewer && svg) {
        var rect = found[0].getBoundingClientRect();
        var vrect = viewer.getBoundingClientRect();
        if (rect.top < vrect.top || rect.bottom > vrect.bottom) {
          viewer.scrollTop += rect.top - vrect.top - vrect.height / 3;
        }
      }
    }
  }

  rows.forEach(function (row, i) {
    row.addEventListener("focusin", function () { select(i, false); });
    row.addEventListener("click", function () { select(i, false); });
  });

  document.querySelectorAll("rect.box").forEach(function (box) {
    box.addEventListener("click", function () {
      var name = box.getAttribute("data-field");
      var i = rows.findIndex(function (r) { return r.dataset.field === name; });
      if (i >= 0) {
        select(i, true);
        var input = rows[i].querySelector("input:not([type=hidden])");
        if (input) input.focus();
      }
    });
  });

  function editing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA");
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var active = document.activeElement;
    if (editing(active)) {
      if (ev.key === "Escape") { active.blur(); }
      return;
    }
    if (ev.key === "j" || ev.key === "ArrowDown") {
      select(Math.min(rows.length - 1, current + 1), true); ev.preventDefault();
    } else if (ev.key === "k" || ev.key === "ArrowUp") {
      select(Math.max(0, current - 1), true); ev.preventDefault();
    } else if (ev.key === "Enter" && current >= 0) {
      var input = rows[current].querySelector("input:not([type=hidden]):not([readonly])");
      if (input) { input.focus(); input.select(); ev.preventDefault(); }
    } else if (ev.key === "a") {
      var approve = document.getElementById("approve");
      if (approve) { ev.preventDefault(); approve.click(); }
    } else if (ev.key === "r") {
      var reason = document.getElementById("reject-reason");
      if (reason) { ev.preventDefault(); reason.focus(); }
    } else if (ev.key === "s") {
      var save = document.getElementById("save");
      if (save) { ev.preventDefault(); save.click(); }
    }
  });

  document.querySelectorAll("button.add-row").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var name = btn.dataset.table;
      var cols = btn.dataset.columns.split(",");
      var tbody = document.querySelector('table[data-table="' + CSS.escape(name) + '"] tbody');
      if (!tbody) return;
      var index = tbody.rows.length;
      var tr = document.createElement("tr");
      cols.forEach(function (col) {
        var td = document.createElement("td");
        var input = document.createElement("input");
        input.name = "row:" + name + ":" + index + ":" + col;
        td.appendChild(input);
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
      tr.querySelector("input").focus();
    });
  });

  if (rows.length) {
    var first = rows.findIndex(function (r) { return r.classList.contains("has-findings"); });
    select(first >= 0 ? first : 0, false);
  }
})();
