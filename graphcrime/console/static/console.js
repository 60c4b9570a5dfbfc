// graphcrime console: fills the server's page shells from /api (no libraries, works offline).
// Every value from the server is put in as text (textContent / text nodes), never as HTML;
// every link is built from this site's own paths with encodeURIComponent.
'use strict';
(function () {
  const body = document.body;
  const JOB = body.dataset.job || '';
  const IRI = body.dataset.iri || '';
  const PAGE_SIZE = 25;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === '') continue;
      e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }

  async function api(path, options) {
    const r = await fetch(path, options);
    let doc = null;
    try { doc = await r.json(); } catch (e) { doc = null; }
    if (!r.ok) {
      const err = new Error((doc && doc.error) || ('HTTP ' + r.status));
      err.doc = doc || {};
      throw err;
    }
    return doc;
  }

  const enc = encodeURIComponent;
  const jobPath = (job) => '/jobs/' + enc(job);
  const apiJob = (rest) => '/api/jobs/' + enc(JOB) + (rest || '');
  const pageUrl = (kind, iri) => jobPath(JOB) + '/' + kind + '?iri=' + enc(iri);
  const short = (iri) => String(iri).split('#').pop().split('/').pop();
  const money = (x) => (x === null || x === undefined) ? '' :
    Number(x).toLocaleString('en-US', {minimumFractionDigits: 2, maximumFractionDigits: 2});
  const when = (t) => t ? String(t).replace('T', ' ').slice(0, 19) : '';
  const count = (n) => (n === null || n === undefined) ? '' : Number(n).toLocaleString('en-US');

  function partyLink(iri, label, suspicious) {
    if (!iri) return '';
    return el('a', {href: pageUrl('party', iri), title: iri, class: suspicious ? 'sus' : null},
      label || short(iri));
  }

  function termNode(c) {
    if (!c) return '';
    if (c.t === 'iri') return el('a', {href: pageUrl('resource', c.v), title: c.v}, short(c.v));
    if (c.t === 'bnode') return '_:' + c.v;
    const tag = c.lang ? '@' + c.lang : (c.dt ? c.dt : '');
    return el('span', {class: 'lit'}, c.v, tag ? el('small', {class: 'dt'}, ' ' + tag) : null);
  }

  function fail(box, err) {
    box.replaceChildren(el('p', {class: 'error'}, err.message || String(err)));
  }

  // A table whose pages come from the server: load({offset, limit, sort, desc}) -> page.
  // columns: [{label, sort, cell(row, i)}] or null (then the page's own columns, sorted by index).
  function pagedTable(box, load, columns, opts) {
    const state = {offset: 0, limit: (opts && opts.limit) || PAGE_SIZE, sort: null, desc: false};
    async function draw() {
      box.classList.add('loading');
      let page;
      try {
        page = await load(state);
      } catch (err) {
        box.classList.remove('loading');
        fail(box, err);
        return;
      }
      box.classList.remove('loading');
      const cols = columns || page.columns.map((name, i) => ({
        label: name, sort: i, cell: (row) => termNode(row[i])}));
      const head = el('tr', {}, cols.map((c) => {
        if (c.sort === undefined || c.sort === null) return el('th', {}, c.label);
        const on = state.sort === c.sort;
        return el('th', {'aria-sort': on ? (state.desc ? 'descending' : 'ascending') : 'none'},
          el('button', {type: 'button', class: 'sort', onclick: () => {
            state.desc = on ? !state.desc : false;
            state.sort = c.sort;
            state.offset = 0;
            draw();
          }}, c.label, on ? (state.desc ? ' \u25bc' : ' \u25b2') : ''));
      }));
      const rows = page.rows.map((row, r) => el('tr', {},
        cols.map((c) => el('td', {}, c.cell(row, state.offset + r)))));
      const last = Math.min(page.total, state.offset + page.rows.length);
      const pager = el('p', {class: 'pager'},
        el('button', {type: 'button', disabled: state.offset === 0, onclick: () => {
          state.offset = Math.max(0, state.offset - state.limit); draw(); }}, '\u00ab previous'),
        ' ', el('span', {class: 'count'}, page.total ?
          `rows ${count(state.offset + 1)}\u2013${count(last)} of ${count(page.total)}` :
          'no rows'), ' ',
        el('button', {type: 'button', disabled: last >= page.total, onclick: () => {
          state.offset += state.limit; draw(); }}, 'next \u00bb'));
      box.replaceChildren(el('table', {class: 'data'}, el('thead', {}, head),
        el('tbody', {}, rows)), pager);
      box.dataset.total = String(page.total);
      if (opts && opts.after) opts.after(page);
    }
    draw();
    return {reload: () => { state.offset = 0; return draw(); }, state};
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== null && v !== undefined && v !== '' && v !== false) q.set(k, v === true ? '1' : v);
    }
    return q.toString();
  }

  const tableArgs = (s) => ({offset: s.offset, limit: s.limit, sort: s.sort,
                             desc: s.desc ? 1 : ''});

  // -- the chains table (job page, party page) -------------------------------------------
  const CHAIN_COLUMNS = [
    {label: 'chain', cell: (r) => el('a', {href: pageUrl('chain', r.chain), title: r.chain,
      class: 'chain-link'}, short(r.chain))},
    {label: 'originator', sort: 'originator', cell: (r) =>
      partyLink(r.originator, r.originator_label)},
    {label: 'beneficiary', sort: 'beneficiary', cell: (r) =>
      partyLink(r.beneficiary, r.beneficiary_label)},
    {label: 'length', sort: 'length', cell: (r) => r.length},
    {label: 'first amount', sort: 'first_amount', cell: (r) => money(r.first_amount)},
    {label: 'final amount', sort: 'final_amount', cell: (r) => money(r.final_amount)},
    {label: 'end date', sort: 'end_date', cell: (r) => when(r.end_date)},
    {label: 'flags', cell: (r) => [r.high_value ? el('span', {class: 'badge hv'}, 'high value') : null,
      r.suspicious ? el('span', {class: 'badge s'}, 'suspicious') : null]},
  ];

  function chainsTable(box, filters) {
    return pagedTable(box, (s) => api(apiJob('/chains?' + query({...filters(), ...tableArgs(s)}))),
      CHAIN_COLUMNS);
  }

  // -- pages ------------------------------------------------------------------------------
  function jobsPage() {
    const box = document.getElementById('jobs');
    let last = '';
    const cols = ['status', 'job', 'name', 'parameters', 'facts in / derived', 'result rows',
                  'seconds', 'time', 'reason / progress'];
    async function refresh() {
      let doc;
      try {
        doc = await api('/api/jobs');
      } catch (err) {
        fail(box, err);
        return;
      }
      document.getElementById('updated').textContent = new Date().toLocaleTimeString();
      const stores = doc.stores || [];
      document.getElementById('stores-box').hidden = !stores.length;
      document.getElementById('stores').replaceChildren(...stores.map((st) =>
        el('li', {}, st.name, ' ', el('small', {}, 'changed ' + when(st.time)))));
      const text = JSON.stringify(doc.rows);
      if (text === last) return;
      last = text;
      const rows = doc.rows.map((r) => el('tr', {class: 'job-row', 'data-status': r.status},
        el('td', {}, el('span', {class: 'badge st-' + r.status}, r.status)),
        el('td', {}, r.id ? el('a', {href: jobPath(r.id), class: 'job-link'}, r.id) :
          (r.job_id || r.spec || '')),
        el('td', {}, r.name),
        el('td', {class: 'params'}, r.parameters ? Object.entries(r.parameters)
          .map(([k, v]) => `${k}=${v}`).join(', ') : ''),
        el('td', {class: 'num'}, r.counts && r.counts.input_facts !== undefined ?
          `${count(r.counts.input_facts)} / ${count(r.counts.derived_facts)}` : ''),
        el('td', {class: 'num'}, count(r.rows)),
        el('td', {class: 'num'}, r.seconds === null || r.seconds === undefined ? '' :
          Number(r.seconds).toFixed(1)),
        el('td', {}, when(r.time)),
        el('td', {class: 'reason'}, r.reason || r.progress || (r.spec ? 'spec ' + r.spec : ''))));
      box.replaceChildren(el('table', {class: 'data'},
        el('thead', {}, el('tr', {}, cols.map((c) => el('th', {}, c)))),
        el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', {colspan: cols.length},
          'No jobs yet: run one with `graphcrime run` or drop a spec into the inbox.')))));
    }
    refresh();
    setInterval(refresh, 2000);
  }

  function statsList(doc) {
    const s = doc.stats || {};
    const secs = s.seconds || {};
    const items = [
      ['status', el('span', {class: 'badge st-' + doc.status}, doc.status)],
      ['started', when(doc.started)], ['seconds', Object.entries(secs)
        .map(([k, v]) => `${k} ${Number(v).toFixed(2)}`).join(', ')],
      ['input facts', count((doc.counts || {}).input_facts)],
      ['derived facts', count((doc.counts || {}).derived_facts)],
      ['peak memory', s.peak_memory_bytes ? `${count(Math.round(s.peak_memory_bytes / 1048576))} MiB` : ''],
      ['bytes per fact', s.bytes_per_fact || ''],
      ['parameters', doc.parameters ? Object.entries(doc.parameters).map(([k, v]) => `${k}=${v}`)
        .join(', ') : ''],
      ['chains in the results', count(doc.chains)],
    ];
    if (doc.error) items.push(['error', el('span', {class: 'error'}, doc.error.message || '')]);
    return el('dl', {class: 'facts'}, items.filter(([, v]) => v !== '' && v !== undefined)
      .map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  }

  function notes(list) {
    return (list || []).map((n) => el('p', {class: 'note'}, n));
  }

  async function jobPage() {
    const summary = document.getElementById('summary');
    const form = document.getElementById('chain-filters');
    const filters = () => {
      const f = {};
      for (const [k, v] of new FormData(form).entries()) f[k] = v;
      return f;
    };
    const csv = document.getElementById('chains-csv');
    const csvHref = () => { csv.href = jobPath(JOB) + '/chains.csv?' + query(filters()); };
    csvHref();
    const chains = chainsTable(document.getElementById('chains'), filters);
    form.addEventListener('submit', (ev) => { ev.preventDefault(); csvHref(); chains.reload(); });
    form.addEventListener('reset', () => setTimeout(() => { csvHref(); chains.reload(); }, 0));
    const doc = await summaryDoc(summary);
    if (!doc) return;
    summary.replaceChildren(statsList(doc), ...notes(doc.notes));
    const results = document.getElementById('results');
    results.replaceChildren(...doc.results.map((r) => {
      const box = el('div', {class: 'tablebox'});
      let shown = false;
      const tableable = /\.(nt|csv)(\.gz)?$/.test(r.name);
      return el('div', {class: 'result'},
        el('h3', {}, r.name, ' ', el('small', {}, r.rows === null || r.rows === undefined ? '' :
          `${count(r.rows)} rows`)),
        el('p', {}, tableable ? el('button', {type: 'button', class: 'show-table', onclick: (ev) => {
          if (shown) return;
          shown = true;
          ev.target.disabled = true;
          pagedTable(box, (s) => api(apiJob('/table/' + enc(r.name) + '?' + query(tableArgs(s)))),
            null);
        }}, 'show as a table') : null, ' ',
        el('a', {href: jobPath(JOB) + '/results/' + enc(r.name), download: r.name},
          'download')), box);
    }));
    const params = document.getElementById('rerun-params');
    if (params) {
      params.replaceChildren(...Object.entries(doc.parameters || {}).map(([k, v]) =>
        el('p', {}, el('label', {}, k + ' ', el('input', {name: 'param_' + k, value: String(v),
          size: 16})))));
    }
  }

  function graphFrame() {
    const frame = document.getElementById('graph');
    if (!frame) return;
    frame.addEventListener('load', () => {
      const doc = frame.contentDocument;
      if (!doc) return;
      // as tall as the picture, so its horizontal scroll bar (a wide layout) is in view
      frame.style.height = (doc.documentElement.scrollHeight + 24) + 'px';
      for (const node of doc.querySelectorAll('g.node')) {
        let at = null;  // a click opens the party; a drag (moved > 4 px) only moves the node
        node.addEventListener('mousedown', (ev) => { at = [ev.clientX, ev.clientY]; });
        node.addEventListener('mouseup', (ev) => {
          const still = at && Math.hypot(ev.clientX - at[0], ev.clientY - at[1]) < 4;
          at = null;
          if (still && node.dataset.iri && node.dataset.iri !== IRI) {
            window.location.href = pageUrl('party', node.dataset.iri);
          }
        });
      }
    });
  }

  // The page's document from the job API, or null after showing the error in summary.
  async function summaryDoc(summary, path) {
    try {
      return await api(apiJob(path));
    } catch (err) {
      fail(summary, err);
      return null;
    }
  }

  async function chainPage() {
    graphFrame();
    const summary = document.getElementById('summary');
    const doc = await summaryDoc(summary, '/chain?iri=' + enc(IRI));
    if (!doc) return;
    const c = doc.chain;
    const links = (list) => list.length ? list.map((x) => [x.in_results ?
      el('a', {href: pageUrl('chain', x.iri), title: x.iri}, short(x.iri)) :
      el('span', {title: 'a partial chain, not in the results'}, short(x.iri)), ' ']) : 'none';
    summary.replaceChildren(el('dl', {class: 'facts'},
      el('dt', {}, 'chain'), el('dd', {}, el('code', {}, c.chain)),
      el('dt', {}, 'classes'), el('dd', {}, doc.classes.map(short).join(', ')),
      el('dt', {}, 'originator'), el('dd', {}, partyLink(c.originator, c.originator_label)),
      el('dt', {}, 'beneficiary'), el('dd', {}, partyLink(c.beneficiary, c.beneficiary_label)),
      el('dt', {}, 'length'), el('dd', {}, c.length),
      el('dt', {}, 'first amount'), el('dd', {}, money(c.first_amount)),
      el('dt', {}, 'final amount'), el('dd', {}, money(c.final_amount)),
      el('dt', {}, 'end date'), el('dd', {}, when(c.end_date)),
      el('dt', {}, 'extended from'), el('dd', {}, links(doc.parent)),
      el('dt', {}, 'extended by'), el('dd', {}, links(doc.extensions))),
    ...notes(doc.notes));
    const tx = document.getElementById('transactions');
    tx.replaceChildren(el('table', {class: 'data', id: 'tx-table'},
      el('thead', {}, el('tr', {}, ['#', 'transaction', 'date', 'originator', 'beneficiary',
        'amount'].map((h) => el('th', {}, h)))),
      el('tbody', {}, doc.transactions.map((t, i) => el('tr', {},
        el('td', {}, i + 1),
        el('td', {}, el('a', {href: pageUrl('transaction', t.transaction), title: t.transaction},
          short(t.transaction))),
        el('td', {}, when(t.date)),
        el('td', {}, partyLink(t.originator, t.originator_label, t.originator_suspicious)),
        el('td', {}, partyLink(t.beneficiary, t.beneficiary_label, t.beneficiary_suspicious)),
        el('td', {class: 'num'}, money(t.amount)))))));
    const ex = document.getElementById('explanation');
    const rules = doc.rules.rules;
    ex.replaceChildren(
      el('p', {}, `Classes ${doc.classes.map(short).join(', ')}, derived by:`),
      rules.length ? el('ul', {class: 'rules'}, rules.map((r) => el('li', {},
        el('strong', {}, short(r['class'])), ' \u2190 ', el('code', {title: r.file},
          `${r.file_name}:${r.line}`), el('pre', {}, r.text)))) :
        el('p', {class: 'note'}, doc.rules.note || 'no rule found'));
  }

  async function partyPage() {
    graphFrame();
    const summary = document.getElementById('summary');
    const doc = await summaryDoc(summary, '/party?iri=' + enc(IRI));
    if (!doc) return;
    summary.replaceChildren(el('dl', {class: 'facts'},
      el('dt', {}, 'party'), el('dd', {}, el('code', {}, doc.party)),
      el('dt', {}, 'name'), el('dd', {class: doc.suspicious ? 'sus' : null, id: 'party-name'},
        doc.label || ''),
      el('dt', {}, 'suspicious'), el('dd', {}, doc.suspicious ? 'yes' : 'no'),
      el('dt', {}, 'chains from / to it'), el('dd', {},
        `${count(doc.chains_as_originator)} / ${count(doc.chains_as_beneficiary)}`),
      el('dt', {}, 'transactions'), el('dd', {}, count(doc.transactions))), ...notes(doc.notes));
    chainsTable(document.getElementById('chains'), () => ({party_iri: IRI}));
    const v = (c) => (c ? c.v : null);
    pagedTable(document.getElementById('transactions'),
      (s) => api(apiJob('/party-transactions?' + query({iri: IRI, ...tableArgs(s)}))), [
        {label: 'transaction', sort: 0, cell: (row) => termNode(row[0])},
        {label: 'originator', sort: 5, cell: (row) => partyLink(v(row[1]), v(row[5]))},
        {label: 'beneficiary', sort: 6, cell: (row) => partyLink(v(row[2]), v(row[6]))},
        {label: 'amount', sort: 3, cell: (row) => money(v(row[3]))},
        {label: 'date', sort: 4, cell: (row) => when(v(row[4]))},
      ]);
    factsTable(document.getElementById('facts'), doc.facts);
  }

  function factsTable(box, page) {
    box.replaceChildren(el('table', {class: 'data'},
      el('thead', {}, el('tr', {}, page.columns.map((c) => el('th', {}, c)))),
      el('tbody', {}, page.rows.map((row) => el('tr', {}, row.map((c) => el('td', {},
        termNode(c))))))));
  }

  async function transactionPage() {
    const summary = document.getElementById('summary');
    const doc = await summaryDoc(summary, '/transaction?iri=' + enc(IRI));
    if (!doc) return;
    summary.replaceChildren(el('p', {}, el('code', {}, doc.transaction)), ...notes(doc.notes));
    factsTable(document.getElementById('facts'), doc.facts);
    document.getElementById('chains').replaceChildren(doc.chains.length ?
      el('ul', {}, doc.chains.map((c) => el('li', {}, el('a', {href: pageUrl('chain', c),
        title: c}, short(c))))) : el('p', {}, 'No chain of the results contains it.'));
  }

  function sparqlPage() {
    const form = document.getElementById('sparql');
    const area = document.getElementById('query');
    const error = document.getElementById('error');
    const answer = document.getElementById('answer');
    const box = document.getElementById('table');
    function showError(err) {
      const d = err.doc || {};
      const where = d.line ? `line ${d.line}` + (d.col ? `, column ${d.col}` : '') + ': ' : '';
      error.textContent = where + err.message + (d.hint ? '\nhint: ' + d.hint : '');
      error.hidden = false;
      if (d.line) {
        const lines = area.value.split('\n');
        let at = 0;
        for (let i = 0; i < d.line - 1 && i < lines.length; i++) at += lines[i].length + 1;
        at += Math.max(0, (d.col || 1) - 1);
        area.focus();
        area.setSelectionRange(at, at + 1);
      }
    }
    function run() {
      const text = area.value;
      error.hidden = true;
      answer.textContent = 'running...';
      box.replaceChildren();
      const load = async (s) => {
        const doc = await api(apiJob('/sparql'), {method: 'POST',
          headers: {'content-type': 'application/json'},
          body: JSON.stringify({query: text, offset: s.offset, limit: s.limit, sort: s.sort,
                                desc: s.desc ? 1 : ''})});
        if (doc.kind === 'ask') {
          answer.textContent = 'ASK: ' + doc.ask;
          return {columns: ['answer'], rows: [[{t: 'lit', v: String(doc.ask)}]], total: 1};
        }
        answer.textContent = `${count(doc.total)} rows (answered by ${doc.engine})`;
        return doc;
      };
      pagedTable(box, async (s) => {
        try {
          return await load(s);
        } catch (err) {
          answer.textContent = '';
          showError(err);
          return {columns: [], rows: [], total: 0};
        }
      }, null, {limit: 50});
    }
    form.addEventListener('submit', (ev) => { ev.preventDefault(); run(); });
    area.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); run(); }
    });
  }

  const PAGES = {jobs: jobsPage, job: jobPage, chain: chainPage, party: partyPage,
                 transaction: transactionPage, sparql: sparqlPage};
  (PAGES[body.dataset.page] || (() => {}))();
})();
