/**
 * The `/docs` page: a self-contained HTML page (no external assets: servers often have no internet) that
 * reads `/openapi.json` and lists every route with its parameters, example bodies and a form to try it.
 *
 * @internal
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API docs</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
  header { background: #1d232a; color: #fff; padding: 16px 24px; }
  header h1 { margin: 0; font-size: 20px; }
  header p { margin: 4px 0 0; color: #b9c2cc; white-space: pre-line; }
  main { max-width: 1100px; margin: 0 auto; padding: 16px 24px 48px; }
  h2 { text-transform: capitalize; margin: 28px 0 8px; font-size: 17px; }
  details { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; margin: 6px 0; }
  summary { cursor: pointer; padding: 8px 12px; display: flex; gap: 12px; align-items: center; }
  .method { font: 600 12px monospace; padding: 3px 8px; border-radius: 4px; color: #fff; min-width: 42px; text-align: center; }
  .get { background: #2b7bb9; } .post { background: #2e8b57; }
  .path { font-family: monospace; }
  .body { padding: 4px 14px 14px; border-top: 1px solid #eef0f2; }
  textarea { width: 100%; min-height: 120px; font: 13px monospace; box-sizing: border-box; }
  input { font: 13px monospace; }
  pre { background: #f1f3f5; padding: 8px; overflow: auto; max-height: 320px; }
  button { margin-top: 6px; }
</style>
</head>
<body>
<header><h1 id="title">API docs</h1><p id="description"></p></header>
<main id="routes"><p>Loading /openapi.json…</p></main>
<script>
(async function () {
  const main = document.getElementById('routes');
  let doc;
  try { doc = await (await fetch('openapi.json')).json(); } catch (e) { main.textContent = 'Could not load openapi.json: ' + e; return; }
  document.getElementById('title').textContent = doc.info.title + ' ' + doc.info.version;
  document.getElementById('description').textContent = doc.info.description || '';
  main.textContent = '';
  const groups = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || 'other';
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push({ path, method, op });
    }
  }
  for (const [tag, ops] of groups) {
    const h = document.createElement('h2'); h.textContent = tag; main.appendChild(h);
    for (const { path, method, op } of ops) main.appendChild(route(path, method, op));
  }
  function route(path, method, op) {
    const d = document.createElement('details');
    d.className = 'route'; d.dataset.method = method.toUpperCase(); d.dataset.path = path;
    const s = document.createElement('summary');
    const m = document.createElement('span'); m.className = 'method ' + method; m.textContent = method.toUpperCase();
    const p = document.createElement('span'); p.className = 'path'; p.textContent = path;
    const t = document.createElement('span'); t.textContent = op.summary || '';
    s.append(m, p, t); d.appendChild(s);
    const body = document.createElement('div'); body.className = 'body';
    const params = (op.parameters || []).map((x) => {
      const label = document.createElement('label'); label.textContent = x.name + ' ';
      const input = document.createElement('input'); input.name = x.name; input.placeholder = x.description || x.name;
      label.appendChild(input); body.appendChild(label); body.appendChild(document.createTextNode(' '));
      return input;
    });
    let textarea = null;
    const content = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
    if (content) {
      const examples = content.examples || {};
      const first = Object.values(examples)[0];
      textarea = document.createElement('textarea');
      textarea.value = JSON.stringify(first ? first.value : content.example || {}, null, 2);
      if (Object.keys(examples).length > 1) {
        const select = document.createElement('select');
        for (const [name, ex] of Object.entries(examples)) { const o = document.createElement('option'); o.value = name; o.textContent = ex.summary || name; select.appendChild(o); }
        select.onchange = () => { textarea.value = JSON.stringify(examples[select.value].value, null, 2); const mi = params.find((i) => i.name === 'model'); if (mi) mi.value = select.value; };
        body.appendChild(document.createElement('br')); body.appendChild(select);
      }
      body.appendChild(textarea);
    }
    const button = document.createElement('button'); button.textContent = 'Send';
    const out = document.createElement('pre');
    button.onclick = async () => {
      let url = path;
      for (const i of params) url = url.replace('{' + i.name + '}', encodeURIComponent(i.value));
      try {
        const res = await fetch(url, { method: method.toUpperCase(), headers: textarea ? { 'content-type': 'application/json' } : {}, body: textarea ? textarea.value : undefined });
        out.textContent = res.status + ' ' + res.statusText + '\\n' + (await res.text());
      } catch (e) { out.textContent = String(e); }
    };
    const answers = document.createElement('p');
    answers.textContent = 'Answers: ' + Object.entries(op.responses || {}).map(([k, v]) => k + ' ' + (v.description || '')).join('; ');
    body.append(button, answers, out);
    d.appendChild(body);
    return d;
  }
})();
</script>
</body>
</html>
`;
