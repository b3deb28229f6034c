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
 * over the last 30 s beside its share since start; one upstream at a time, chosen by buttons when there
 * are several. Large type (16 px and up on the charts), laid out for projectors from 1024x768 to 1920x1080.
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
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LoadBalancer dashboard</title>
<link rel="stylesheet" href="/uplot.css">
<script src="/uplot.js"></script>
<style>
  html, body { overflow-x: hidden; }
  body { font: 18px/1.3 system-ui, sans-serif; margin: 8px 14px; background: #fafafa; color: #111; }
  header { display: flex; align-items: baseline; column-gap: 18px; row-gap: 2px; flex-wrap: wrap; }
  header > span { white-space: nowrap; }
  h1 { font-size: 26px; margin: 0; }
  .big { font-size: 22px; font-weight: 700; }
  .explain { font-size: 16px; color: #444; margin: 2px 0 6px; }
  .explain b { color: #111; }
  [title] { text-decoration: underline dotted #888; text-underline-offset: 3px; cursor: help; }
  #upstreams button { font-size: 17px; padding: 1px 8px; }
  #upstreams button.chosen { background: #111; color: white; }
  table { border-collapse: collapse; width: 100%; background: white; font-size: 18px; }
  th { font-size: 16px; color: #444; font-weight: 600; }
  th, td { padding: 3px 5px; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
  th:first-child, td:first-child, td.state, th.state { text-align: left; }
  .swatch { display: inline-block; width: 16px; height: 16px; border-radius: 3px; vertical-align: -2px; margin-right: 6px; }
  .bar { position: relative; height: 18px; width: 120px; background: #e5e7eb; display: inline-block; vertical-align: middle; }
  .bar .fill { position: absolute; top: 0; left: 0; height: 100%; }
  .bar .expected { position: absolute; top: -3px; width: 3px; height: 24px; background: #111; }
  .up { color: #15803d; font-weight: 700; } .down, .ejected { color: #b91c1c; font-weight: 700; } .draining { color: #b45309; font-weight: 700; }
  td.actions { white-space: normal; }
  button, select { font-size: 15px; margin: 0 1px; padding: 1px 4px; }
  .muted { color: #555; }
  #legend { display: flex; flex-wrap: wrap; column-gap: 22px; row-gap: 2px; font-size: 17px; margin-top: 6px; }
  .key { white-space: nowrap; }
  .line { display: inline-block; width: 34px; height: 0; border-top: 4px solid #111; vertical-align: middle; margin-right: 6px; }
  .line.dashed { border-top-style: dashed; border-top-width: 3px; }
  .charts { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px; margin-top: 4px; }
  .chart { background: white; border: 1px solid #ddd; padding: 2px 4px; min-width: 0; }
  .chart h2 { font-size: 18px; margin: 2px 4px; }
  #events { font-size: 16px; margin-top: 4px; max-height: 3.9em; overflow-y: auto; } /* three whole lines */
  .line.upright { width: 0; height: 20px; border-top: 0; border-left: 3px dashed #111; margin: 0 6px 0 4px; }
  .chart h2 { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  /* A 1024-pixel projector: the same page, tighter, so nothing runs off to the right. */
  @media (max-width: 1200px) {
    body { margin: 6px 8px; }
    table { font-size: 17px; }
    th { font-size: 15px; }
    th, td { padding: 2px 3px; }
    .bar { width: 70px; }
    button, select { font-size: 14px; padding: 1px 2px; }
    .explain { font-size: 15px; }
    .chart h2 { font-size: 16px; }
  }
  @media (max-width: 800px) { .charts { grid-template-columns: minmax(0, 1fr); } }
  /* 1080p: the back of the room gets bigger type too. */
  @media (min-width: 1700px) {
    body { font-size: 22px; }
    h1 { font-size: 32px; }
    .big { font-size: 28px; }
    .explain, #events { font-size: 19px; }
    table { font-size: 22px; }
    th { font-size: 18px; }
    .bar { width: 180px; height: 22px; }
    #legend { font-size: 20px; }
    .chart h2 { font-size: 22px; }
    button, select { font-size: 18px; }
  }
</style>
</head>
<body>
<header>
  <h1>LoadBalancer</h1>
  <span id="upstreams"></span>
  <span>strategy <select id="strategy"></select></span>
  <span><span class="big" id="rate">-</span> req/s</span>
  <span><span class="big" id="total">-</span> requests</span>
  <span title="Failures the client never saw: the proxy sent the request to another backend"><span class="big" id="retries">-</span> retried</span>
  <span title="Answered by the load balancer itself, with no backend: none available (503) or over a limit"><span class="big" id="byProxy">-</span> answered by proxy</span>
  <span class="muted" title="1.00 when every backend got exactly its weight's share of requests; 1/n when one got them all (Jain's index)">fairness <b id="fairness">-</b></span>
</header>
<div class="explain"><b>retried</b>: failures hidden by another backend · <b>answered by proxy</b>: no backend took it ·
  <b>fairness</b>: 1.00 = shares match weights</div>
<table>
  <thead><tr><th>backend</th><th class="state">state</th><th>req/s</th><th>p50</th><th>p99</th><th>5xx</th><th>retried</th>
  <th>share, 30 s (| = fair)</th><th>since start</th><th></th></tr></thead>
  <tbody id="backends"></tbody>
</table>
<div id="legend"></div>
<div class="charts">
  <div class="chart"><h2>Requests per second</h2><div id="chart-rate"></div></div>
  <div class="chart"><h2>Latency: p99 solid, p50 dashed</h2><div id="chart-latency"></div></div>
  <div class="chart"><h2>5xx solid, retries dashed</h2><div id="chart-errors"></div></div>
</div>
<div id="events"></div>
<script>
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
const MARK = { ejected: '#b91c1c', down: '#b91c1c', broken: '#b91c1c', back: '#15803d', up: '#15803d', healed: '#15803d',
               drained: '#b45309', undrained: '#15803d', strategy: '#7c3aed', weight: '#7c3aed', added: '#0e7490', removed: '#0e7490' };
// Chart type: 16 px, 20 px on a 1080p screen; event labels in three rows above each chart, four on a tall screen.
// Below 1400 pixels the time axis shows minutes and seconds only, so at least two labels fit a narrow chart.
let FONT = 16, LANES = 3, LANE = FONT + 8, SHORT_TIMES = false;
function fitType() {
  FONT = window.innerWidth >= 1700 ? 20 : 16;
  LANES = window.innerHeight >= 1000 ? 4 : 3;
  LANE = FONT + 8;
  SHORT_TIMES = window.innerWidth < 1400;
  return FONT + '/' + LANES + '/' + SHORT_TIMES;
}
const dashboard = { charts: {}, markers: [], colors: {}, labelled: {}, upstream: null };
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

function upstreamQuery(prefix) {
  return dashboard.upstream ? prefix + 'upstream=' + encodeURIComponent(dashboard.upstream) : '';
}

async function post(path, method) {
  const response = await fetch(path + upstreamQuery(path.includes('?') ? '&' : '?'), { method: method || 'POST', headers: { 'X-LB-Admin': '1' } });
  if (!response.ok) alert(await response.text());
  refresh();
}

function stateCell(b) {
  if (b.state === 'ejected' && b.returnsInSeconds != null) return `ejected, back in ${b.returnsInSeconds < 60 ? b.returnsInSeconds + ' s' : human(b.returnsInSeconds * 1000)}`;
  return b.state;
}

function row(b) {
  const recent = (b.recentShare * 100).toFixed(0), since = (b.share * 100).toFixed(0), expected = (b.expectedShare * 100).toFixed(1);
  const name = encodeURIComponent(b.label), draining = b.state === 'draining';
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
    <td class="actions"><button class="drain" onclick="post('/drain?backend=${name}${draining ? '&off' : ''}')">${draining ? 'Undrain' : 'Drain'}</button><button
        onclick="post('/break?backend=${name}')">Break</button><button class="heal" onclick="post('/heal?backend=${name}')">Heal</button><button
        onclick="post('/backend?backend=${name}', 'DELETE')">Remove</button></td></tr>`;
}

// Event markers, drawn under the data (drawClear comes before uPlot draws the series): a thin dashed line at
// the event's time, and its label in one of three rows above the plot, never over it. The newest events
// choose their row first, so when the rows are full it is an old event that goes unlabelled.
function markerLines(u) {
  const ctx = u.ctx, px = devicePixelRatio, bottom = u.bbox.top + u.bbox.height;
  ctx.save();
  ctx.lineWidth = 1.5 * px;
  ctx.setLineDash([5 * px, 5 * px]);
  ctx.globalAlpha = 0.7;
  for (const m of visibleMarkers(u)) {
    const x = Math.round(u.valToPos(m.t, 'x', true));
    ctx.strokeStyle = MARK[m.kind] || '#555';
    ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, bottom); ctx.stroke();
  }
  ctx.restore();
}

function markerLabels(u) {
  const ctx = u.ctx, px = devicePixelRatio, right = u.bbox.left + u.bbox.width;
  const placed = [], laneStarts = Array.from({ length: LANES }, () => []);
  ctx.save();
  ctx.font = `600 ${Math.round(FONT * px)}px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  ctx.textAlign = 'left'; // uPlot leaves whatever its last axis used
  for (const m of visibleMarkers(u).sort((a, b) => b.t - a.t)) {
    const x = u.valToPos(m.t, 'x', true), width = ctx.measureText(m.short).width + 8 * px;
    const left = Math.max(u.bbox.left, Math.min(x - width / 2, right - width));
    const lane = laneStarts.findIndex(spans => spans.every(([a, b]) => left + width <= a || left >= b));
    if (lane < 0) continue;
    laneStarts[lane].push([left - 4 * px, left + width + 4 * px]);
    const y = (4 + LANE * lane) * px, color = MARK[m.kind] || '#555';
    ctx.fillStyle = 'white';
    ctx.fillRect(left, y, width, (FONT + 4) * px);
    ctx.strokeStyle = color; ctx.lineWidth = 1 * px; ctx.setLineDash([]);
    ctx.strokeRect(left, y, width, (FONT + 4) * px);
    ctx.beginPath(); ctx.moveTo(x, y + (FONT + 4) * px); ctx.lineTo(x, u.bbox.top); ctx.stroke();
    ctx.fillStyle = color;
    ctx.fillText(m.short, left + 4 * px, y + 3 * px);
    placed.push({ t: m.t, kind: m.kind, text: m.short, fontPx: FONT, left: left / px, right: (left + width) / px, top: y / px,
                  bottom: y / px + FONT + 4, plotTop: u.bbox.top / px });
  }
  ctx.restore();
  dashboard.labelled[u.root.parentElement.id] = placed;
}

function visibleMarkers(u) {
  return dashboard.markers.filter(m => m.t >= u.scales.x.min && m.t <= u.scales.x.max);
}

// On the log scale only 0.1, 1, 10, 100, ... are labelled: the lines between them are the 2, 3, ... 9.
function isDecade(t) {
  const exponent = Math.log10(t);
  return Math.abs(exponent - Math.round(exponent)) < 1e-9;
}

function clock(t) {
  return new Date(t * 1000).toTimeString().substring(0, 8);
}

// The charts take the height the table and the header leave: a 1080p screen is filled, a 720p one still shows all three.
function chartSize(el) {
  const fixed = document.getElementById('events').offsetHeight + 18 + el.previousElementSibling.offsetHeight + 10;
  return { width: el.parentElement.clientWidth - 10,
           height: Math.max(240, window.innerHeight - el.parentElement.getBoundingClientRect().top - window.scrollY - fixed) };
}

function makeChart(id, series, yLabel, log) {
  const el = document.getElementById(id);
  const opts = { ...chartSize(el), padding: [LANES * LANE + 8, 2.5 * FONT, 0, 0], legend: { show: false }, cursor: { show: false },
    hooks: { drawClear: [markerLines], draw: [markerLabels] },
    scales: { x: { time: true, range: (u, min, max) => [min, Math.max(max, dashboard.now || max)] },
              y: log ? { distr: 3, log: 10 } : { range: (u, min, max) => [0, Math.max(max * 1.15, 2)] } },
    axes: [ { font: `${FONT}px system-ui`, size: 2 * FONT + 2, space: (SHORT_TIMES ? 3.3 : 5) * FONT,
              values: (u, ticks) => ticks.map(t => SHORT_TIMES ? clock(t).substring(3) : clock(t)) },
            { font: `${FONT}px system-ui`, size: 3.5 * FONT, space: 3 * FONT, label: yLabel, labelFont: `${FONT}px system-ui`, labelSize: 22,
              values: log ? (u, ticks) => ticks.map(t => t == null || !isDecade(t) ? '' : (t >= 1 ? String(Math.round(t)) : String(+t.toPrecision(1)))) : undefined } ],
    series: [{}].concat(series) };
  return new uPlot(opts, [[]].concat(series.map(() => [])), el);
}

function resizeCharts() {
  if (dashboard.type !== fitType()) {
    dashboard.keys = null; // redrawn with the new type size on the next refresh
    return;
  }
  for (const [id, chart] of Object.entries(dashboard.charts)) chart.setSize(chartSize(document.getElementById('chart-' + id)));
}

function drawLegend(backends) {
  document.getElementById('legend').innerHTML = backends.map(b =>
      `<span class="key"><span class="line" style="border-color:${colorOf(b.label)}"></span>${b.label}</span>`).join('')
    + '<span class="key muted"><span class="line"></span>requests, p99, 5xx</span>'
    + '<span class="key muted"><span class="line dashed"></span>p50, retries</span>'
    + '<span class="key muted"><span class="line upright"></span>events</span>';
}

function drawHistory(h) {
  dashboard.now = Math.floor(h.now);
  dashboard.markers = h.events.map(e => ({ t: e.t, kind: e.kind,
    short: (e.kind === 'strategy' ? e.text.replace('strategy changed to ', '→ ').replace(/ [(].*/, '') : (e.backend ? e.backend + ' ' : '') + e.kind) }));
  const keys = dashboard.upstream + ':' + h.backends.map(b => b.label).join('|');
  if (dashboard.keys !== keys) {
    dashboard.type = fitType();
    for (const id in dashboard.charts) dashboard.charts[id].destroy();
    document.querySelectorAll('.chart > div').forEach(d => d.innerHTML = '');
    drawLegend(h.backends);
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
    .map(e => `<div><span class="muted">${clock(e.t)}</span> <span style="color:${MARK[e.kind] || '#333'}">${e.text}</span></div>`).join('')
    || '<span class="muted">No events yet: drain, break or switch strategy to see them here and on the charts.</span>';
}

function drawUpstreams(upstreams) {
  if (!dashboard.upstream) dashboard.upstream = upstreams[0].upstream;
  const el = document.getElementById('upstreams');
  const names = upstreams.map(u => u.upstream).join('|');
  if (upstreams.length < 2 || el.dataset.names === names) return;
  el.dataset.names = names;
  el.innerHTML = 'upstream ' + upstreams.map(u => `<button data-upstream="${u.upstream}">${u.upstream}</button>`).join('');
  el.querySelectorAll('button').forEach(b => b.onclick = () => { dashboard.upstream = b.dataset.upstream; refresh(); });
}

async function refresh() {
  const stats = await (await fetch('/stats' + upstreamQuery('?'))).json();
  drawUpstreams(stats.upstreams);
  document.querySelectorAll('#upstreams button').forEach(b => b.classList.toggle('chosen', b.dataset.upstream === stats.upstream));
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
  drawHistory(await (await fetch('/history' + upstreamQuery('?'))).json());
}

window.addEventListener('resize', resizeCharts);
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
