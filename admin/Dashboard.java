package admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The live dashboard: one page (no build step, nothing fetched from elsewhere: uPlot comes from its
 * webjar on our classpath) that polls {@code /stats} and {@code /history} every second and draws, per
 * backend, requests per second, p50 and p99 latency, and errors and retries over the last minutes, with
 * events (ejected, back, drained, strategy switched, weight changed) as markers on the time axis; and a
 * table with each backend's state (and a countdown to an ejected one's return), its rate and its share
 * over the last 30 s beside its share since start. Large type, laid out for a 1280x720 projector.
 * Every state-changing fetch sends {@code X-LB-Admin: 1}, as {@link AdminAccess} asks. With a token, {@link #LOGIN_HTML} comes first.
 */
final class Dashboard {
    private static final String UPLOT = "META-INF/resources/webjars/uplot/1.6.30/dist/";
    private static volatile String uplotJs, uplotCss;

    private Dashboard() {}

    /** uPlot's script or stylesheet, read once from the webjar on the classpath. */
    static String uplot(boolean script) {
        if (script) {
            if (uplotJs == null) uplotJs = resource(UPLOT + "uPlot.iife.min.js");
            return uplotJs;
        }
        if (uplotCss == null) uplotCss = resource(UPLOT + "uPlot.min.css");
        return uplotCss;
    }

    private static String resource(String path) {
        try (InputStream in = Dashboard.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(path + " is not on the classpath: is org.webjars.npm:uplot:1.6.30 in //DEPS?");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final String HTML = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>LoadBalancer dashboard</title>
<link rel="stylesheet" href="/uplot.css">
<script src="/uplot.js"></script>
<style>
  body { font: 18px/1.3 system-ui, sans-serif; margin: 10px 16px; background: #fafafa; color: #111; }
  header { display: flex; align-items: baseline; gap: 16px; flex-wrap: nowrap; margin-bottom: 6px; white-space: nowrap; }
  h1 { font-size: 26px; margin: 0; }
  .big { font-size: 22px; font-weight: 700; }
  table { border-collapse: collapse; width: 100%; background: white; font-size: 18px; }
  th { font-size: 15px; color: #444; font-weight: 600; }
  th, td { padding: 3px 5px; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
  th:first-child, td:first-child, td.state, th.state { text-align: left; }
  .swatch { display: inline-block; width: 16px; height: 16px; border-radius: 3px; vertical-align: -2px; margin-right: 6px; }
  .bar { position: relative; height: 18px; width: 120px; background: #e5e7eb; display: inline-block; vertical-align: middle; }
  .bar .fill { position: absolute; top: 0; left: 0; height: 100%; }
  .bar .expected { position: absolute; top: -3px; width: 3px; height: 24px; background: #111; }
  .up { color: #15803d; font-weight: 700; } .down, .ejected { color: #b91c1c; font-weight: 700; } .draining { color: #b45309; font-weight: 700; }
  button, select { font-size: 14px; margin: 0 1px; padding: 1px 4px; }
  .address { font-size: 12px; color: #666; }
  .charts { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 8px; margin-top: 8px; }
  .chart { background: white; border: 1px solid #ddd; padding: 2px 4px; }
  .chart h2 { font-size: 17px; margin: 2px 4px; }
  #events { font-size: 15px; margin-top: 6px; max-height: 104px; overflow-y: auto; }
  .muted { color: #555; }
  .uplot .u-legend { font-size: 13px; }
</style>
</head>
<body>
<header>
  <h1>LoadBalancer</h1>
  <span>strategy <select id="strategy"></select></span>
  <span><span class="big" id="rate">-</span> req/s</span>
  <span><span class="big" id="total">-</span> requests</span>
  <span><span class="big" id="retries">-</span> retried</span>
  <span><span class="big" id="byProxy">-</span> answered by proxy</span>
  <span class="muted">fairness <b id="fairness">-</b></span>
</header>
<table>
  <thead><tr><th>backend</th><th class="state">state</th><th>req/s</th><th>p50</th><th>p99</th><th>5xx</th><th>retried</th>
  <th>share, last 30 s (| = fair)</th><th>since start</th><th></th></tr></thead>
  <tbody id="backends"></tbody>
</table>
<div class="charts">
  <div class="chart"><h2>Requests per second</h2><div id="chart-rate"></div></div>
  <div class="chart"><h2>Latency: p99 (solid), p50 (dashed)</h2><div id="chart-latency"></div></div>
  <div class="chart"><h2>5xx (solid), retries (dashed) per s</h2><div id="chart-errors"></div></div>
</div>
<div id="events"></div>
<script>
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
const MARK = { ejected: '#b91c1c', down: '#b91c1c', broken: '#b91c1c', back: '#15803d', up: '#15803d', healed: '#15803d',
               drained: '#b45309', undrained: '#15803d', strategy: '#7c3aed', weight: '#7c3aed', added: '#0e7490', removed: '#0e7490' };
const dashboard = { charts: {}, markers: [], colors: {} };
window.dashboard = dashboard;
let strategiesLoaded = false;

function colorOf(name) {
  if (!(name in dashboard.colors)) dashboard.colors[name] = COLORS[Object.keys(dashboard.colors).length % COLORS.length];
  return dashboard.colors[name];
}

function human(ms) {
  if (ms == null) return '-';
  if (ms < 1) return ms.toFixed(2) + ' ms';
  if (ms < 10) return ms.toFixed(1) + ' ms';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s';
  return Math.floor(ms / 60000) + ' min ' + Math.round(ms % 60000 / 1000) + ' s';
}

async function post(path, method) {
  const response = await fetch(path, { method: method || 'POST', headers: { 'X-LB-Admin': '1' } });
  if (!response.ok) alert(await response.text());
  refresh();
}

function stateCell(b) {
  if (b.state === 'ejected' && b.returnsInSeconds != null) return `ejected, back in ${b.returnsInSeconds < 60 ? b.returnsInSeconds + ' s' : human(b.returnsInSeconds * 1000)}`;
  return b.state;
}

function row(b) {
  const recent = (b.recentShare * 100).toFixed(0), since = (b.share * 100).toFixed(0), expected = (b.expectedShare * 100).toFixed(1);
  const name = encodeURIComponent(b.backend), draining = b.state === 'draining';
  const shown = b.label === b.backend ? b.backend : `<span title="${b.backend}">${b.label}</span>`;
  return `<tr data-backend="${b.backend}">
    <td><span class="swatch" style="background:${colorOf(b.label)}"></span>${shown}${b.weight != 1 ? ' <span class="muted">weight ' + b.weight + '</span>' : ''}</td>
    <td class="${b.state} state">${stateCell(b)}</td>
    <td class="rate">${b.ratePerSecond.toFixed(b.ratePerSecond < 10 ? 1 : 0)}</td>
    <td>${human(b.recentLatencyMs.p50)}</td>
    <td>${human(b.recentLatencyMs.p99)}</td>
    <td>${b.errors}</td>
    <td>${b.retriedAway}</td>
    <td><span class="bar"><span class="fill" style="width:${recent}%;background:${colorOf(b.label)}"></span><span class="expected" style="left:${expected}%"></span></span> <b>${recent}%</b></td>
    <td class="requests">${since}% <span class="muted">(<span class="count">${b.requests}</span>)</span></td>
    <td><button class="drain" onclick="post('/drain?backend=${name}${draining ? '&off' : ''}')">${draining ? 'Undrain' : 'Drain'}</button><button
        onclick="post('/break?backend=${name}')">Break</button><button onclick="post('/heal?backend=${name}')">Heal</button><button
        onclick="post('/backend?backend=${name}', 'DELETE')">Remove</button></td></tr>`;
}

// Event markers: a dashed vertical line at the event's time on every chart, and a label at the top, in
// the first of six lanes where it does not overlap another label (none when all six are taken).
function markerPlugin() {
  return { hooks: { draw: [u => {
    const ctx = u.ctx, top = u.bbox.top, height = u.bbox.height, px = devicePixelRatio;
    ctx.save();
    ctx.font = `600 ${Math.round(13 * px)}px system-ui, sans-serif`;
    const laneEnds = [-1e9, -1e9, -1e9, -1e9, -1e9, -1e9];
    for (const m of dashboard.markers) {
      if (m.t < u.scales.x.min || m.t > u.scales.x.max) continue;
      const x = Math.round(u.valToPos(m.t, 'x', true));
      ctx.strokeStyle = MARK[m.kind] || '#555';
      ctx.lineWidth = 2 * px;
      ctx.setLineDash([6 * px, 4 * px]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
      const width = ctx.measureText(m.short).width + 6 * px;
      const left = Math.min(x + 3 * px, u.bbox.left + u.bbox.width - width);
      const lane = laneEnds.findIndex(end => end < left);
      if (lane < 0) continue;
      laneEnds[lane] = left + width;
      const y = top + (4 + 16 * lane) * px;
      ctx.fillStyle = 'rgba(255,255,255,0.85)';
      ctx.fillRect(left - 2 * px, y, width, 15 * px);
      ctx.fillStyle = MARK[m.kind] || '#555';
      ctx.textBaseline = 'top';
      ctx.textAlign = 'left'; // uPlot leaves whatever its last axis used
      ctx.fillText(m.short, left, y + 1 * px);
    }
    ctx.restore();
  }] } };
}

// On the log scale only 0.1, 1, 10, 100, ... are labelled: the lines between them are the 2, 3, ... 9.
function isDecade(t) {
  const exponent = Math.log10(t);
  return Math.abs(exponent - Math.round(exponent)) < 1e-9;
}

function makeChart(id, series, yLabel, log) {
  const el = document.getElementById(id);
  const width = el.parentElement.clientWidth - 10;
  const opts = { width, height: 370, padding: [10, 30, 0, 0], plugins: [markerPlugin()], legend: { show: false }, cursor: { show: false },
    scales: { x: { time: true, range: (u, min, max) => [min, Math.max(max, dashboard.now || max)] },
              y: log ? { distr: 3, log: 10 } : { range: (u, min, max) => [0, Math.max(max * 1.15, 2)] } },
    axes: [ { font: '14px system-ui', size: 36, values: (u, ticks) => ticks.map(t => new Date(t * 1000).toTimeString().substring(0, 8)) },
            { font: '14px system-ui', size: 52, label: yLabel, labelFont: '14px system-ui', labelSize: 18,
              values: log ? (u, ticks) => ticks.map(t => t == null || !isDecade(t) ? '' : (t >= 1 ? String(Math.round(t)) : String(+t.toPrecision(1)))) : undefined } ],
    series: [{}].concat(series) };
  return new uPlot(opts, [[]].concat(series.map(() => [])), el);
}

function drawHistory(h) {
  dashboard.now = Math.floor(h.now);
  dashboard.markers = h.events.map(e => ({ t: e.t, kind: e.kind,
    short: (e.kind === 'strategy' ? e.text.replace('strategy changed to ', '→ ') : (e.backend ? e.backend + ' ' : '') + e.kind) }));
  const keys = h.backends.map(b => b.label).join('|');
  if (dashboard.keys !== keys) {
    for (const id in dashboard.charts) dashboard.charts[id].destroy();
    document.querySelectorAll('.chart > div').forEach(d => d.innerHTML = '');
    const lines = dash => h.backends.map(b => ({ label: b.label, stroke: colorOf(b.label), width: 3, dash, spanGaps: false, points: { show: false } }));
    dashboard.charts.rate = makeChart('chart-rate', lines(undefined), 'req/s');
    dashboard.charts.latency = makeChart('chart-latency', lines(undefined).concat(lines([6, 5]).map(s => ({ ...s, width: 2 }))), 'ms (log scale)', true);
    dashboard.charts.errors = makeChart('chart-errors', lines(undefined).concat(lines([6, 5])), 'per s');
    dashboard.keys = keys;
  }
  const xs = h.seconds;
  dashboard.charts.rate.setData([xs].concat(h.backends.map(b => b.requests)));
  dashboard.charts.latency.setData([xs].concat(h.backends.map(b => b.p99Ms), h.backends.map(b => b.p50Ms)));
  dashboard.charts.errors.setData([xs].concat(h.backends.map(b => b.errors), h.backends.map(b => b.retries)));
  document.getElementById('events').innerHTML = h.events.slice().reverse().slice(0, 20)
    .map(e => `<div><span class="muted">${new Date(e.t * 1000).toTimeString().substring(0, 8)}</span> <span style="color:${MARK[e.kind] || '#333'}">${e.text}</span></div>`).join('')
    || '<span class="muted">No events yet: drain, break or switch strategy to see them here and on the charts.</span>';
}

async function refresh() {
  const stats = await (await fetch('/stats')).json();
  if (!strategiesLoaded) {
    const names = await (await fetch('/strategies')).json();
    document.getElementById('strategy').innerHTML = names.map(n => `<option>${n}</option>`).join('');
    document.getElementById('strategy').onchange = e => post('/strategy?name=' + e.target.value);
    strategiesLoaded = true;
  }
  document.getElementById('strategy').value = stats.strategy;
  document.getElementById('fairness').textContent = stats.fairness.toFixed(2);
  document.getElementById('total').textContent = stats.requests;
  document.getElementById('retries').textContent = stats.retries;
  document.getElementById('byProxy').textContent = stats.answeredByProxy;
  const rate = stats.backends.reduce((sum, b) => sum + b.ratePerSecond, 0);
  document.getElementById('rate').textContent = rate.toFixed(rate < 10 ? 1 : 0);
  document.getElementById('backends').innerHTML = stats.backends.map(row).join('');
  drawHistory(await (await fetch('/history')).json());
}

refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
""";

    /** The login form shown instead of the dashboard when a token is set; {{message}} is replaced by an error or nothing. */
    static final String LOGIN_HTML = """
<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>LoadBalancer: log in</title>
<style>body { font: 20px/1.4 system-ui, sans-serif; margin: 48px; } input, button { font-size: 20px; } .error { color: #b91c1c; }</style>
</head>
<body>
<h1>LoadBalancer admin</h1>
<p class="error">{{message}}</p>
<form method="post" action="/login">
  <label>Admin token: <input type="password" name="token" id="token" autofocus autocomplete="current-password"></label>
  <button type="submit" id="login">Log in</button>
</form>
<p>Scripts send <code>Authorization: Bearer TOKEN</code> instead.</p>
</body>
</html>
""";
}
