/* ctcbook static explorer: kernel-free Kaplan-Meier and cutpoint explorers.
 *
 * Inlined into the page by ctcbook/static_explorer.py (never loaded from _static).
 * Every explorer is a <div class="ctcx"> holding its precomputed results in a
 * <script type="application/json" class="ctcx-data">; this script builds its controls
 * and draws inline SVG. No dependencies, no network. Idempotent: containers already
 * initialised are skipped, so several explorers can share a page.
 */
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";

  function el(tag, attrs, parent, text) {
    var node = document.createElementNS(SVGNS, tag);
    for (var key in attrs) { if (attrs.hasOwnProperty(key)) node.setAttribute(key, attrs[key]); }
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function h(tag, attrs, parent, text) {
    var node = document.createElement(tag);
    for (var key in attrs) { if (attrs.hasOwnProperty(key)) node.setAttribute(key, attrs[key]); }
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function fmtP(p) {
    if (p === null || p === undefined) return "\u2013";
    if (p < 0.001) return "< 0.001";
    return p < 0.1 ? p.toFixed(3) : p.toFixed(2);
  }
  function fmtNum(x, digits) {
    if (x === null || x === undefined) return "\u2013";
    if (x === "NR") return "not reached";
    return x.toFixed(digits);
  }
  function fmtMedian(g) {
    if (g.median === null) return "\u2013";
    return fmtNum(g.median, 1) + " (" + fmtNum(g.mlo, 1) + " to " + fmtNum(g.mhi, 1) + ")";
  }
  function wrapWords(text, width) {
    var words = text.split(" "), lines = [], line = "";
    for (var i = 0; i < words.length; i++) {
      if ((line + " " + words[i]).trim().length > width && line) { lines.push(line); line = words[i]; }
      else { line = (line + " " + words[i]).trim(); }
    }
    if (line) lines.push(line);
    return lines;
  }

  /* ------------------------------------------------------------ controls */

  function buildControls(root, spec, state, onChange) {
    var form = h("form", {"class": "ctcx-controls", "aria-label": spec.controlsLabel}, null);
    form.addEventListener("submit", function (ev) { ev.preventDefault(); });
    var inputs = {};
    spec.controls.forEach(function (c) {
      var id = root.id + "-" + c.name;
      var row = h("div", {"class": "ctcx-row", "data-control": c.name}, form);
      if (c.type === "range") {
        h("label", {"for": id}, row, c.label);
        var input = h("input", {type: "range", id: id, name: c.name, min: c.min, max: c.max,
                                step: 1, value: state[c.name]}, row);
        var out = h("output", {"for": id, "class": "ctcx-output"}, row, String(state[c.name]));
        input.addEventListener("input", function () {
          state[c.name] = parseInt(input.value, 10);
          out.textContent = input.value;
          onChange();
        });
        inputs[c.name] = input;
      } else if (c.type === "select") {
        h("label", {"for": id}, row, c.label);
        var select = h("select", {id: id, name: c.name}, row);
        c.options.forEach(function (o) {
          var opt = h("option", {value: o[0]}, select, o[1]);
          if (o[0] === state[c.name]) opt.selected = true;
        });
        select.addEventListener("change", function () { state[c.name] = select.value; onChange(); });
        inputs[c.name] = select;
      } else {  // radio group
        var fs = h("fieldset", {"class": "ctcx-radios"}, row);
        h("legend", {}, fs, c.label);
        c.options.forEach(function (o, i) {
          var rid = id + "-" + i;
          var radio = h("input", {type: "radio", id: rid, name: id, value: o[0]}, fs);
          if (o[0] === state[c.name]) radio.checked = true;
          h("label", {"for": rid}, fs, o[1]);
          radio.addEventListener("change", function () {
            if (radio.checked) { state[c.name] = o[0]; onChange(); }
          });
        });
        inputs[c.name] = fs;
      }
    });
    root.insertBefore(form, root.firstChild);
    return inputs;
  }

  /* ------------------------------------------------------ Kaplan-Meier SVG */

  function stepPath(xs, ys, sx, sy) {
    var d = "M" + sx(xs[0]).toFixed(1) + "," + sy(ys[0]).toFixed(1);
    for (var i = 1; i < xs.length; i++) {
      d += "H" + sx(xs[i]).toFixed(1) + "V" + sy(ys[i]).toFixed(1);
    }
    return d;
  }
  function bandPath(xs, lo, hi, sx, sy) {
    var d = "M" + sx(xs[0]).toFixed(1) + "," + sy(hi[0]).toFixed(1), i;
    for (i = 1; i < xs.length; i++) d += "H" + sx(xs[i]).toFixed(1) + "V" + sy(hi[i]).toFixed(1);
    d += "V" + sy(lo[xs.length - 1]).toFixed(1);
    for (i = xs.length - 1; i > 0; i--) d += "V" + sy(lo[i]).toFixed(1) + "H" + sx(xs[i - 1]).toFixed(1);
    return d + "V" + sy(lo[0]).toFixed(1) + "Z";
  }

  function drawKM(svg, r, palette, opts) {
    while (svg.lastChild && svg.lastChild.nodeName !== "title" && svg.lastChild.nodeName !== "desc") {
      svg.removeChild(svg.lastChild);
    }
    var W = 680, left = 150, right = 16, top = 12, plotH = 250;
    var nGroups = r.groups.length;
    var rows = r.risk ? nGroups * 4 : 0;
    var H = top + plotH + 44 + rows * 15 + 6;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var max = r.max > 0 ? r.max : 1;
    var sx = function (t) { return left + (W - left - right) * Math.min(t, max) / max; };
    var sy = function (s) { return top + plotH * (1 - s / 1.02); };
    var g = el("g", {"class": "ctcx-axes"}, svg);
    [0, 0.2, 0.4, 0.6, 0.8, 1].forEach(function (v) {
      el("line", {x1: left, x2: W - right, y1: sy(v), y2: sy(v), "class": "ctcx-grid"}, g);
      el("text", {x: left - 6, y: sy(v) + 4, "text-anchor": "end"}, g, v.toFixed(1));
    });
    r.ticks.forEach(function (t) {
      el("line", {x1: sx(t), x2: sx(t), y1: top, y2: top + plotH, "class": "ctcx-grid"}, g);
      el("text", {x: sx(t), y: top + plotH + 16, "text-anchor": "middle"}, g, String(t));
    });
    el("line", {x1: left, x2: W - right, y1: top + plotH, y2: top + plotH, "class": "ctcx-axis"}, g);
    el("line", {x1: left, x2: left, y1: top, y2: top + plotH, "class": "ctcx-axis"}, g);
    el("text", {x: (left + W - right) / 2, y: top + plotH + 34, "text-anchor": "middle"}, g, r.xlabel);
    el("text", {x: 0, y: 0, "text-anchor": "middle",
                transform: "translate(" + (left - 40) + "," + (top + plotH / 2) + ") rotate(-90)"},
       g, opts.ylabel);
    var curves = el("g", {"class": "ctcx-curves"}, svg);
    r.curves.forEach(function (c) {
      var colour = palette[c.g % palette.length];
      el("path", {d: bandPath(c.t, c.lo, c.hi, sx, sy), fill: colour, "fill-opacity": 0.15,
                  stroke: "none", "class": "ctcx-band"}, curves);
    });
    r.curves.forEach(function (c) {
      var colour = palette[c.g % palette.length];
      el("path", {d: stepPath(c.t, c.s, sx, sy), fill: "none", stroke: colour, "stroke-width": 2,
                  "class": "ctcx-curve", "data-group": c.g}, curves);
      var marks = "";
      c.c.forEach(function (i) {
        var x = sx(c.t[i]).toFixed(1), y = sy(c.s[i]);
        marks += "M" + x + "," + (y - 5).toFixed(1) + "V" + (y + 5).toFixed(1);
      });
      if (marks) el("path", {d: marks, stroke: colour, "stroke-width": 1.5, "class": "ctcx-censor"}, curves);
    });
    // legend, lower left
    var lg = el("g", {"class": "ctcx-legend"}, svg);
    r.groups.forEach(function (grp, k) {
      var y = top + plotH - 12 - (nGroups - 1 - k) * 16;
      el("line", {x1: left + 10, x2: left + 30, y1: y - 4, y2: y - 4, stroke: palette[k % palette.length],
                  "stroke-width": 2.5}, lg);
      el("text", {x: left + 36, y: y}, lg, grp.label + " (n=" + grp.n + ")");
    });
    if (r.note) {
      r.note.split("\n").forEach(function (line, i) {
        el("text", {x: W - right - 4, y: top + 14 + 15 * i, "text-anchor": "end", "class": "ctcx-note"}, svg, line);
      });
    }
    if (r.message) {
      var lines = wrapWords(r.message, 70);
      var boxH = 16 * lines.length + 12, cy = top + plotH * 0.45;
      el("rect", {x: left + 30, y: cy - boxH / 2, width: W - left - right - 60, height: boxH, rx: 6,
                  "class": "ctcx-message-box"}, svg);
      lines.forEach(function (line, i) {
        el("text", {x: (left + W - right) / 2, y: cy - boxH / 2 + 20 + 16 * i, "text-anchor": "middle",
                    "class": "ctcx-message"}, svg, line);
      });
    }
    // KMunicate risk table
    if (r.risk) {
      var y0 = top + plotH + 56, line = 0, rt = el("g", {"class": "ctcx-risk"}, svg);
      r.groups.forEach(function (grp, k) {
        var table = r.risk[k];
        if (!table) return;
        var colour = palette[k % palette.length];
        el("text", {x: left - 24, y: y0 + 15 * line, "text-anchor": "end", fill: colour,
                    "font-weight": "bold"}, rt, grp.label);
        line++;
        ["At risk", "Censored", "Events"].forEach(function (name, j) {
          el("text", {x: left - 24, y: y0 + 15 * line, "text-anchor": "end"}, rt, name);
          table[j].forEach(function (v, i) {
            el("text", {x: sx(r.ticks[i]), y: y0 + 15 * line, "text-anchor": "middle", fill: colour}, rt, String(v));
          });
          line++;
        });
      });
    }
  }

  function numbersHTML(r, palette) {
    var s = "<table class='ctcx-table'><thead><tr><th scope='col'>Group</th><th scope='col'>n</th>" +
      "<th scope='col'>events</th><th scope='col'>median months (95% CI)</th></tr></thead><tbody>";
    r.groups.forEach(function (g, k) {
      s += "<tr><th scope='row'><span class='ctcx-swatch' style='background:" + palette[k % palette.length] +
        "'></span>" + esc(g.label) + "</th><td>" + g.n + "</td><td>" + g.events + "</td><td>" +
        fmtMedian(g) + "</td></tr>";
    });
    s += "</tbody></table><p class='ctcx-stats'>Log-rank p = <strong class='ctcx-p'>" + fmtP(r.p) + "</strong>" +
      (r.df > 1 ? " (" + r.df + " df)" : "") + "; hazard ratio (Cox, positive vs negative) = <strong class='ctcx-hr'>" +
      (r.hr === null ? "\u2013" : r.hr.toFixed(2) + " (95% CI " + r.lo.toFixed(2) + " to " + r.hi.toFixed(2) + ")") +
      "</strong>. " + r.n + " patients analysed, " + r.nx + " without a draw at this timepoint" +
      (r.nl ? ", " + r.nl + " not event-free at the landmark" : "") + ".</p>";
    if (r.message) s += "<p class='ctcx-note-msg' role='status'><strong>Note:</strong> " + esc(r.message) + "</p>";
    return s;
  }
  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  /* ------------------------------------------------------------ cutpoint SVG */

  function drawCutpoint(svg, cp, threshold) {
    while (svg.lastChild && svg.lastChild.nodeName !== "title" && svg.lastChild.nodeName !== "desc") {
      svg.removeChild(svg.lastChild);
    }
    var W = 680, H = 318, left = 150, right = 16, top = 14, plotH = 230;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var tmin = cp.thresholds[0], tmax = cp.thresholds[cp.thresholds.length - 1];
    // The p axis comes with the data (ctcbook.plotting.p_value_axis): from 1 down to just
    // below the smallest p shown, ticks written as numbers (0.05, not 1e-2).
    var axis = cp.axis, lmin = Math.log10(axis.lo);
    var sx = function (t) { return left + (W - left - right) * (t - tmin) / (tmax - tmin); };
    var sy = function (p) { return top + plotH * (Math.log10(Math.max(p, axis.lo))) / lmin; };
    var g = el("g", {"class": "ctcx-axes"}, svg);
    // thresholds the 10% rule keeps out of the search for the best one: shaded
    var step = (W - left - right) / Math.max(tmax - tmin, 1) / 2;
    cp.thresholds.forEach(function (t, i) {
      if (cp.candidate[i]) return;
      el("rect", {x: Math.max(left, sx(t) - step), y: top, height: plotH,
                  width: Math.min(W - right, sx(t) + step) - Math.max(left, sx(t) - step),
                  "class": "ctcx-excluded", fill: "#e0e0e0"}, g);
    });
    axis.ticks.forEach(function (v, k) {
      el("line", {x1: left, x2: W - right, y1: sy(v), y2: sy(v), "class": "ctcx-grid"}, g);
      el("text", {x: left - 6, y: sy(v) + 4, "text-anchor": "end"}, g, axis.labels[k]);
    });
    [1, 5, 10, 20, 30, 40, 50].forEach(function (t) {
      if (t < tmin || t > tmax) return;
      el("text", {x: sx(t), y: top + plotH + 16, "text-anchor": "middle"}, g, String(t));
    });
    el("line", {x1: left, x2: W - right, y1: top + plotH, y2: top + plotH, "class": "ctcx-axis"}, g);
    el("line", {x1: left, x2: left, y1: top, y2: top + plotH, "class": "ctcx-axis"}, g);
    el("text", {x: (left + W - right) / 2, y: top + plotH + 34, "text-anchor": "middle"}, g,
       "CTC threshold (CTCs per 7.5 mL)");
    el("text", {x: 0, y: 0, "text-anchor": "middle",
                transform: "translate(" + (left - 46) + "," + (top + plotH / 2) + ") rotate(-90)"},
       g, "Naive log-rank p (log scale)");
    el("line", {x1: left, x2: W - right, y1: sy(0.05), y2: sy(0.05), "class": "ctcx-alpha"}, g);
    el("text", {x: W - right - 4, y: sy(0.05) - 4, "text-anchor": "end", "class": "ctcx-small"}, g, "p = 0.05");
    // the key, below the axis title: away from the curve
    var ky = top + plotH + 54;
    if (cp.p_lau94 !== null) {
      el("line", {x1: left, x2: W - right, y1: sy(cp.p_lau94), y2: sy(cp.p_lau94), "class": "ctcx-corrected"}, g);
      el("line", {x1: left, x2: left + 24, y1: ky - 4, y2: ky - 4, "class": "ctcx-corrected"}, g);
      el("text", {x: left + 30, y: ky, "class": "ctcx-small ctcx-corrected-label"}, g,
         "corrected p of the best threshold (Lau94) = " + fmtP(cp.p_lau94));
    }
    if (cp.candidate.indexOf(false) >= 0) {
      el("rect", {x: W - right - 158, y: ky - 10, width: 14, height: 10, fill: "#e0e0e0"}, g);
      el("text", {x: W - right, y: ky, "text-anchor": "end", "class": "ctcx-small"}, g,
         "excluded by the 10% rule");
    }
    var d = "", started = false;
    cp.thresholds.forEach(function (t, i) {
      var p = cp.p[i];
      if (p === null) { started = false; return; }
      d += (started ? "L" : "M") + sx(t).toFixed(1) + "," + sy(p).toFixed(1);
      started = true;
    });
    el("path", {d: d, fill: "none", stroke: "#0072B2", "stroke-width": 2, "class": "ctcx-sweep"}, svg);
    if (cp.best !== null) {
      var bi = cp.thresholds.indexOf(cp.best);
      if (bi >= 0 && cp.p[bi] !== null) {
        el("circle", {cx: sx(cp.best), cy: sy(cp.p[bi]), r: 5, fill: "none", stroke: "#D55E00",
                      "stroke-width": 2}, svg);
      }
    }
    var i = cp.thresholds.indexOf(threshold);
    el("line", {x1: sx(threshold), x2: sx(threshold), y1: top, y2: top + plotH, "class": "ctcx-chosen"}, svg);
    if (i >= 0 && cp.p[i] !== null) {
      el("circle", {cx: sx(threshold), cy: sy(cp.p[i]), r: 4, fill: "#000"}, svg);
    }
  }

  function cutpointHTML(cp, threshold) {
    var i = cp.thresholds.indexOf(threshold);
    var s = "<p class='ctcx-stats'>At <strong>\u2265 " + threshold + " CTCs</strong>: " +
      cp.n_high[i] + " vs " + cp.n_low[i] + " patients, log-rank \u03c7\u00b2 = " +
      (cp.stat[i] === null ? "\u2013" : cp.stat[i].toFixed(2)) + ", naive p = <strong class='ctcx-p'>" +
      fmtP(cp.p[i]) + "</strong>.</p>";
    if (cp.best !== null) {
      s += "<p class='ctcx-stats'>Best threshold by the maximally selected log-rank statistic: \u2265 " +
        cp.best + " CTCs (M = " + cp.M.toFixed(2) + "); corrected p = <strong class='ctcx-corrected-p'>" +
        fmtP(cp.p_lau94) + "</strong> (Lausen et al. 1994), " + fmtP(cp.p_perm) +
        " (" + cp.n_perm + " permutations). Only thresholds leaving at least 10% of the patients " +
        "in each group are candidates, as in R's maxstat.</p>";
    } else if (cp.maxstat_message) {
      s += "<p class='ctcx-note-msg'>" + esc(cp.maxstat_message) + "</p>";
    }
    return s;
  }

  /* ------------------------------------------------------------------ init */

  function init(root) {
    if (root.getAttribute("data-ready") === "1") return;
    var data = JSON.parse(root.querySelector("script.ctcx-data").textContent);
    var palette = data.palette;
    var state = {};
    data.controls.forEach(function (c) { state[c.name] = c.value; });
    var title = root.querySelector(".ctcx-title");
    var svg = root.querySelector("svg.ctcx-plot");
    var svgTitle = svg.querySelector("title"), svgDesc = svg.querySelector("desc");
    var cutSvg = root.querySelector("svg.ctcx-cutplot");
    var numbers = root.querySelector(".ctcx-numbers");
    var cutNumbers = root.querySelector(".ctcx-cutnumbers");
    var caption = root.querySelector(".ctcx-caption");
    function key(names) {
      return names.map(function (n) { return state[n]; }).join("|");
    }
    function render() {
      var t0 = performance.now();
      var r = data.results[data.index[key(data.key)]];
      if (!r) {
        numbers.innerHTML = "<p role='alert'>This combination was not precomputed.</p>";
        return;
      }
      title.textContent = r.title;
      svgTitle.textContent = r.title;
      drawKM(svg, r, palette, data);
      numbers.innerHTML = numbersHTML(r, palette);
      caption.textContent = r.caption;
      var desc = r.caption;
      if (r.message) desc += " " + r.message;
      if (cutSvg) {
        var cp = data.cutpoints[key(data.cutKey)];
        drawCutpoint(cutSvg, cp, state.threshold);
        cutNumbers.innerHTML = cutpointHTML(cp, state.threshold);
        cutSvg.querySelector("desc").textContent = cutNumbers.textContent;
      }
      svgDesc.textContent = desc;
      root.setAttribute("data-render-ms", (performance.now() - t0).toFixed(2));
      root.setAttribute("data-renders", String(parseInt(root.getAttribute("data-renders") || "0", 10) + 1));
    }
    buildControls(root, data, state, render);
    render();
    root.setAttribute("data-ready", "1");
  }

  function initAll() {
    var roots = document.querySelectorAll("div.ctcx");
    for (var i = 0; i < roots.length; i++) {
      try { init(roots[i]); } catch (err) {
        var box = roots[i].querySelector(".ctcx-numbers");
        if (box) box.textContent = "The explorer could not start: " + err;
        throw err;
      }
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
