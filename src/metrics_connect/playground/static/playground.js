// The playground's enhancements: charts (Chart.js), sortable tables, the live widget
// search, custom-date fields shown only when chosen, and copy buttons. Every page
// works without them; no inline script exists (the CSP allows this origin's files only).
(function () {
  "use strict";

  var PALETTE = ["#2451d6", "#e8590c", "#16794a", "#9c36b5", "#c92a2a", "#0b7285", "#5c940d", "#862e9c"];

  function parse(text) {
    try { return JSON.parse(text); } catch (e) { return null; }
  }

  function customDates() {
    document.querySelectorAll("select[data-custom]").forEach(function (select) {
      var target = document.getElementById(select.getAttribute("data-custom"));
      if (!target) return;
      var update = function () { target.classList.toggle("is-hidden", select.value !== "custom"); };
      select.addEventListener("change", update);
      update();
    });
  }

  function widgetFilter() {
    document.querySelectorAll("input[data-filter]").forEach(function (input) {
      var list = document.getElementById(input.getAttribute("data-filter"));
      var empty = document.getElementById(input.getAttribute("data-filter") + "-empty");
      if (!list) return;
      var apply = function () {
        var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
        var shown = 0;
        list.querySelectorAll("li.choice").forEach(function (item) {
          var text = item.getAttribute("data-search") || "";
          var box = item.querySelector("input");
          var match = words.every(function (w) { return text.indexOf(w) !== -1; });
          var visible = match || (box && box.checked);
          item.hidden = !visible;
          if (visible) shown += 1;
        });
        if (empty) empty.hidden = shown !== 0;
      };
      input.addEventListener("input", apply);
      // Enter in the search box filters in place instead of reloading the page.
      input.form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    });
  }

  function color(index, comparison) {
    var base = PALETTE[index % PALETTE.length];
    return comparison ? base + "88" : base;
  }

  function drawCharts() {
    if (typeof window.Chart === "undefined") return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = parse(canvas.getAttribute("data-chart"));
      if (!spec) return;
      var round = spec.kind === "pie" || spec.kind === "doughnut";
      var current = 0;
      var previous = 0;
      var datasets = spec.series.map(function (series) {
        var index = series.comparison ? previous++ : current++;
        var c = color(index, series.comparison);
        var set = { label: series.label, data: series.data, borderColor: c, backgroundColor: c };
        if (round) {
          set.backgroundColor = series.data.map(function (_, i) { return color(i, series.comparison); });
          set.borderColor = "#ffffff";
        } else if (spec.kind === "line") {
          set.borderDash = series.comparison ? [6, 4] : [];
          set.pointRadius = series.data.length > 40 ? 0 : 2;
          set.tension = 0.2;
          set.spanGaps = true;
        }
        return set;
      });
      new window.Chart(canvas, {
        type: spec.kind,
        data: { labels: spec.labels, datasets: datasets },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          interaction: { mode: round ? "nearest" : "index", intersect: false },
          plugins: { legend: { position: "bottom" } },
          scales: round ? {} : { y: { beginAtZero: true } }
        }
      });
    });
  }

  function cellValue(row, column) {
    var cell = row.children[column];
    if (!cell) return null;
    var value = parse(cell.getAttribute("data-value"));
    return value === null ? null : value;
  }

  function compare(a, b) {
    if (a === null && b === null) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  function sortableTables() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      heads.forEach(function (th, column) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort";
        button.textContent = th.textContent;
        th.textContent = "";
        th.appendChild(button);
        button.addEventListener("click", function () {
          var ascending = th.getAttribute("aria-sort") !== "ascending";
          heads.forEach(function (other) { other.setAttribute("aria-sort", "none"); });
          th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (x, y) {
            var order = compare(cellValue(x, column), cellValue(y, column));
            return ascending ? order : -order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
  }

  function copyButtons() {
    if (!navigator.clipboard) return;
    document.querySelectorAll("pre.code").forEach(function (pre) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button-quiet button-copy";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy " + (pre.id.indexOf("curl-") === 0 ? "the curl command" : "this block"));
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(pre.textContent).then(function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = "Copy"; }, 1500);
        });
      });
      pre.parentNode.insertBefore(button, pre);
    });
  }

  function start() {
    customDates();
    widgetFilter();
    sortableTables();
    drawCharts();
    copyButtons();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
