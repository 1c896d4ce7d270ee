// The report's behaviour: draw the scatter from its JSON, sort the candidates table on a
// header click, and show a candidate's row when its point is clicked. Reads only this page.
(function () {
  "use strict";

  function drawScatter() {
    var holder = document.getElementById("scatter");
    var spec = document.getElementById("scatter-figure");
    if (!holder || !spec) return;
    if (typeof Plotly === "undefined") {
      holder.textContent = "The plot could not be drawn: plotly.js did not load.";
      return;
    }
    var figure = JSON.parse(spec.textContent);
    Plotly.newPlot(holder, figure.data, figure.layout, figure.config).then(function () {
      holder.setAttribute("data-rendered", "true");
      holder.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata !== undefined) showCandidate(point.customdata - 1);
      });
    });
  }

  function showCandidate(index) {
    var row = document.getElementById("candidate-" + index);
    if (!row) return;
    row.scrollIntoView({ block: "center" });
    row.classList.add("flash");
    setTimeout(function () { row.classList.remove("flash"); }, 1600);
  }

  // Cells carry data-sort: a number, or text; an empty value (failed, not measured) stays last.
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) return x - y;
    return a.localeCompare(b, undefined, { numeric: true });
  }

  function sortTable(table, header) {
    var column = Array.prototype.indexOf.call(header.parentNode.children, header);
    var body = table.querySelector("tbody.sortable");
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    var key = function (row) { return row.cells[column].getAttribute("data-sort") || ""; };
    rows.sort(function (r, s) {
      var a = key(r), b = key(s);
      if (a === "" || b === "") return (a === "") - (b === "");
      return ascending ? compare(a, b) : compare(b, a);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function makeSortable() {
    document.querySelectorAll("table.sortable-table").forEach(function (table) {
      table.querySelectorAll("thead th").forEach(function (header) {
        header.tabIndex = 0;
        header.addEventListener("click", function () { sortTable(table, header); });
        header.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortTable(table, header); }
        });
      });
    });
  }

  function hideFailed() {
    var box = document.getElementById("hide-failed");
    var table = document.getElementById("candidates");
    if (!box || !table) return;
    box.addEventListener("change", function () { table.classList.toggle("hide-failed", box.checked); });
  }

  makeSortable();
  hideFailed();
  drawScatter();
})();
