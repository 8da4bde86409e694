// page.js: the subscriber's page. Reads the access token from the URL fragment (#token=...),
// shows the state and the photos from GET /api/blueprint/status, then follows
// GET /api/blueprint/events (server-sent events read with fetch, since EventSource cannot send
// an Authorization header), reconnecting with Last-Event-ID; when streaming is not possible it
// polls the status every 2 s with If-None-Match. The token never goes into a URL.

const POLL_MS = 2000;
const MAX_BACKOFF_MS = 30000;
const STREAM_SILENCE_MS = 45000; // three missed heartbeats: the connection is dead
const STREAM_TRIES = 5; // connection attempts without an event before falling back to polling
const TERMINAL = new Set(['completed', 'failed', 'refunded']);

const $ = (id) => document.getElementById(id);

// The page's model: what the server said last, and the photo URLs by 0-based index.
const model = { state: 'loading', total: 0, target: 30, error: null, delay: null, photos: [], announced: '' };
let lastEventId = 0; // photos received so far, as the stream counts them
let finished = false;
let trouble = false;

function tokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  return token && /^[A-Za-z0-9_-]{16,256}$/.test(token) ? token : null;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function backoff(ms) {
  return Math.min(ms * 2, MAX_BACKOFF_MS);
}

// safeURL returns url when it is http(s), else null: never a javascript: link.
function safeURL(url) {
  try {
    const u = new URL(url, location.href);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

// --- the model ---------------------------------------------------------------------------

function applyStatus(s) {
  model.state = s.state;
  model.target = s.targetPhotos || model.target;
  model.error = s.error ?? null;
  model.delay = s.delay ?? null;
  (s.photoUrls || []).forEach((url, i) => { model.photos[i] = url; });
  model.total = Math.max(s.totalPhotos || 0, known());
  lastEventId = Math.max(lastEventId, known());
  if (TERMINAL.has(model.state)) finished = true;
  render();
}

function applyEvent(name, data) {
  let d;
  try {
    d = JSON.parse(data);
  } catch {
    return; // not ours to show
  }
  if (name === 'photo' && Number.isInteger(d.index) && d.index >= 1) {
    model.photos[d.index - 1] = d.url;
    model.total = Math.max(model.total, known());
  } else if (name === 'state' && typeof d.state === 'string') {
    model.state = d.state;
    model.target = d.targetPhotos || model.target;
    model.total = Math.max(d.totalPhotos || 0, known());
    model.error = d.error ?? null;
    model.delay = d.delay ?? null;
    if (TERMINAL.has(model.state)) finished = true;
  }
  render();
}

function known() {
  return model.photos.filter(Boolean).length;
}

// --- rendering -----------------------------------------------------------------------------

// What a delayed generation waits for (the status's delay.reason), in the customer's words.
const DELAYS = {
  provider_unavailable: 'The image service we use is not answering right now. Your photos continue by themselves as soon as it is back; nothing is lost.',
  photo_store_unavailable: 'We cannot save new photos right now. Your photos continue by themselves as soon as we can; nothing is lost.',
  other: 'Your photos are held up for a moment and continue by themselves; nothing is lost.',
};

function words() {
  const { state, total, target, error, delay } = model;
  switch (state) {
    case 'awaiting_payment':
      return ['Awaiting payment', 'Your photos start as soon as the payment is confirmed. This page updates by itself.'];
    case 'queued':
      return ['Queued', 'Your photos will start in a moment. You can leave this page and come back to the same link.'];
    case 'generating':
      if (delay) return [`Delayed: ${total} of ${target}`, DELAYS[delay.reason] || DELAYS.other];
      return [`Generating: ${total} of ${target}`, 'New photos appear here as they are made. You can leave this page and come back to the same link.'];
    case 'completed':
      return [`Completed: all ${target} photos are ready`, 'Select a photo to see it full size.'];
    case 'failed':
      return [`Failed: ${error || 'the generation stopped'}`, `${total} of ${target} photos were made. Reply to your confirmation email and we will sort it out.`];
    case 'refunded':
      return ['Refunded', 'Your payment was refunded, so no more photos will be made.'];
    default:
      return ['Loading…', ''];
  }
}

function render() {
  const [title, detail] = words();
  const main = $('main');
  main.dataset.state = model.state;
  main.dataset.delay = model.state === 'generating' && model.delay ? model.delay.reason : '';
  main.dataset.photos = String(known());
  $('state').textContent = title;
  $('detail').textContent = trouble ? 'Cannot reach the server right now; retrying…' : detail;
  document.title = `${title} · Your photos`;

  const progress = $('progress');
  progress.hidden = model.state === 'loading' || model.state === 'awaiting_payment';
  progress.max = model.target;
  progress.value = Math.min(model.total, model.target);
  progress.setAttribute('aria-valuetext', `${model.total} of ${model.target} photos`);

  // Announce state changes (and completion) politely, not every photo.
  const say = model.state !== 'generating' ? title
    : model.delay ? 'Your photos are delayed; they continue by themselves' : 'Generating your photos';
  if (model.state !== 'loading' && say !== model.announced) {
    model.announced = say;
    $('announce').textContent = say;
  }
  renderGrid();
  if ($('viewer').open) updateViewerButtons();
}

function renderGrid() {
  const inProgress = model.state === 'queued' || model.state === 'generating';
  const n = known();
  $('gallery').hidden = n === 0 && !inProgress;
  const grid = $('photos');
  const cells = inProgress ? Math.max(model.target, model.photos.length) : model.photos.length;
  while (grid.children.length < cells) {
    const li = document.createElement('li');
    li.className = 'slot';
    li.setAttribute('aria-hidden', 'true');
    grid.append(li);
  }
  while (grid.children.length > cells) grid.lastElementChild.remove();
  model.photos.forEach((url, i) => {
    const li = grid.children[i];
    if (url && li && li.dataset.url !== url) fill(li, i + 1, url);
  });
  // Slots left empty when nothing more is coming are not shown.
  if (!inProgress) {
    for (const li of [...grid.querySelectorAll('li.slot')]) li.remove();
  }
  $('photos-title').textContent = n ? `Photos (${n})` : 'Photos';
}

function fill(li, index, url) {
  const href = safeURL(url);
  li.replaceChildren();
  li.className = 'photo';
  li.removeAttribute('aria-hidden');
  li.dataset.url = url;
  if (!href) {
    li.textContent = `Photo ${index} has an address this page cannot show.`;
    return;
  }
  const a = document.createElement('a');
  a.href = href;
  a.className = 'thumb';
  a.addEventListener('click', (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return; // new tab etc.
    e.preventDefault();
    openViewer(index);
  });
  const img = document.createElement('img');
  img.alt = `Photo ${index} of ${model.target}`;
  img.loading = 'lazy';
  img.decoding = 'async';
  img.width = 512;
  img.height = 512;
  img.addEventListener('load', () => li.classList.add('loaded'));
  img.addEventListener('error', () => {
    li.classList.add('broken');
    const note = document.createElement('span');
    note.className = 'broken-note';
    note.textContent = `Photo ${index} did not load: open it`;
    a.append(note);
  }, { once: true });
  img.src = href;
  a.append(img);
  li.append(a);
}

function showInvalid() {
  finished = true;
  $('main').dataset.state = 'invalid';
  $('status').hidden = true;
  $('gallery').hidden = true;
  $('invalid').hidden = false;
  document.title = 'This link is not valid · photogen';
}

function setTrouble(on) {
  if (trouble !== on) {
    trouble = on;
    if (model.state !== 'loading' || on) render();
  }
}

// --- the full-size viewer ------------------------------------------------------------------

let viewing = 0;
let returnFocus = null;

function openViewer(index) {
  const dialog = $('viewer');
  if (!dialog.open) {
    returnFocus = document.activeElement;
    dialog.showModal();
  }
  show(index);
}

function show(index) {
  viewing = index;
  const href = safeURL(model.photos[index - 1]);
  $('viewer-title').textContent = `Photo ${index} of ${model.target}`;
  const img = $('viewer-img');
  img.alt = `Photo ${index} of ${model.target}, full size`;
  img.src = href || '';
  $('viewer-open').href = href || '#';
  updateViewerButtons();
}

// updateViewerButtons enables Prev and Next when there is a photo that way (more may arrive
// while the viewer is open).
function updateViewerButtons() {
  const urls = model.photos;
  $('viewer-prev').disabled = !urls.slice(0, viewing - 1).some(Boolean);
  $('viewer-next').disabled = !urls.slice(viewing).some(Boolean);
}

function step(delta) {
  for (let i = viewing + delta; i >= 1 && i <= model.photos.length; i += delta) {
    if (model.photos[i - 1]) return show(i);
  }
}

function setUpViewer() {
  const dialog = $('viewer');
  $('viewer-prev').addEventListener('click', () => step(-1));
  $('viewer-next').addEventListener('click', () => step(1));
  $('viewer-close').addEventListener('click', () => dialog.close());
  dialog.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft') { e.preventDefault(); step(-1); }
    if (e.key === 'ArrowRight') { e.preventDefault(); step(1); }
  });
  // A click on the backdrop (the dialog itself, outside its content) closes it.
  dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });
  dialog.addEventListener('close', () => {
    $('viewer-img').removeAttribute('src');
    const thumb = $('photos').children[viewing - 1]?.querySelector('a');
    (thumb || returnFocus)?.focus();
  });
}

// --- talking to the server -----------------------------------------------------------------

// fetchStatus asks for the status and reads the whole answer (an unread body would be left
// hanging). It returns {code, etag, body}, with code 0 for a network failure and body the JSON
// of a 200.
async function fetchStatus(token, etag) {
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  if (etag) headers['If-None-Match'] = etag;
  try {
    const resp = await fetch('/api/blueprint/status', { headers, cache: 'no-store' });
    const text = await resp.text();
    const body = resp.status === 200 ? JSON.parse(text) : null;
    return { code: resp.status, etag: resp.headers.get('ETag'), body };
  } catch {
    return { code: 0, etag: null, body: null };
  }
}

// poll follows the status until a final state. It returns false for a link that is not valid.
async function poll(token, etag) {
  let delay = POLL_MS;
  for (;;) {
    const r = await fetchStatus(token, etag);
    if (r.code === 401 || r.code === 404) return false;
    if (r.code === 200) {
      etag = r.etag;
      applyStatus(r.body);
    }
    if (r.code === 200 || r.code === 304) {
      setTrouble(false);
      delay = POLL_MS;
    } else {
      setTrouble(true);
      delay = backoff(delay);
    }
    if (finished) return true;
    await sleep(delay);
  }
}

// stream follows the event stream until a final state, reconnecting with Last-Event-ID. It
// returns true when done, false when streaming is not possible here and polling should take over.
async function stream(token) {
  let delay = 1000;
  let fruitless = 0;
  let retryMs = null;
  while (!finished) {
    const abort = new AbortController();
    let silence;
    const alive = () => {
      clearTimeout(silence);
      silence = setTimeout(() => abort.abort(), STREAM_SILENCE_MS);
    };
    let events = 0;
    try {
      alive();
      const headers = { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' };
      if (lastEventId > 0) headers['Last-Event-ID'] = String(lastEventId);
      const resp = await fetch('/api/blueprint/events', { headers, cache: 'no-store', signal: abort.signal });
      const type = resp.headers.get('Content-Type') || '';
      if (!resp.ok || !type.startsWith('text/event-stream') || !resp.body) {
        if (!resp.ok) await resp.arrayBuffer().catch(() => {}); // a short error body: read it all
        return false; // no stream here (404, 405, a proxy's HTML...): poll instead
      }
      setTrouble(false);
      for await (const ev of readEvents(resp.body, alive)) {
        if (ev.retry) retryMs = ev.retry;
        if (ev.id !== undefined && /^\d+$/.test(ev.id)) lastEventId = Number(ev.id);
        if (!ev.name) continue;
        events++;
        applyEvent(ev.name, ev.data);
        // After a final state the server ends the stream; reading on to its end (rather
        // than cancelling) keeps the request clean. The silence timer covers a server that
        // does not.
      }
    } catch {
      // a dropped connection or the silence timer: reconnect below
    } finally {
      clearTimeout(silence);
      abort.abort();
    }
    if (finished) return true;
    if (events > 0) {
      fruitless = 0;
      delay = retryMs || 1000;
    } else if (++fruitless >= STREAM_TRIES) {
      return false;
    } else {
      setTrouble(true);
    }
    await sleep(delay + Math.random() * 250);
    delay = backoff(delay);
  }
  return true;
}

// readEvents parses a text/event-stream body as the HTML standard says, yielding
// {name, data, id} per dispatched event and {id} or {retry} for field-only blocks. onBytes is
// called whenever bytes arrive (heartbeats included).
async function* readEvents(body, onBytes) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let name = '';
  let data = [];
  let id;
  let retry;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onBytes();
      buf += value;
      let m;
      while ((m = /\r\n|\r|\n/.exec(buf))) {
        if (m[0] === '\r' && m.index === buf.length - 1) break; // maybe half of \r\n: wait
        const line = buf.slice(0, m.index);
        buf = buf.slice(m.index + m[0].length);
        if (line === '') {
          if (data.length) yield { name: name || 'message', data: data.join('\n'), id, retry };
          else if (id !== undefined || retry) yield { id, retry };
          name = '';
          data = [];
          id = undefined;
          retry = undefined;
          continue;
        }
        if (line.startsWith(':')) continue; // a comment, such as the heartbeat
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let v = colon < 0 ? '' : line.slice(colon + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (field === 'event') name = v;
        else if (field === 'data') data.push(v);
        else if (field === 'id' && !v.includes('\0')) id = v;
        else if (field === 'retry' && /^\d+$/.test(v)) retry = Number(v);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

async function main() {
  setUpViewer();
  window.addEventListener('hashchange', () => location.reload());
  const token = tokenFromFragment();
  if (!token) return showInvalid();

  // The first status: the state and every photo so far, at once.
  let first;
  for (let delay = 1000; ; delay = backoff(delay)) {
    first = await fetchStatus(token, null);
    if (first.code === 401 || first.code === 404) return showInvalid();
    if (first.code === 200) break;
    setTrouble(true);
    await sleep(delay);
  }
  applyStatus(first.body);
  setTrouble(false);
  if (finished) return;
  if (await stream(token)) {
    if (known() < model.total) await poll(token, null); // the stream missed a photo: catch up
    return;
  }
  if (!(await poll(token, first.etag))) showInvalid();
}

main();
