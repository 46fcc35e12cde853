// The review report's behaviour (inlined by guideproof/report.py): choose a chart, pan and
// zoom it, search it, and show a box's article in the side panel. No network access.
(function () {
  "use strict";
  const SVGNS = "http://www.w3.org/2000/svg";
  const select = document.getElementById("chart-select");
  const viewport = document.getElementById("viewport");
  const search = document.getElementById("search");
  const status = document.getElementById("search-status");
  const results = document.getElementById("results");
  const panel = document.getElementById("panel");
  const panelBody = document.getElementById("panel-body");
  const views = new Map(); // chart element -> {svg, home: [x, y, w, h], box: [x, y, w, h], layer}
  let matches = [];
  let current = -1;
  let opener = null; // the box whose article the panel shows (focus returns to it)

  function chart() { return document.getElementById("chart-" + select.value); }

  function view(c) {
    if (!views.has(c)) {
      const svg = c.querySelector("svg");
      const home = svg.getAttribute("viewBox").split(/[ ,]+/).map(Number);
      const graph = svg.querySelector("g.graph");
      const layer = document.createElementNS(SVGNS, "g"); // rings drawn above the chart
      layer.setAttribute("class", "rings");
      graph.appendChild(layer);
      // A recommendation is only its text: give it a box to click, so that a click between
      // its lines opens the recommendation, not the step around it.
      svg.querySelectorAll("a[data-ref]").forEach(function (a) {
        const b = a.getBBox();
        const r = document.createElementNS(SVGNS, "rect");
        r.setAttribute("class", "hit");
        r.setAttribute("x", b.x); r.setAttribute("y", b.y); r.setAttribute("width", b.width); r.setAttribute("height", b.height);
        r.setAttribute("fill", "transparent");
        a.insertBefore(r, a.firstChild);
      });
      views.set(c, { svg: svg, home: home, box: home.slice(), layer: layer });
    }
    return views.get(c);
  }

  function apply(v) { v.svg.setAttribute("viewBox", v.box.map(function (n) { return n.toFixed(2); }).join(" ")); }

  // Zoom by `factor` around the chart point (px, py) (default: the centre of the view).
  function zoom(v, factor, px, py) {
    const b = v.box;
    const w = Math.min(Math.max(b[2] / factor, v.home[2] / 40), v.home[2] * 2);
    const f = b[2] / w;
    if (px === undefined) { px = b[0] + b[2] / 2; py = b[1] + b[3] / 2; }
    v.box = [px - (px - b[0]) / f, py - (py - b[1]) / f, w, b[3] / f];
    apply(v);
  }

  function fit(v) { v.box = v.home.slice(); apply(v); }

  // A client point in the chart's coordinates.
  function point(v, x, y) {
    const m = v.svg.getScreenCTM();
    return m ? new DOMPoint(x, y).matrixTransform(m.inverse()) : new DOMPoint(0, 0);
  }

  // The box of an element in the coordinates of the graph group (where rings are drawn).
  function bbox(el) {
    const b = el.getBBox();
    return { x: b.x, y: b.y, width: b.width, height: b.height };
  }

  function graphToSvg(v, x, y) {
    const g = v.svg.querySelector("g.graph");
    const m = v.svg.getScreenCTM().inverse().multiply(g.getScreenCTM());
    return new DOMPoint(x, y).matrixTransform(m);
  }

  // Centre the view on an element, zooming in until its text can be read.
  function reveal(el) {
    const v = view(chart());
    const b = bbox(el);
    const c = graphToSvg(v, b.x + b.width / 2, b.y + b.height / 2);
    const readable = viewport.clientWidth / 1.0; // about one chart point per screen pixel
    if (v.box[2] > readable * 1.6) { const f = v.box[2] / readable; v.box = [v.box[0], v.box[1], v.box[2] / f, v.box[3] / f]; }
    v.box = [c.x - v.box[2] / 2, c.y - v.box[3] / 2, v.box[2], v.box[3]];
    apply(v);
  }

  function visible(el) {
    const r = el.getBoundingClientRect();
    const p = viewport.getBoundingClientRect();
    return r.left >= p.left && r.right <= p.right && r.top >= p.top && r.bottom <= p.bottom && r.width > 0;
  }

  function ring(v, el, cls) {
    const b = bbox(el);
    const r = document.createElementNS(SVGNS, "rect");
    r.setAttribute("class", "ring " + cls);
    r.setAttribute("x", b.x - 4); r.setAttribute("y", b.y - 4);
    r.setAttribute("width", b.width + 8); r.setAttribute("height", b.height + 8);
    r.setAttribute("rx", 4);
    v.layer.appendChild(r);
    return r;
  }

  function clearRings(v, cls) {
    v.layer.querySelectorAll(".ring." + cls).forEach(function (r) { r.remove(); });
  }

  // -- the panel -------------------------------------------------------------------

  function openPanel(ref, from) {
    const article = document.getElementById(ref);
    if (!article) { return; }
    opener = from || null;
    panelBody.innerHTML = "";
    const copy = article.cloneNode(true);
    copy.removeAttribute("id");
    copy.querySelectorAll("[id]").forEach(function (x) { x.id = "panel-" + x.id; });
    const h = copy.querySelector("h3");
    if (h) { h.setAttribute("tabindex", "-1"); }
    copy.setAttribute("aria-labelledby", h ? h.id : "");
    panelBody.appendChild(copy);
    panel.dataset.ref = ref;
    views.forEach(function (v) { clearRings(v, "selected"); });
    if (from && from.closest(".chart")) { ring(view(from.closest(".chart")), from, "selected"); }
    panel.scrollTop = 0;
    if (from) { (h || panel).focus({ preventScroll: true }); }
  }

  function closePanel() {
    panelBody.innerHTML = "<p>Select a box in the chart: click it, or Tab to it and press Enter.</p>";
    delete panel.dataset.ref;
    views.forEach(function (v) { clearRings(v, "selected"); });
    if (opener && document.contains(opener)) { opener.focus(); }
    opener = null;
  }

  // The box showing `ref` in the current chart, or in another chart (which is then shown).
  function boxFor(ref) {
    const here = chart().querySelector('[data-ref="' + ref + '"]');
    if (here) { return here; }
    const other = document.querySelector('.chart [data-ref="' + ref + '"]');
    if (other) { show(other.closest(".chart").id.slice(6)); }
    return other;
  }

  document.getElementById("panel-close").addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { closePanel(); } });
  panel.addEventListener("click", function (e) {
    const a = e.target.closest("a[data-open], a[href^='#finding-'], a[href^='#source-']");
    if (!a) { return; }
    const ref = a.dataset.open;
    if (!ref) { return; } // findings and sources: follow the link to the page section
    e.preventDefault();
    const el = boxFor(ref);
    if (el) { reveal(el); el.focus({ preventScroll: true }); }
    openPanel(ref, el);
  });

  // -- charts: choose, pan, zoom, open ---------------------------------------------

  function show(key) {
    select.value = key;
    document.querySelectorAll(".chart").forEach(function (c) { c.hidden = c.id !== "chart-" + key; });
    view(chart());
    runSearch();
  }

  select.addEventListener("change", function () { show(select.value); });
  document.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      const v = view(chart());
      if (b.dataset.zoom === "fit") { fit(v); } else { zoom(v, b.dataset.zoom === "in" ? 1.4 : 1 / 1.4); }
    });
  });

  let drag = null;
  viewport.addEventListener("pointerdown", function (e) {
    if (e.button !== 0) { return; }
    drag = { x: e.clientX, y: e.clientY, moved: false, v: view(chart()), id: e.pointerId };
  });
  viewport.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 5) { return; }
    if (!drag.moved) { drag.moved = true; viewport.classList.add("dragging"); viewport.setPointerCapture(drag.id); }
    const a = point(drag.v, drag.x, drag.y), b = point(drag.v, e.clientX, e.clientY);
    drag.v.box[0] -= b.x - a.x; drag.v.box[1] -= b.y - a.y;
    apply(drag.v);
    drag.x = e.clientX; drag.y = e.clientY;
  });
  function endDrag() {
    if (drag && drag.moved) { viewport.classList.remove("dragging"); setTimeout(function () { drag = null; }, 0); }
    else { drag = null; }
  }
  viewport.addEventListener("pointerup", endDrag);
  viewport.addEventListener("pointercancel", endDrag);
  viewport.addEventListener("wheel", function (e) {
    e.preventDefault();
    const v = view(chart());
    const p = point(v, e.clientX, e.clientY);
    zoom(v, e.deltaY < 0 ? 1.15 : 1 / 1.15, p.x, p.y);
  }, { passive: false });

  viewport.addEventListener("click", function (e) {
    const el = e.target.closest("[data-ref]");
    if (drag && drag.moved) { e.preventDefault(); return; }
    if (!el) { return; }
    e.preventDefault(); // a recommendation's link would jump to the text below
    el.focus({ preventScroll: true });
    openPanel(el.dataset.ref, el);
  });
  viewport.addEventListener("keydown", function (e) {
    const el = e.target.closest("[data-ref]");
    if (el && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      openPanel(el.dataset.ref, el);
      return;
    }
    const v = view(chart());
    const step = v.box[2] / 8;
    const keys = { "+": function () { zoom(v, 1.4); }, "=": function () { zoom(v, 1.4); }, "-": function () { zoom(v, 1 / 1.4); },
      "0": function () { fit(v); }, "ArrowLeft": function () { v.box[0] -= step; apply(v); },
      "ArrowRight": function () { v.box[0] += step; apply(v); }, "ArrowUp": function () { v.box[1] -= step; apply(v); },
      "ArrowDown": function () { v.box[1] += step; apply(v); } };
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
  });
  viewport.addEventListener("focusin", function (e) {
    const el = e.target.closest("[data-ref]");
    if (!el) { return; }
    const v = view(chart());
    clearRings(v, "focus");
    ring(v, el, "focus");
    if (!visible(el)) { reveal(el); }
  });
  viewport.addEventListener("focusout", function () { clearRings(view(chart()), "focus"); });

  // -- search ----------------------------------------------------------------------

  function label(el) { return el.getAttribute("aria-label"); }

  function runSearch() {
    const v = view(chart());
    clearRings(v, "match"); clearRings(v, "current");
    document.querySelectorAll("[data-ref].match").forEach(function (x) { x.classList.remove("match"); });
    results.innerHTML = "";
    matches = []; current = -1;
    const q = search.value.trim().toLowerCase();
    if (q.length < 2) { status.textContent = ""; return; }
    const words = q.split(/\s+/);
    function hit(el) { const t = el.dataset.search || ""; return words.every(function (w) { return t.indexOf(w) >= 0; }); }
    // Boxes whose name holds the words first, then those whose text does; each in reading order.
    function named(el) { const t = label(el).toLowerCase(); return words.every(function (w) { return t.indexOf(w) >= 0; }); }
    const found = Array.prototype.filter.call(chart().querySelectorAll("[data-ref]"), hit);
    matches = found.filter(named).concat(found.filter(function (el) { return !named(el); }));
    matches.forEach(function (el, i) {
      el.classList.add("match");
      ring(v, el, "match");
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button"; b.textContent = label(el);
      b.addEventListener("click", function () { go(i, true); openPanel(el.dataset.ref, el); });
      li.appendChild(b); results.appendChild(li);
    });
    if (matches.length) {
      status.textContent = matches.length + (matches.length === 1 ? " match" : " matches") + " in this chart";
      go(0, false);
    } else {
      const elsewhere = [];
      document.querySelectorAll(".chart").forEach(function (c) {
        if (c !== chart() && Array.prototype.some.call(c.querySelectorAll("[data-ref]"), hit)) { elsewhere.push(c.dataset.title); }
      });
      status.textContent = "no match in this chart" + (elsewhere.length ? "; found in: " + elsewhere.join(", ") : "");
    }
  }

  // Make match i the current one: centred and ringed; focused when `focus`.
  function go(i, focus) {
    if (!matches.length) { return; }
    current = (i + matches.length) % matches.length;
    const v = view(chart());
    clearRings(v, "current");
    const el = matches[current];
    ring(v, el, "current");
    results.querySelectorAll("button").forEach(function (b, k) { b.setAttribute("aria-current", k === current ? "true" : "false"); });
    status.textContent = (current + 1) + " of " + matches.length + ": " + label(el);
    reveal(el);
    if (focus) { el.focus({ preventScroll: true }); }
  }

  search.addEventListener("input", runSearch);
  let visited = false; // whether Enter has gone to the current match since the search changed
  search.addEventListener("input", function () { visited = false; });
  search.addEventListener("keydown", function (e) {
    if (e.key === "Enter") {
      e.preventDefault();
      if (!matches.length) { return; }
      go(visited ? current + (e.shiftKey ? -1 : 1) : current, true);
      visited = true;
    } else if (e.key === "ArrowDown") { e.preventDefault(); go(current + 1, false); }
    else if (e.key === "ArrowUp") { e.preventDefault(); go(current - 1, false); }
    else if (e.key === "Escape") { search.value = ""; runSearch(); }
  });

  view(chart());
  window.addEventListener("resize", function () { views.forEach(apply); });
})();
