package admin;

/**
 * The live dashboard: one self-contained page (no build step, nothing fetched from elsewhere) that
 * polls {@code /stats} twice a second and draws each backend's request rate, in-flight requests,
 * latency, health and share of traffic against its expected share, with a strategy switcher, drain,
 * remove, break and heal buttons, and the event timeline. Large type, for a projector. Its changes
 * carry {@code X-LB-Admin: 1}, as {@link AdminAccess} asks. With a token, {@link #LOGIN_HTML} comes first.
 */
final class Dashboard {
    private Dashboard() {}

    static final String HTML = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>LoadBalancer</title>
<style>
  body { font: 20px/1.4 system-ui, sans-serif; margin: 24px; background: #fafafa; color: #222; }
  h1 { font-size: 30px; margin: 0 0 12px; }
  table { border-collapse: collapse; width: 100%; background: white; }
  th, td { padding: 8px 12px; border-bottom: 1px solid #ddd; text-align: right; }
  th:first-child, td:first-child { text-align: left; }
  .bar { position: relative; height: 22px; width: 260px; background: #eee; display: inline-block; vertical-align: middle; }
  .bar .share { position: absolute; top: 0; left: 0; height: 100%; background: #3b82f6; }
  .bar .expected { position: absolute; top: -3px; width: 3px; height: 28px; background: #111; }
  .up { color: #15803d; font-weight: bold; } .down, .ejected { color: #b91c1c; font-weight: bold; } .draining { color: #b45309; font-weight: bold; }
  button, select { font-size: 18px; margin: 0 2px; }
  #events { background: white; border: 1px solid #ddd; padding: 8px 12px; max-height: 260px; overflow-y: auto; font-size: 17px; }
  .muted { color: #666; }
</style>
</head>
<body>
<h1>LoadBalancer <span class="muted" id="summary"></span></h1>
<p>Strategy: <select id="strategy"></select> <span class="muted">fairness (Jain) <b id="fairness">-</b></span></p>
<table>
  <thead><tr><th>backend</th><th>state</th><th>req/s</th><th>requests</th><th>in flight</th><th>p50 ms</th><th>p99 ms</th>
  <th>share (bar) vs expected (line)</th><th></th></tr></thead>
  <tbody id="backends"></tbody>
</table>
<p>Add a backend: <input id="url" size="28" placeholder="http://127.0.0.1:9004" style="font-size:18px">
  <button id="add" onclick="post('/backend?url=' + encodeURIComponent(document.getElementById('url').value))">Add</button></p>
<h2>Events</h2>
<div id="events"></div>
<script>
const previous = {};
let strategiesLoaded = false;

async function post(path) {
  // X-LB-Admin: the admin API refuses changes without it, which a page on another site cannot send.
  const response = await fetch(path, { method: path.startsWith('/backend?backend=') ? 'DELETE' : 'POST', headers: { 'X-LB-Admin': '1' } });
  if (!response.ok) alert(await response.text());
  refresh();
}

function row(backend, rate) {
  const share = (backend.share * 100).toFixed(1), expected = (backend.expectedShare * 100).toFixed(1);
  const name = encodeURIComponent(backend.backend);
  const draining = backend.state === 'draining';
  return `<tr data-backend="${backend.backend}">
    <td>${backend.backend} <span class="muted">w${backend.weight}</span></td>
    <td class="${backend.state} state">${backend.state}</td>
    <td class="rate">${rate.toFixed(0)}</td>
    <td class="requests">${backend.requests}</td>
    <td>${backend.inFlight}</td>
    <td>${backend.latencyMs.p50.toFixed(1)}</td>
    <td>${backend.latencyMs.p99.toFixed(1)}</td>
    <td><span class="bar"><span class="share" style="width:${share}%"></span><span class="expected" style="left:${expected}%"></span></span> ${share}%</td>
    <td><button class="drain" onclick="post('/drain?backend=${name}${draining ? '&off' : ''}')">${draining ? 'Undrain' : 'Drain'}</button>
        <button onclick="post('/break?backend=${name}')">Break</button><button onclick="post('/heal?backend=${name}')">Heal</button>
        <button onclick="post('/backend?backend=${name}')">Remove</button></td></tr>`;
}

async function refresh() {
  const now = performance.now();
  const stats = await (await fetch('/stats')).json();
  if (!strategiesLoaded) {
    const names = await (await fetch('/strategies')).json();
    document.getElementById('strategy').innerHTML = names.map(n => `<option>${n}</option>`).join('');
    document.getElementById('strategy').onchange = e => post('/strategy?name=' + e.target.value);
    strategiesLoaded = true;
  }
  document.getElementById('strategy').value = stats.strategy;
  document.getElementById('fairness').textContent = stats.fairness.toFixed(3);
  document.getElementById('summary').textContent = `${stats.requests} requests, ${stats.answeredByProxy} answered by the proxy itself`;
  document.getElementById('backends').innerHTML = stats.backends.map(b => {
    const before = previous[b.backend];
    const rate = before ? (b.requests - before.requests) / ((now - before.at) / 1000) : 0;
    previous[b.backend] = { requests: b.requests, at: now };
    return row(b, Math.max(rate, 0));
  }).join('');
  const events = await (await fetch('/events')).json();
  document.getElementById('events').innerHTML = events.reverse()
    .map(e => `<div><span class="muted">${e.time.substring(11, 19)}</span> ${e.text}</div>`).join('') || '<span class="muted">no events yet</span>';
}

refresh();
setInterval(refresh, 500);
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
