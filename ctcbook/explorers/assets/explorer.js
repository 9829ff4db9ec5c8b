/* ctcbook static explorer: kernel-free Kaplan-Meier and cutpoint explorers.
 *
 * Inlined into the page by ctcbook/static_explorer.py (never loaded from _static).
 * Every explorer is a <div class="ctcx"> holding its precomputed results in a
 * <script class="ctcx-data"> (JSON, or deflated JSON in base64 when data-encoding="deflate",
 * unpacked with the browser's DecompressionStream); this script builds its controls and
 * draws inline SVG. No dependencies, no network. Idempotent: containers already
 * initialised are skipped, so several explorers can share a page.
 *
 * Curves are shared between results (data.curves, each result pointing into it) and
 * encoded as running sums of integers (see static_explorer.encode_curve).
 * The Kaplan-Meier figure is drawn for the width it gets: from 560 px on, the desktop
 * figure (680 SVG units wide, scaled); below, a figure at the real width with its text at
 * full size and the KMunicate risk table as an HTML table that scrolls sideways.
 * The choices are kept in the page's URL (?threshold=8&timepoint=...&endpoint=os), so a
 * copied link opens the same view and a reload keeps it.
 */
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var NARROW = 560;  // below this width (CSS px) the figure is redrawn for the phone

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
  // the book's one rule, ctcbook.cohort.paper.format_p: "< 0.001", 3 decimals below 0.0995
  // (so 0.0996 is "0.10", as it rounds), else 2; "n/a" when there is no p-value
  function fmtP(p) {
    if (p === null || p === undefined) return "n/a";
    if (p < 0.001) return "< 0.001";
    return p < 0.0995 ? p.toFixed(3) : p.toFixed(2);
  }
  // "p = 0.27" but "p < 0.001"
  function pIs(p) { return fmtP(p).charAt(0) === "<" ? "" : "= "; }
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
  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  /* ------------------------------------------------------------ data */

  function loadData(script) {
    var text = script.textContent;
    if (script.getAttribute("data-encoding") !== "deflate") return Promise.resolve(JSON.parse(text));
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser cannot unpack the explorer's data " +
                                      "(it lacks DecompressionStream; any browser from 2023 on has it)"));
    }
    var bin = atob(text.replace(/\s+/g, "")), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).text().then(JSON.parse);
  }

  // A stored curve: running sums of integers -> months and survival probabilities.
  function decodeCurve(c, units) {
    function sums(deltas, scale, fromOne) {
      var out = new Array(deltas.length), acc = 0;
      for (var i = 0; i < deltas.length; i++) {
        acc += deltas[i];
        out[i] = fromOne ? 1 - acc * scale : acc * scale;
      }
      return out;
    }
    return {t: sums(c.t, units.time, false), s: sums(c.s, units.prob, true),
            lo: sums(c.lo, units.prob, true), hi: sums(c.hi, units.prob, true),
            c: sums(c.c, units.time, false)};
  }

  /* ------------------------------------------------------------ controls */

  function buildControls(root, spec, state, onChange) {
    var form = h("form", {"class": "ctcx-controls", "aria-label": spec.controlsLabel}, null);
    form.addEventListener("submit", function (ev) { ev.preventDefault(); });
    var inputs = {};
    spec.controls.forEach(function (c) {
      var id = root.id + "-" + c.name;
      var row = h("div", {"class": "ctcx-row ctcx-row-" + c.type, "data-control": c.name}, form);
      if (c.type === "range") {
        h("label", {"for": id, "class": "ctcx-label"}, row, c.label);
        var box = h("span", {"class": "ctcx-field"}, row);
        var input = h("input", {type: "range", id: id, name: c.name, min: c.min, max: c.max,
                                step: 1, value: state[c.name]}, box);
        var out = h("output", {"for": id, "class": "ctcx-output", "aria-hidden": "true"}, box,
                    String(state[c.name]));
        var valueText = function () {
          input.setAttribute("aria-valuetext", input.value + " " + (c.unit || ""));
          out.textContent = input.value;
        };
        valueText();
        input.addEventListener("input", function () {
          state[c.name] = parseInt(input.value, 10);
          valueText();
          onChange(c.name);
        });
        inputs[c.name] = {set: function (v) { input.value = v; valueText(); }};
      } else if (c.type === "select") {
        h("label", {"for": id, "class": "ctcx-label"}, row, c.label);
        var field = h("span", {"class": "ctcx-field"}, row);
        var select = h("select", {id: id, name: c.name}, field);
        c.options.forEach(function (o) {
          var opt = h("option", {value: o[0]}, select, o[1]);
          if (o[0] === state[c.name]) opt.selected = true;
        });
        select.addEventListener("change", function () { state[c.name] = select.value; onChange(c.name); });
        inputs[c.name] = {set: function (v) { select.value = v; }};
      } else {  // radio group: each radio inside its own label, so they never part
        h("span", {"class": "ctcx-label", id: id + "-label"}, row, c.label);
        var choices = h("div", {"class": "ctcx-field ctcx-choices", role: "radiogroup",
                                "aria-labelledby": id + "-label"}, row);
        var radios = [];
        c.options.forEach(function (o, i) {
          var rid = id + "-" + i;
          var label = h("label", {"class": "ctcx-choice", "for": rid}, choices);
          var radio = h("input", {type: "radio", id: rid, name: id, value: o[0]}, label);
          h("span", {}, label, o[1]);
          if (o[0] === state[c.name]) radio.checked = true;
          radio.addEventListener("change", function () {
            if (radio.checked) { state[c.name] = o[0]; onChange(c.name); }
          });
          radios.push(radio);
        });
        inputs[c.name] = {set: function (v) { radios.forEach(function (r) { r.checked = r.value === v; }); }};
      }
    });
    root.insertBefore(form, root.firstChild);
    return inputs;
  }

  /* ------------------------------------------------------------ the URL */

  // The explorer's choices as URL query parameters (prefixed by the explorer's kind when
  // several explorers share a page).
  function urlState(root, spec, several) {
    var prefix = several ? root.getAttribute("data-kind") + "." : "";
    function param(name) { return prefix + name; }
    function allowed(c, raw) {
      if (c.type === "range") {
        var v = Number(raw);
        return (Number.isInteger(v) && v >= c.min && v <= c.max) ? v : undefined;
      }
      for (var i = 0; i < c.options.length; i++) if (c.options[i][0] === raw) return raw;
      return undefined;
    }
    return {
      read: function (state) {  // -> list of parameters the page could not use
        var params, rejected = [];
        try { params = new URLSearchParams(window.location.search); } catch (err) { return rejected; }
        spec.controls.forEach(function (c) {
          if (!params.has(param(c.name))) return;
          var raw = params.get(param(c.name)), v = allowed(c, raw);
          if (v === undefined) rejected.push(param(c.name) + "=" + raw);
          else state[c.name] = v;
        });
        return rejected;
      },
      href: function (state) {
        var params;
        try { params = new URLSearchParams(window.location.search); } catch (err) { params = null; }
        if (!params) return null;
        spec.controls.forEach(function (c) { params.set(param(c.name), String(state[c.name])); });
        return "?" + params.toString() + window.location.hash;
      },
      write: function (href) {
        if (!href || !window.history || !window.history.replaceState) return;
        try { window.history.replaceState(window.history.state, "", href); } catch (err) { /* e.g. a sandboxed frame */ }
      }
    };
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
    // back along the lower limit: on [x[i-1], x[i]) the limit is lo[i-1] (a right-continuous step)
    for (i = xs.length - 1; i > 0; i--) d += "V" + sy(lo[i - 1]).toFixed(1) + "H" + sx(xs[i - 1]).toFixed(1);
    return d + "V" + sy(lo[0]).toFixed(1) + "Z";
  }
  // The survival of a step curve at time t (the last step at or before t).
  function stepAt(c, t) {
    var lo = 0, hi = c.t.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (c.t[mid] <= t + 1e-9) lo = mid; else hi = mid - 1;
    }
    return c.s[lo];
  }

  // width: the CSS width the figure gets. From NARROW on the desktop figure (viewBox 680
  // wide, scaled to fit); below it a figure at the real width, without the SVG risk table.
  function drawKM(svg, r, curves, palette, opts, width) {
    while (svg.lastChild && svg.lastChild.nodeName !== "title" && svg.lastChild.nodeName !== "desc") {
      svg.removeChild(svg.lastChild);
    }
    var narrow = width < NARROW;
    var W = narrow ? Math.max(260, Math.floor(width)) : 680;
    var left = narrow ? 46 : 150, right = narrow ? 10 : 16, top = 12;
    var plotH = narrow ? Math.round(Math.min(250, Math.max(170, 0.62 * W))) : 250;
    var nGroups = r.groups.length;
    var rows = (r.risk && !narrow) ? nGroups * 4 : 0;
    var H = top + plotH + 44 + rows * 15 + 6;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("data-layout", narrow ? "narrow" : "wide");
    if (narrow) { svg.style.width = W + "px"; svg.style.height = H + "px"; }
    else { svg.style.width = ""; svg.style.height = ""; }
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
                transform: "translate(" + (narrow ? 12 : left - 40) + "," + (top + plotH / 2) + ") rotate(-90)"},
       g, opts.ylabel);
    var drawn = el("g", {"class": "ctcx-curves"}, svg);
    r.curves.forEach(function (ref) {
      var c = curves(ref[1]), colour = palette[ref[0] % palette.length];
      el("path", {d: bandPath(c.t, c.lo, c.hi, sx, sy), fill: colour, "fill-opacity": 0.15,
                  stroke: "none", "class": "ctcx-band"}, drawn);
    });
    r.curves.forEach(function (ref) {
      var c = curves(ref[1]), colour = palette[ref[0] % palette.length];
      el("path", {d: stepPath(c.t, c.s, sx, sy), fill: "none", stroke: colour, "stroke-width": 2,
                  "class": "ctcx-curve", "data-group": ref[0]}, drawn);
      var marks = "";
      c.c.forEach(function (t) {
        var x = sx(t).toFixed(1), y = sy(stepAt(c, t));
        marks += "M" + x + "," + (y - 5).toFixed(1) + "V" + (y + 5).toFixed(1);
      });
      if (marks) el("path", {d: marks, stroke: colour, "stroke-width": 1.5, "class": "ctcx-censor"}, drawn);
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
    // a message goes in the empty plot only; with curves it is shown above the figure
    if (r.message && !r.curves.length) {
      var lines = wrapWords(r.message, narrow ? Math.max(24, Math.floor((W - left - right - 30) / 6.5)) : 70);
      var boxH = 16 * lines.length + 12, cy = top + plotH * 0.45, inset = narrow ? 6 : 30;
      el("rect", {x: left + inset, y: cy - boxH / 2, width: W - left - right - 2 * inset, height: boxH, rx: 6,
                  "class": "ctcx-message-box"}, svg);
      lines.forEach(function (line, i) {
        el("text", {x: (left + W - right) / 2, y: cy - boxH / 2 + 20 + 16 * i, "text-anchor": "middle",
                    "class": "ctcx-message"}, svg, line);
      });
    }
    // KMunicate risk table (desktop: in the figure, under the axis)
    if (r.risk && !narrow) {
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
    return narrow;
  }

  // The KMunicate risk table as a table of text (phones: it scrolls sideways in its box).
  function riskHTML(r, palette) {
    if (!r.risk) return "";
    var s = "<table class='ctcx-risk-table'><caption>Numbers at risk, censored and events " +
      "(cumulative) at each time</caption><thead><tr><th scope='col'>Months</th>";
    r.ticks.forEach(function (t) { s += "<th scope='col'>" + t + "</th>"; });
    s += "</tr></thead>";
    r.groups.forEach(function (grp, k) {
      var table = r.risk[k];
      if (!table) return;
      s += "<tbody><tr><th scope='rowgroup' colspan='" + (r.ticks.length + 1) + "' style='color:" +
        palette[k % palette.length] + "'>" + esc(grp.label) + "</th></tr>";
      ["At risk", "Censored", "Events"].forEach(function (name, j) {
        s += "<tr><th scope='row'>" + name + "</th>";
        table[j].forEach(function (v) { s += "<td>" + v + "</td>"; });
        s += "</tr>";
      });
      s += "</tbody>";
    });
    return s + "</table>";
  }

  function numbersHTML(r, palette) {
    var s = "<table class='ctcx-table'><thead><tr><th scope='col'>Group</th><th scope='col'>n</th>" +
      "<th scope='col'>events</th><th scope='col'>median months (95% CI)</th></tr></thead><tbody>";
    r.groups.forEach(function (g, k) {
      s += "<tr><th scope='row'><span class='ctcx-swatch' style='background:" + palette[k % palette.length] +
        "'></span>" + esc(g.label) + "</th><td>" + g.n + "</td><td>" + g.events + "</td><td>" +
        fmtMedian(g) + "</td></tr>";
    });
    s += "</tbody></table><p class='ctcx-stats'>Log-rank p " + pIs(r.p) + "<strong class='ctcx-p'>" + fmtP(r.p) + "</strong>" +
      (r.df > 1 ? " (" + r.df + " df)" : "") + "; hazard ratio (Cox, positive vs negative) = <strong class='ctcx-hr'>" +
      fmtHR(r) + "</strong>. " + r.n + " patients analysed, " + r.nx + " without a draw at this timepoint" +
      (r.nl ? ", " + r.nl + " not event-free at the landmark" : "") + ".</p>";
    return s;
  }
  function fmtHR(r) {
    return r.hr === null ? "\u2013" : r.hr.toFixed(2) + " (95% CI " + r.lo.toFixed(2) + " to " + r.hi.toFixed(2) + ")";
  }

  /* ------------------------------------------------------------ cutpoint SVG */

  function drawCutpoint(svg, cp, threshold) {
    while (svg.lastChild && svg.lastChild.nodeName !== "title" && svg.lastChild.nodeName !== "desc") {
      svg.removeChild(svg.lastChild);
    }
    var W = 680, H = 318, left = 150, right = 16, top = 14, plotH = 230;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var tmin = cp.thresholds[0], tmax = cp.thresholds[cp.thresholds.length - 1];
    // The p axis comes with the data (ctcbook.report.figures.p_value_axis): from 1 down to just
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

  function choiceText(spec, state) {
    return spec.controls.map(function (c) {
      if (c.type === "range") return c.label.replace(/\s*\(.*\)\s*$/, "") + " " + state[c.name];
      for (var i = 0; i < c.options.length; i++) if (c.options[i][0] === state[c.name]) return c.options[i][1];
      return String(state[c.name]);
    }).join(", ");
  }

  function start(root, data, several) {
    var palette = data.palette;
    var state = {};
    data.controls.forEach(function (c) { state[c.name] = c.value; });
    var url = urlState(root, data, several);
    var rejected = url.read(state);
    var q = function (sel) { return root.querySelector(sel); };
    var title = q(".ctcx-title"), figmsg = q(".ctcx-figmsg");
    var svg = q("svg.ctcx-plot");
    var svgTitle = svg.querySelector("title"), svgDesc = svg.querySelector("desc");
    var cutSvg = q("svg.ctcx-cutplot");
    var numbers = q(".ctcx-numbers"), risk = q(".ctcx-riskbox");
    var cutNumbers = q(".ctcx-cutnumbers");
    var caption = q(".ctcx-caption"), live = q(".ctcx-live"), link = q("a.ctcx-link");
    var urlNote = q(".ctcx-urlnote");
    var decoded = {};
    var curves = function (i) {
      if (!decoded[i]) decoded[i] = decodeCurve(data.curves[i], data.units);
      return decoded[i];
    };
    function key(names) {
      return names.map(function (n) { return state[n]; }).join("|");
    }
    function width() {
      return svg.parentNode.getBoundingClientRect().width || 680;
    }
    var lastWidth = null, current = null, announceTimer = null;
    function draw(r) {
      lastWidth = width();
      var narrow = drawKM(svg, r, curves, palette, data, lastWidth);
      if (narrow && r.risk) {
        risk.innerHTML = riskHTML(r, palette);
        risk.hidden = false;
      } else {
        risk.innerHTML = "";
        risk.hidden = true;
      }
    }
    function announce(r, cp) {
      var s = choiceText(data, state) + ". ";
      if (cp) {
        var i = cp.thresholds.indexOf(state.threshold);
        s += "Naive log-rank p at this threshold " + pIs(cp.p[i]) + fmtP(cp.p[i]) + ". ";
      }
      s += "Log-rank p " + pIs(r.p) + fmtP(r.p) + (r.hr === null ? "" : ", hazard ratio " + fmtHR(r)) + ".";
      if (r.message) s += " " + r.message;
      live.textContent = s;
    }
    function render(changed) {
      var t0 = performance.now();
      var r = data.results[data.index[key(data.key)]];
      if (!r) {
        numbers.innerHTML = "<p role='alert'>This combination was not precomputed.</p>";
        return;
      }
      current = r;
      title.textContent = r.title;
      svgTitle.textContent = r.title;
      figmsg.textContent = (r.message && r.curves.length) ? "Note: " + r.message : "";
      figmsg.hidden = !(r.message && r.curves.length);
      draw(r);
      numbers.innerHTML = numbersHTML(r, palette);
      caption.textContent = r.caption;
      var desc = r.caption;
      if (r.message) desc += " " + r.message;
      var cp = null;
      if (cutSvg) {
        cp = data.cutpoints[key(data.cutKey)];
        drawCutpoint(cutSvg, cp, state.threshold);
        cutNumbers.innerHTML = cutpointHTML(cp, state.threshold);
        cutSvg.querySelector("desc").textContent = cutNumbers.textContent;
      }
      svgDesc.textContent = desc;
      var href = url.href(state);
      if (href) link.setAttribute("href", href);
      if (changed) {
        url.write(href);
        // screen readers hear the new numbers once the reader stops moving the control
        clearTimeout(announceTimer);
        announceTimer = setTimeout(function () { announce(r, cp); }, 400);
      }
      root.setAttribute("data-render-ms", (performance.now() - t0).toFixed(2));
      root.setAttribute("data-renders", String(parseInt(root.getAttribute("data-renders") || "0", 10) + 1));
    }
    var inputs = buildControls(root, data, state, render);
    data.controls.forEach(function (c) { inputs[c.name].set(state[c.name]); });
    if (rejected.length) {
      urlNote.textContent = "The link asked for " + rejected.join(", ") + ", which this explorer " +
        "does not offer; showing " + choiceText(data, state) + " instead.";
      urlNote.hidden = false;
    }
    render(false);
    // redraw for a new width (a phone turned, a window resized)
    var onResize = function () {
      if (current && Math.abs(width() - lastWidth) >= 1) draw(current);
    };
    if (typeof ResizeObserver !== "undefined") new ResizeObserver(onResize).observe(svg.parentNode);
    else window.addEventListener("resize", onResize);
    root.setAttribute("data-ready", "1");
  }

  function fail(root, err) {
    var box = root.querySelector(".ctcx-numbers");
    if (box) box.textContent = "The explorer could not start: " + (err && err.message ? err.message : err);
    root.setAttribute("data-ready", "error");
  }

  function init(root, several) {
    if (root.getAttribute("data-ready")) return;
    root.setAttribute("data-ready", "loading");
    loadData(root.querySelector("script.ctcx-data")).then(function (data) {
      try { start(root, data, several); } catch (err) { fail(root, err); throw err; }
    }, function (err) { fail(root, err); });
  }

  function initAll() {
    var roots = document.querySelectorAll("div.ctcx");
    for (var i = 0; i < roots.length; i++) init(roots[i], roots.length > 1);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
