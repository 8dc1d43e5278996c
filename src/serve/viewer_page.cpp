// The viewer's single page: a table of episodes with search and paging, one episode step by
// step with every image, and the report (per-category charts of one or two scored runs, drawn
// as SVG by the page itself). Plain HTML, CSS and JavaScript inline: it works with no network.
#include "serve/viewer.h"

namespace taco {

const std::string& viewer_page() {
  static const std::string page = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>taco traces</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d2430; background: #f6f7f9; }
header { background: #1d2430; color: #fff; padding: 10px 18px; display: flex; gap: 16px; align-items: center; }
header h1 { font-size: 16px; margin: 0; } header .file { opacity: .7; font-family: monospace; }
main { padding: 14px 18px; }
.controls { display: flex; gap: 8px; margin-bottom: 10px; align-items: center; }
input[type=search] { flex: 1; padding: 6px 8px; border: 1px solid #c8ccd4; border-radius: 4px; }
select, button { padding: 5px 10px; border: 1px solid #c8ccd4; border-radius: 4px; background: #fff; cursor: pointer; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e4e7ec; vertical-align: top; }
th { background: #eef0f4; font-weight: 600; } tr.row:hover { background: #f0f5ff; cursor: pointer; }
.q { max-width: 420px; } .mono { font-family: monospace; font-size: 12px; }
.right { color: #137333; font-weight: 600; } .wrong { color: #b3261e; font-weight: 600; }
.tool { display: inline-block; background: #e8eefc; border-radius: 3px; padding: 0 5px; margin: 1px; font-size: 12px; }
.episode h2 { font-size: 17px; margin: 4px 0 8px; } .meta { color: #5b6270; margin-bottom: 12px; }
.step { background: #fff; border: 1px solid #e4e7ec; border-radius: 6px; padding: 10px 12px; margin: 10px 0; }
.step h3 { font-size: 13px; margin: 0 0 6px; color: #5b6270; } .thought { margin: 4px 0; }
.action { font-family: monospace; background: #f3f4f7; padding: 4px 6px; border-radius: 4px; white-space: pre-wrap; word-break: break-all; }
.obs { font-family: monospace; font-size: 12px; white-space: pre-wrap; word-break: break-all; background: #fbfbf4; padding: 4px 6px; border-radius: 4px; max-height: 240px; overflow: auto; }
.error { color: #b3261e; } figure { display: inline-block; margin: 6px 10px 6px 0; } figure img { max-width: 360px; max-height: 280px; border: 1px solid #d6d9df; }
figcaption { font-size: 12px; color: #5b6270; } .answer { font-size: 16px; font-weight: 600; margin-top: 10px; }
header nav a { color: #fff; margin-right: 12px; text-decoration: none; opacity: .8; } header nav a.on { opacity: 1; border-bottom: 2px solid #fff; }
.report h2 { font-size: 16px; margin: 18px 0 6px; } .report .note { color: #5b6270; font-size: 12px; max-width: 900px; }
.report svg { background: #fff; border: 1px solid #e4e7ec; border-radius: 6px; } .report svg text { font: 12px system-ui, sans-serif; fill: #1d2430; }
.keyform { background: #fff; border: 1px solid #e4e7ec; border-radius: 6px; padding: 14px; max-width: 520px; }
.keyform input { width: 320px; padding: 6px 8px; border: 1px solid #c8ccd4; border-radius: 4px; }
.report .headline { font-size: 15px; margin: 4px 0; } .legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: -1px; }
</style></head><body>
<header><h1>taco traces</h1><nav><a href="#/" id="nav-episodes">episodes</a><a href="#/report" id="nav-report" hidden>report</a><a href="#/training" id="nav-training" hidden>training</a></nav><span class="file" id="file"></span></header>
<main id="main"></main>
<script>
const main = document.getElementById('main');
const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const state = { offset: 0, limit: 50, q: '', correct: '', typing: false };

// The API, with the server's key when it wants one (taco serve --api-key): the page asks for it
// once and keeps it for this tab.
const keyHeaders = () => sessionStorage.getItem('taco-key') ? { Authorization: 'Bearer ' + sessionStorage.getItem('taco-key') } : {};
class KeyWanted extends Error {}
async function api(path) {
  const r = await fetch(path, { headers: keyHeaders() });
  if (r.status === 401) { askForKey(sessionStorage.getItem('taco-key') !== null); throw new KeyWanted(); }
  return r;
}
function askForKey(wrong) {
  main.innerHTML = `<form class="keyform" id="keyform"><p>This server wants its API key (the one taco serve was started with).</p>
    ${wrong ? '<p class="error">That key was not accepted.</p>' : ''}
    <input type="password" id="key" placeholder="API key" autocomplete="current-password"> <button type="submit">open</button></form>`;
  document.getElementById('key').focus();
  document.getElementById('keyform').onsubmit = ev => { ev.preventDefault(); sessionStorage.setItem('taco-key', document.getElementById('key').value); showReportLink(); show(); };
}
// Images come through the API too (an <img src> cannot send the key): each is fetched and shown,
// or its refusal reason (outside the allowed roots, not an image) stands where it would be.
async function loadImage(img) {
  let why = 'could not be loaded';
  try {
    const r = await fetch(img.dataset.src, { headers: keyHeaders() });
    if (r.ok) { img.src = URL.createObjectURL(await r.blob()); return; }
    why = (await r.json()).error?.message || why;
  } catch (e) {}
  const note = document.createElement('div');
  note.className = 'error';
  note.textContent = why;
  img.replaceWith(note);
}

async function listPage() {
  const p = new URLSearchParams({ offset: state.offset, limit: state.limit, q: state.q, correct: state.correct });
  const data = await (await api('/api/episodes?' + p)).json();
  document.getElementById('file').textContent = data.file;
  const rows = data.episodes.map(e => `<tr class="row" data-n="${e.n}">
    <td class="mono">${esc(e.id)}</td><td class="q">${esc(e.question)}</td><td>${esc(e.answer)}</td>
    ${data.scored ? `<td>${esc(e.reference ?? '')}</td><td class="${e.score >= 1 ? 'right' : 'wrong'}">${e.score === undefined ? '' : e.score >= 1 ? 'right' : 'wrong'}</td>` : ''}
    <td>${esc(e.model)}</td><td>${esc(e.prompt)}</td><td>${esc(e.status)}</td><td>${e.steps}</td>
    <td>${e.tools.map(t => `<span class="tool">${esc(t)}</span>`).join('')}</td></tr>`).join('');
  const last = Math.min(state.offset + state.limit, data.total);
  main.innerHTML = `<div class="controls">
      <input type="search" id="q" placeholder="search questions, answers, thoughts, ids" value="${esc(state.q)}">
      ${data.scored ? `<select id="correct"><option value="">all</option><option value="yes">right</option><option value="no">wrong</option></select>` : ''}
      <button id="prev">previous</button><span>${data.total ? state.offset + 1 : 0}-${last} of ${data.total}</span><button id="next">next</button></div>
    <table><thead><tr><th>id</th><th>question</th><th>answer</th>${data.scored ? '<th>reference</th><th>scored</th>' : ''}
      <th>model</th><th>mode</th><th>status</th><th>steps</th><th>tools</th></tr></thead><tbody>${rows}</tbody></table>`;
  // The table follows the search as one types (a pause of 200 ms), the caret staying put.
  const q = document.getElementById('q');
  if (state.typing) { q.focus(); q.setSelectionRange(q.value.length, q.value.length); state.typing = false; }
  let pause;
  q.addEventListener('input', () => { clearTimeout(pause); pause = setTimeout(() => { state.q = q.value; state.offset = 0; state.typing = true; show(); }, 200); });
  q.addEventListener('change', () => { clearTimeout(pause); if (q.value !== state.q) { state.q = q.value; state.offset = 0; show(); } });
  const c = document.getElementById('correct');
  if (c) { c.value = state.correct; c.addEventListener('change', () => { state.correct = c.value; state.offset = 0; show(); }); }
  document.getElementById('prev').onclick = () => { state.offset = Math.max(0, state.offset - state.limit); show(); };
  document.getElementById('next').onclick = () => { if (last < data.total) { state.offset += state.limit; show(); } };
  main.querySelectorAll('tr.row').forEach(r => r.onclick = () => { location.hash = '#/episode/' + r.dataset.n; });
}

async function episodePage(n) {
  const r = await api('/api/episodes/' + n);
  const t = await r.json();
  // Only the server's answer to a bad request is an API error; a trace's own "error" (an
  // episode that failed) is part of the trace and shown below with it.
  if (!r.ok) { main.innerHTML = `<p class="error">${esc(t.error?.message ?? 'HTTP ' + r.status)}</p>`; return; }
  const index = new Map(); (t.images || []).forEach((im, k) => index.set(im.name, k));
  const figure = name => !index.has(name) ? '' :
    `<figure><img data-src="/api/episodes/${n}/images/${index.get(name)}" alt="${esc(name)}"><figcaption>${esc(name)} (${esc(t.images[index.get(name)].source)})</figcaption></figure>`;
  const stepError = e => typeof e === 'object' && e !== null ? `${esc(e.kind)}: ${esc(e.message)}` : esc(e);
  const inputs = (t.images || []).filter(im => im.source === 'input').map(im => figure(im.name)).join('');
  const steps = (t.steps || []).map((s, i) => `<div class="step"><h3>step ${i + 1}</h3>
    ${s.thought ? `<div class="thought">${esc(s.thought)}</div>` : ''}
    ${(s.actions || []).map(a => `<div class="action">${esc(a.name)}(${esc(JSON.stringify(a.arguments))})</div>`).join('')}
    ${s.actions ? '' : `<div class="action">${esc(s.raw)}</div>`}
    ${s.error ? `<div class="error">${stepError(s.error)}</div>` : ''}
    ${s.observation ? `<div class="obs">${esc(JSON.stringify(s.observation))}</div>` : ''}
    ${(s.new_images || []).map(figure).join('')}</div>`).join('');
  main.innerHTML = `<div class="episode"><p><a href="#/">&larr; all episodes</a></p>
    <h2>${esc(t.task?.question)}</h2>
    <div class="meta"><span class="mono">${esc(t.id)}</span> &middot; ${esc(t.model)} &middot; ${esc(t.prompt)} &middot; ${esc(t.status)}</div>
    <div>${inputs}</div>${steps}
    <div class="answer">answer: ${esc(t.answer)}</div>
    ${t.scored ? `<div class="verdict">reference: ${esc(t.scored.reference)} &middot; <span class="${t.scored.score >= 1 ? 'right' : 'wrong'}">${t.scored.score >= 1 ? 'right' : t.scored.score > 0 ? 'partly right (' + t.scored.score + ')' : 'wrong'}</span></div>` : ''}
    ${t.error ? `<p class="error">${stepError(t.error)}</p>` : ''}</div>`;
  main.querySelectorAll('figure img').forEach(loadImage);
}

const colors = ['#3b6fd8', '#e0873a'];
const pct = x => (100 * x).toFixed(1);
const signed = x => (x >= 0 ? '+' : '') + (100 * x).toFixed(1);

// Per category, each run's score as a bar with its 95% bootstrap interval as a whisker.
function scoreChart(runs) {
  const cats = ['overall', ...new Set(runs.flatMap(r => r.categories.map(c => c.category)))];
  const at = (r, cat) => cat === 'overall' ? r.overall : r.categories.find(c => c.category === cat);
  const label = 230, width = 420, bar = 14, gap = 10, rowH = runs.length * (bar + 3) + gap, top = 24;
  const x = v => label + v * width;
  let out = `<svg width="${label + width + 150}" height="${top + cats.length * rowH + 10}" role="img">`;
  for (const t of [0, .25, .5, .75, 1])
    out += `<line x1="${x(t)}" x2="${x(t)}" y1="${top - 6}" y2="${top + cats.length * rowH}" stroke="#e4e7ec"/><text x="${x(t)}" y="${top - 10}" text-anchor="middle">${t * 100}%</text>`;
  cats.forEach((cat, i) => {
    const y0 = top + i * rowH;
    out += `<text x="${label - 8}" y="${y0 + rowH / 2}" text-anchor="end" class="cat">${esc(cat.length > 34 ? cat.slice(0, 33) + '…' : cat)}</text>`;
    runs.forEach((r, k) => {
      const g = at(r, cat); if (!g) return;
      const y = y0 + k * (bar + 3);
      out += `<rect x="${label}" y="${y}" width="${g.score * width}" height="${bar}" fill="${colors[k]}" opacity=".85"><title>${esc(r.name)} ${esc(cat)}: ${pct(g.score)}% (n=${g.n})</title></rect>`;
      out += `<line x1="${x(g.low)}" x2="${x(g.high)}" y1="${y + bar / 2}" y2="${y + bar / 2}" stroke="#1d2430" stroke-width="1.5"/>`;
      out += `<text x="${x(Math.max(g.score, g.high)) + 6}" y="${y + bar - 3}">${pct(g.score)}% <tspan fill="#5b6270">n=${g.n}</tspan></text>`;
    });
  });
  return out + '</svg>';
}

// Per category, the paired difference (this run minus the other) with its 95% interval.
function differenceChart(cmp) {
  const rows = cmp.rows, label = 230, width = 420, rowH = 22, top = 24;
  const lo = Math.min(-0.05, ...rows.map(r => r.ci_low)), hi = Math.max(0.05, ...rows.map(r => r.ci_high));
  const x = v => label + (v - lo) / (hi - lo) * width;
  let out = `<svg width="${label + width + 190}" height="${top + rows.length * rowH + 10}" role="img">`;
  out += `<line x1="${x(0)}" x2="${x(0)}" y1="${top - 6}" y2="${top + rows.length * rowH}" stroke="#5b6270" stroke-dasharray="3,3"/>`;
  out += `<text x="${x(0)}" y="${top - 10}" text-anchor="middle">0</text><text x="${x(lo)}" y="${top - 10}">${signed(lo)}</text><text x="${x(hi)}" y="${top - 10}" text-anchor="end">${signed(hi)}</text>`;
  rows.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    const color = r.ci_low > 0 ? '#137333' : r.ci_high < 0 ? '#b3261e' : '#5b6270';
    out += `<text x="${label - 8}" y="${y + 4}" text-anchor="end" class="cat">${esc(r.category.length > 34 ? r.category.slice(0, 33) + '…' : r.category)}</text>`;
    out += `<line x1="${x(r.ci_low)}" x2="${x(r.ci_high)}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"/>`;
    out += `<circle cx="${x(r.difference)}" cy="${y}" r="4.5" fill="${color}"><title>${esc(r.category)}: ${signed(r.difference)} points [${signed(r.ci_low)}, ${signed(r.ci_high)}], n=${r.n}</title></circle>`;
    out += `<text x="${label + width + 8}" y="${y + 4}" fill="${color}">${signed(r.difference)} [${signed(r.ci_low)}, ${signed(r.ci_high)}] n=${r.n}</text>`;
  });
  return out + '</svg>';
}

async function reportPage() {
  const rep = await (await api('/api/report')).json();
  if (!rep.runs.length) { main.innerHTML = '<p>No scores: start the viewer with --scores RUN.scores.jsonl (and --compare OTHER.scores.jsonl).</p>'; return; }
  const [a, b] = rep.runs;
  const line = r => `<div class="headline"><b>${esc(r.name)}</b>: ${pct(r.overall.score)}% [${pct(r.overall.low)}, ${pct(r.overall.high)}] on ${r.overall.n} items</div>`;
  const overall = rep.comparison && rep.comparison.rows.find(r => r.category === 'overall');
  main.innerHTML = `<div class="report">${rep.runs.map(line).join('')}
    ${overall ? `<div class="headline">${esc(a.name)} &minus; ${esc(b.name)}: <b>${signed(overall.difference)} points</b> [${signed(overall.ci_low)}, ${signed(overall.ci_high)}] on the ${overall.n} items both scored</div>` : ''}
    <h2>Score per category</h2>
    <div class="legend">${rep.runs.map((r, k) => `<span style="background:${colors[k]}"></span>${esc(r.name)}`).join('')}</div>
    ${scoreChart(rep.runs)}
    <p class="note">Bars: mean score; whiskers: 95% bootstrap interval over the items (2000 resamples).</p>
    ${rep.comparison ? `<h2>${esc(a.name)} &minus; ${esc(b.name)}, per category (points)</h2>${differenceChart(rep.comparison)}
    <p class="note">Paired over the items both runs scored; 95% paired bootstrap interval, as taco eval compare computes it. Green: the interval is above 0; red: below.</p>` : ''}</div>`;
}

// Curves over the steps of a taco rl run: each series a line, its values on a shared axis.
function curveChart(steps, series, top, unit) {
  const width = 640, height = 220, left = 56, pad = 24;
  const xs = steps.map(m => m.step), n = xs.length;
  const x0 = Math.min(...xs), x1 = Math.max(x0 + 1, ...xs);
  const x = v => left + (v - x0) / (x1 - x0) * width;
  const y = v => pad + height - Math.max(0, Math.min(1, v / top)) * height;
  let out = `<svg width="${left + width + 190}" height="${height + 2 * pad + 16}" role="img">`;
  for (const t of [0, .25, .5, .75, 1])
    out += `<line x1="${left}" x2="${left + width}" y1="${y(t * top)}" y2="${y(t * top)}" stroke="#e4e7ec"/><text x="${left - 6}" y="${y(t * top) + 4}" text-anchor="end">${unit(t * top)}</text>`;
  out += `<text x="${left}" y="${height + 2 * pad + 10}">step ${x0}</text><text x="${left + width}" y="${height + 2 * pad + 10}" text-anchor="end">step ${x1}</text>`;
  series.forEach((s, k) => {
    const pts = steps.filter(m => typeof s.value(m) === 'number').map(m => `${x(m.step).toFixed(1)},${y(s.value(m)).toFixed(1)}`);
    if (!pts.length) return;
    out += `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="${s.mean ? 1 : 1.8}" opacity="${s.mean ? .45 : 1}"/>`;
    if (s.mean && steps.length >= 5) {  // the trend: the mean of the last ten steps
      const mean = steps.map((m, i) => { const w = steps.slice(Math.max(0, i - 9), i + 1).map(s.value); return `${x(m.step).toFixed(1)},${y(w.reduce((a, b) => a + b, 0) / w.length).toFixed(1)}`; });
      out += `<polyline points="${mean.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2.2"/>`;
    }
    const last = steps[n - 1];
    out += `<text x="${left + width + 8}" y="${pad + 14 + 18 * k}" fill="${s.color}">${esc(s.name)}: ${unit(s.value(last))}</text>`;
  });
  return out + '</svg>';
}

async function trainingPage() {
  // Every value a number (the file is the run's, but a page never trusts what it draws).
  const num = v => (typeof v === 'number' && isFinite(v) ? v : 0);
  const steps = (await (await api('/api/training')).json()).steps.map(m => Object.fromEntries(
    ['step', 'reward', 'accuracy', 'groups', 'groups_kept', 'episodes_per_s', 'tool_calls_per_episode', 'parse_failures_per_episode',
     'episodes_with_tools'].map(k => [k, num(m[k])])));
  if (!steps.length) { main.innerHTML = '<p>No training metrics: view a taco rl run\'s rollouts.jsonl (its metrics.jsonl beside it), or give --metrics.</p>'; return; }
  const last = steps[steps.length - 1];
  const share = v => (100 * v).toFixed(0) + '%';
  const tools = Math.max(1, ...steps.map(m => m.tool_calls_per_episode || 0));
  main.innerHTML = `<div class="report"><div class="headline">step <b>${last.step}</b>: reward ${last.reward.toFixed(3)}, accuracy ${share(last.accuracy)}, ${last.groups_kept} of ${last.groups} groups kept, ${last.episodes_per_s.toFixed(1)} episodes/s</div>
    <h2>Reward and accuracy</h2>
    ${curveChart(steps, [{name: 'reward', color: colors[0], value: m => m.reward, mean: true}, {name: 'accuracy', color: colors[1], value: m => m.accuracy, mean: true},
                         {name: 'groups kept', color: '#5b6270', value: m => m.groups ? m.groups_kept / m.groups : 0}], 1, v => v.toFixed(2))}
    <h2>Tool use</h2>
    ${curveChart(steps, [{name: 'tool calls per episode', color: colors[0], value: m => m.tool_calls_per_episode},
                         {name: 'parse failures per episode', color: '#b3261e', value: m => m.parse_failures_per_episode}], tools, v => v.toFixed(1))}
    ${curveChart(steps, [{name: 'episodes with a tool', color: colors[1], value: m => m.episodes_with_tools}], 1, share)}
    <p class="note">One point per step (metrics.jsonl); reward and accuracy also as the mean of the last ten steps (the bold lines). Tool use collapsing to zero, or replies growing, are the failures to watch (docs/rl.md).</p></div>`;
}

function show() {
  const m = location.hash.match(/^#\/episode\/(\d+)/);
  const report = location.hash === '#/report', training = location.hash === '#/training';
  document.getElementById('nav-report').classList.toggle('on', report);
  document.getElementById('nav-training').classList.toggle('on', training);
  document.getElementById('nav-episodes').classList.toggle('on', !report && !training);
  (m ? episodePage(m[1]) : report ? reportPage() : training ? trainingPage() : listPage()).catch(e => { if (!(e instanceof KeyWanted)) main.innerHTML = `<p class="error">${esc(e)}</p>`; });
}
function showReportLink() {
  fetch('/api/report', { headers: keyHeaders() }).then(r => r.json()).then(rep => { if (rep.runs && rep.runs.length) document.getElementById('nav-report').hidden = false; }).catch(() => {});
  fetch('/api/training', { headers: keyHeaders() }).then(r => r.json()).then(t => { if (t.steps && t.steps.length) document.getElementById('nav-training').hidden = false; }).catch(() => {});
}
showReportLink();
window.addEventListener('hashchange', show);
show();
</script></body></html>
)HTML";
  return page;
}

}  // namespace taco
