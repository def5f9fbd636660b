/**
 * The approvers' page: pending requests with their details, approve and deny buttons, and
 * recent decisions. Plain HTML and a small script calling the API with the approver's token.
 */

/** The page's HTML. */
export function approvalsPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pgwarden approvals</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
code{background:#f4f4f4;padding:.1rem .3rem;white-space:pre-wrap}button{margin-right:.3rem}
#error{color:#a00}
</style></head>
<body>
<h1>pgwarden approvals</h1>
<p><label>Your token <input id="token" type="password" size="50" autocomplete="off"></label>
<button id="save">Use token</button></p>
<p id="error" role="alert"></p>
<h2>Pending</h2>
<table id="pending"><thead><tr><th>Request</th><th>Requester</th><th>Statement</th>
<th>Reason</th><th>Expires</th><th>Decide</th></tr></thead><tbody></tbody></table>
<h2>Recent decisions</h2>
<table id="recent"><thead><tr><th>Request</th><th>Requester</th><th>Status</th><th>By</th>
</tr></thead>
<tbody></tbody></table>
<script>
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
$('#token').value = sessionStorage.getItem('pgwarden-token') || '';
$('#save').onclick = () => {
  sessionStorage.setItem('pgwarden-token', $('#token').value.trim());
  load();
};
async function api(path, options = {}) {
  const headers = {
    authorization: 'Bearer ' + $('#token').value.trim(),
    'content-type': 'application/json',
  };
  const res = await fetch(path, { ...options, headers });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}
async function decide(id, verdict) {
  const ask = verdict === 'approve' ? 'Comment for approval' : 'Reason for denial';
  const comment = prompt(ask) ?? '';
  try {
    const body = JSON.stringify({ comment });
    await api('/v1/approvals/' + id + '/' + verdict, { method: 'POST', body });
    $('#error').textContent = '';
  } catch (e) {
    $('#error').textContent = e.message;
  }
  load();
}
async function load() {
  if (!$('#token').value.trim()) return;
  try {
    const { approvals } = await api('/v1/approvals');
    $('#error').textContent = '';
    $('#pending tbody').innerHTML = approvals.filter((a) => a.status === 'pending').map((a) =>
      '<tr data-id="' + esc(a.id) + '"><td>' + esc(a.id) + '</td><td>' + esc(a.requester.subject) +
      '</td><td><code>' + esc(a.text) + '</code></td><td>' + esc(a.reason) + '</td><td>' +
      esc(a.expires_at) + '</td><td><button class="approve">Approve</button>' +
      '<button class="deny">Deny</button></td></tr>').join('');
    for (const row of document.querySelectorAll('#pending tbody tr')) {
      row.querySelector('.approve').onclick = () => decide(row.dataset.id, 'approve');
      row.querySelector('.deny').onclick = () => decide(row.dataset.id, 'deny');
    }
    const recent = approvals.filter((a) => a.status !== 'pending').slice(0, 20);
    $('#recent tbody').innerHTML = recent.map((a) =>
      '<tr><td>' + esc(a.id) + '</td><td>' + esc(a.requester.subject) + '</td><td>' +
      esc(a.status) + '</td><td>' + esc(a.verdicts.map((v) => v.approver).join(', ')) +
      '</td></tr>').join('');
  } catch (e) { $('#error').textContent = e.message; }
}
load();
setInterval(load, 3000);
</script>
</body></html>
`;
}
