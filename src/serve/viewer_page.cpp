// The viewer's single page: a table of episodes with search and paging, and one episode step
// by step with every image. Plain HTML, CSS and JavaScript inline: it works with no network.
#include "serve/viewer.h"

namespace taco {

const std::string& viewer_page() {
  static const std::string page = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>taco traces</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
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
</style></head><body>
<header><h1>taco traces</h1><span class="file" id="file"></span></header>
<main id="main"></main>
<script>
const main = document.getElementById('main');
const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const state = { offset: 0, limit: 50, q: '', correct: '' };

async function listPage() {
  const p = new URLSearchParams({ offset: state.offset, limit: state.limit, q: state.q, correct: state.correct });
  const data = await (await fetch('/api/episodes?' + p)).json();
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
  const q = document.getElementById('q');
  q.addEventListener('change', () => { state.q = q.value; state.offset = 0; show(); });
  const c = document.getElementById('correct');
  if (c) { c.value = state.correct; c.addEventListener('change', () => { state.correct = c.value; state.offset = 0; show(); }); }
  document.getElementById('prev').onclick = () => { state.offset = Math.max(0, state.offset - state.limit); show(); };
  document.getElementById('next').onclick = () => { if (last < data.total) { state.offset += state.limit; show(); } };
  main.querySelectorAll('tr.row').forEach(r => r.onclick = () => { location.hash = '#/episode/' + r.dataset.n; });
}

async function episodePage(n) {
  const t = await (await fetch('/api/episodes/' + n)).json();
  if (t.error) { main.innerHTML = `<p class="error">${esc(t.error.message)}</p>`; return; }
  const index = {}; (t.images || []).forEach((im, k) => index[im.name] = k);
  const figure = name => index[name] === undefined ? '' :
    `<figure><img src="/api/episodes/${n}/images/${index[name]}" alt="${esc(name)}"><figcaption>${esc(name)} (${esc(t.images[index[name]].source)})</figcaption></figure>`;
  const inputs = (t.images || []).filter(im => im.source === 'input').map(im => figure(im.name)).join('');
  const steps = (t.steps || []).map((s, i) => `<div class="step"><h3>step ${i + 1}</h3>
    ${s.thought ? `<div class="thought">${esc(s.thought)}</div>` : ''}
    ${(s.actions || []).map(a => `<div class="action">${esc(a.name)}(${esc(JSON.stringify(a.arguments))})</div>`).join('')}
    ${s.actions ? '' : `<div class="action">${esc(s.raw)}</div>`}
    ${s.error ? `<div class="error">${esc(s.error.kind)}: ${esc(s.error.message)}</div>` : ''}
    ${s.observation ? `<div class="obs">${esc(JSON.stringify(s.observation))}</div>` : ''}
    ${(s.new_images || []).map(figure).join('')}</div>`).join('');
  main.innerHTML = `<div class="episode"><p><a href="#/">&larr; all episodes</a></p>
    <h2>${esc(t.task?.question)}</h2>
    <div class="meta"><span class="mono">${esc(t.id)}</span> &middot; ${esc(t.model)} &middot; ${esc(t.prompt)} &middot; ${esc(t.status)}</div>
    <div>${inputs}</div>${steps}
    <div class="answer">answer: ${esc(t.answer)}</div>${t.error ? `<p class="error">${esc(t.error)}</p>` : ''}</div>`;
}

function show() {
  const m = location.hash.match(/^#\/episode\/(\d+)/);
  (m ? episodePage(m[1]) : listPage()).catch(e => main.innerHTML = `<p class="error">${esc(e)}</p>`);
}
window.addEventListener('hashchange', show);
show();
</script></body></html>
)HTML";
  return page;
}

}  // namespace taco
