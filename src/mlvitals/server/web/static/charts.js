// Draws the charts that the chart() macro in _charts.html put on the page.
//
// Each chart is a <div data-chart="ID"> next to <script type="application/json" id="ID">
// holding {kind, series, x_type, x_title, y_title, y_suffix, stacked, options}. Plotly comes
// from this server (never a CDN) and is only fetched when the page has a chart to draw.
//
// kind "timeline" draws one row per y label: a series with `end` draws bars from x to end
// (runs), a series without draws markers at x (scheduled times). Optional per series:
// `color` (a CSS variable such as "--ok"), `text` (hover text per point), `link` (a page
// to open when a point is clicked), `symbol` (a Plotly marker symbol). Optional `options`:
// `x_range` [start, end], `rows` (the order of the rows, top first) and `legend_top`.

const PLOTLY_URL = (() => {
  const here = new URL(import.meta.url);
  const url = new URL("vendor/plotly.min.js", here);
  url.search = here.search; // the same cache-busting version as this module
  return url.href;
})();

let plotlyPromise = null;

function loadPlotly() {
  if (window.Plotly) {
    return Promise.resolve(window.Plotly);
  }
  if (!plotlyPromise) {
    plotlyPromise = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = PLOTLY_URL;
      script.async = true;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error(`could not load ${PLOTLY_URL}`));
      document.head.append(script);
    });
  }
  return plotlyPromise;
}

function cssVar(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

function palette() {
  return [1, 2, 3, 4, 5, 6].map((i) => cssVar(`--chart-${i}`, "#1f5fbf"));
}

const pad = (n) => String(n).padStart(2, "0");

// Plotly reads "YYYY-MM-DD HH:MM:SS" as wall-clock time, so converting Unix seconds here
// shows every time axis in the viewer's own time zone.
function localTime(seconds) {
  if (seconds === null || seconds === undefined) {
    return null;
  }
  const d = new Date(seconds * 1000);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

function seriesColor(s, i, colors) {
  const fallback = colors[i % colors.length];
  return s.color ? cssVar(s.color, fallback) : fallback;
}

function escapeHtml(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function timelineTraces(spec) {
  const colors = palette();
  return spec.series.flatMap((s, i) => {
    const color = seriesColor(s, i, colors);
    const hover = s.x.map((t, k) => {
      const first = escapeHtml(s.text ? s.text[k] : s.name);
      return `${first}<br>${s.end ? "started " : ""}${localTime(t)}`;
    });
    const common = {
      name: s.name,
      y: s.y,
      hovertext: hover,
      hoverinfo: "text",
      customdata: s.link,
      legendgroup: s.name,
    };
    const markers = (symbol, size, showlegend) => ({
      ...common,
      type: "scatter",
      mode: "markers",
      x: s.x.map(localTime),
      showlegend,
      marker: { color, size, symbol, line: { color, width: 2 } },
    });
    if (!s.end) {
      return [markers(s.symbol || "line-ns-open", 12, true)];
    }
    const bars = {
      ...common,
      type: "bar",
      orientation: "h",
      base: s.x.map(localTime),
      x: s.x.map((t, k) => Math.max((s.end[k] - t) * 1000, 0)),
      width: 0.55,
      marker: { color, line: { color, width: 1 } },
    };
    // A run of seconds is a sliver on a week's axis: a dot at its start keeps it visible.
    return [bars, markers(s.symbol || "circle", 6, false)];
  });
}

function traces(spec) {
  if (spec.kind === "timeline") {
    return timelineTraces(spec);
  }
  const colors = palette();
  const time = spec.x_type === "time";
  return spec.series.map((s, i) => {
    const color = seriesColor(s, i, colors);
    const x = time ? s.x.map(localTime) : s.x;
    if (spec.kind === "bar") {
      return { type: "bar", name: s.name, x, y: s.y, marker: { color } };
    }
    return {
      type: "scatter",
      mode: s.x.length <= 90 ? "lines+markers" : "lines",
      name: s.name,
      x,
      y: s.y,
      line: { color, width: 2 },
      marker: { color, size: 5 },
      stackgroup: spec.stacked ? "stack" : undefined,
      connectgaps: false,
    };
  });
}

function layout(spec) {
  const text = cssVar("--text", "#1c2430");
  const grid = cssVar("--chart-grid", "#e6eaf0");
  const axis = (title) => ({
    title: { text: title || "" },
    gridcolor: grid,
    zerolinecolor: grid,
    automargin: true,
  });
  const xTypes = { time: "date", linear: "linear", category: "category" };
  const options = spec.options || {};
  const xaxis = { ...axis(spec.x_title), type: xTypes[spec.x_type] || "linear" };
  if (options.x_range) {
    xaxis.range = spec.x_type === "time" ? options.x_range.map(localTime) : options.x_range;
  }
  const result = {
    margin: { l: 48, r: 16, t: 8, b: 40 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: cssVar("--font", "sans-serif"), color: text, size: 12 },
    showlegend: spec.series.length > 1,
    legend: { orientation: "h", y: -0.2 },
    barmode: spec.stacked ? "stack" : "group",
    hovermode: "x unified",
    xaxis,
    yaxis: { ...axis(spec.y_title), rangemode: "tozero", ticksuffix: spec.y_suffix || "" },
  };
  if (options.legend_top || spec.kind === "timeline") {
    // Above the plot: below it, the legend would cover rotated labels and the date line
    // under a time axis.
    result.legend = { orientation: "h", x: 1, xanchor: "right", y: 1.02, yanchor: "bottom" };
    result.margin = { ...result.margin, t: 30 };
  }
  if (spec.kind === "timeline") {
    result.barmode = "overlay";
    result.hovermode = "closest";
    result.showlegend = true;
    result.yaxis = {
      ...axis(spec.y_title),
      type: "category",
      autorange: "reversed",
      categoryorder: options.rows ? "array" : "trace",
      categoryarray: options.rows,
    };
  }
  return result;
}

const CONFIG = {
  responsive: true,
  displaylogo: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage"],
};

async function draw(el) {
  const source = document.getElementById(el.dataset.chart);
  try {
    if (!source) {
      throw new Error(`no chart data element #${el.dataset.chart}`);
    }
    const spec = JSON.parse(source.textContent);
    const Plotly = await loadPlotly();
    await Plotly.newPlot(el, traces(spec), layout(spec), CONFIG);
    if (spec.series.some((s) => s.link)) {
      el.on("plotly_click", (event) => {
        const link = event.points.length ? event.points[0].customdata : null;
        // Only pages of this server: a link is a path, never another origin.
        if (typeof link === "string" && link.startsWith("/") && !link.startsWith("//")) {
          window.location.assign(link);
        }
      });
    }
    el.dataset.state = "drawn";
  } catch (err) {
    el.dataset.state = "error";
    el.textContent = "This chart could not be drawn.";
    console.error("mlvitals chart", el.dataset.chart, err);
  }
}

function drawAll() {
  const charts = document.querySelectorAll("[data-chart]");
  return Promise.all(Array.from(charts, draw));
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", drawAll);
} else {
  drawAll();
}
