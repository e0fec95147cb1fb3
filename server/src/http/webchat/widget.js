/* ComOps web chat widget: one <script> tag draws a chat on any site.
 *
 *   <script src="https://comops.example/webchat/bot_shop/widget.js" async></script>
 *
 * Optional attributes: data-title="Shop support", data-start="<link code>"
 * (binds the visitor to a business user, as POST /bots/{botId}/links makes),
 * data-mode="page" (fill the window instead of a bubble; /webchat/{botId}
 * uses it and also reads ?start=<code> and ?lang=ru|en from the address
 * bar), data-lang="ru" or "en" (the widget's own words; else the page's
 * <html lang>, else the browser's language).
 *
 * The visitor's secret token stays in localStorage; the bot's messages
 * arrive over Server-Sent Events and the history reloads with the page.
 * No framework, nothing downloaded from anywhere but the ComOps server. */
(function () {
  'use strict';

  /* What the widget itself says; {} is a number of seconds. */
  var WORDS = {
    en: {
      chat: 'Chat', earlier: 'Earlier messages', typeMessage: 'Type a message…', message: 'Message',
      send: 'Send', cancel: 'Cancel', close: 'Close', open: 'Open chat', typePhone: 'Type your phone number',
      phoneExample: 'Your phone number, e.g. +7 918 777-77-77', phone: 'Phone number',
      cannotOpen: 'Cannot open the chat', offline: 'No connection to the chat: check the network and try again.',
      wait: 'Too many messages: try again in {} s.', badPhone: 'That is not a phone number: write it like +7 918 777-77-77.',
      tooLong: 'The message is too long.', closed: 'This chat is not available here.'
    },
    ru: {
      chat: 'Чат', earlier: 'Предыдущие сообщения', typeMessage: 'Напишите сообщение…', message: 'Сообщение',
      send: 'Отправить', cancel: 'Отмена', close: 'Закрыть', open: 'Открыть чат', typePhone: 'Напишите номер телефона',
      phoneExample: 'Ваш номер телефона, например +7 918 777-77-77', phone: 'Номер телефона',
      cannotOpen: 'Не удалось открыть чат', offline: 'Нет связи с чатом: проверьте сеть и попробуйте ещё раз.',
      wait: 'Слишком много сообщений: попробуйте через {} с.', badPhone: 'Это не номер телефона: напишите его как +7 918 777-77-77.',
      tooLong: 'Сообщение слишком длинное.', closed: 'Этот чат здесь недоступен.'
    }
  };

  var script = document.currentScript ||
    Array.prototype.slice.call(document.querySelectorAll('script[src*="/webchat/"]')).pop();
  if (!script) return;
  var src = new URL(script.src, location.href);
  var match = /\/webchat\/([^/]+)\/widget\.js$/.exec(src.pathname);
  if (!match) return;
  var bot = decodeURIComponent(match[1]);
  var root = src.origin + '/webchat/' + encodeURIComponent(bot);
  var pageMode = script.getAttribute('data-mode') === 'page';
  var words = WORDS[language()];
  var title = script.getAttribute('data-title') || words.chat;
  var startCode = script.getAttribute('data-start') ||
    (pageMode ? new URLSearchParams(location.search).get('start') : null);
  var storageKey = 'comops-webchat:' + src.origin + ':' + bot;

  /* The widget's language: data-lang, the chat page's ?lang=, the site's
   * <html lang>, the browser's; Russian or English. */
  function language() {
    var wanted = script.getAttribute('data-lang') ||
      (pageMode ? new URLSearchParams(location.search).get('lang') : null) ||
      document.documentElement.lang || navigator.language || '';
    return /^ru\b/i.test(wanted) ? 'ru' : 'en';
  }

  var memory = {};
  var storage = {
    get: function (key) { try { return localStorage.getItem(key); } catch (e) { return memory[key] || null; } },
    set: function (key, value) { try { localStorage.setItem(key, value); } catch (e) { memory[key] = value; } },
    remove: function (key) { try { localStorage.removeItem(key); } catch (e) { delete memory[key]; } }
  };

  // ---- the drawing -------------------------------------------------------

  var css = [
    ':host{all:initial}',
    '*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}',
    '.launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;',
    '  background:#2563eb;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000;',
    '  display:flex;align-items:center;justify-content:center}',
    '.panel{position:fixed;right:20px;bottom:88px;width:360px;max-width:calc(100vw - 40px);height:520px;',
    '  max-height:calc(100vh - 110px);background:#fff;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25);',
    '  display:flex;flex-direction:column;overflow:hidden;z-index:2147483000;color:#111827;font-size:15px}',
    '.panel[hidden]{display:none}',
    '.panel.page{position:fixed;inset:0;margin:0 auto;right:auto;bottom:auto;left:0;right:0;top:0;',
    '  width:100%;max-width:720px;height:100%;max-height:none;border-radius:0;box-shadow:0 0 24px rgba(0,0,0,.08)}',
    'header{background:#2563eb;color:#fff;padding:12px 16px;font-weight:600;display:flex;align-items:center;gap:8px}',
    'header .title{flex:1}',
    'header button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}',
    '.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f3f4f6}',
    '.more{align-self:center;border:0;background:none;color:#2563eb;cursor:pointer;font-size:13px}',
    '.msg{max-width:85%;display:flex;flex-direction:column;gap:6px}',
    '.msg[data-from=bot]{align-self:flex-start}',
    '.msg[data-from=visitor]{align-self:flex-end;align-items:flex-end}',
    '.bubble{padding:8px 12px;border-radius:14px;white-space:pre-wrap;word-wrap:break-word;line-height:1.35}',
    '.msg[data-from=bot] .bubble{background:#fff;border:1px solid #e5e7eb;border-bottom-left-radius:4px}',
    '.msg[data-from=visitor] .bubble{background:#2563eb;color:#fff;border-bottom-right-radius:4px}',
    '.msg img,.msg video{max-width:100%;border-radius:10px}.msg audio{max-width:100%}',
    '.msg a.file{display:inline-block;padding:6px 10px;border:1px solid #cbd5e1;border-radius:10px;background:#fff;color:#0369a1;word-break:break-all}',
    '.buttons{display:flex;flex-wrap:wrap;gap:6px}',
    '.buttons button,.buttons a{border:1px solid #2563eb;background:#fff;color:#2563eb;border-radius:16px;',
    '  padding:5px 12px;font-size:14px;cursor:pointer;text-decoration:none}',
    '.buttons button:disabled{opacity:.5;cursor:default}',
    'form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb;background:#fff}',
    'form input{flex:1;border:1px solid #d1d5db;border-radius:18px;padding:8px 14px;font-size:15px;outline:none}',
    'form input:focus{border-color:#2563eb}',
    'form button{border:0;background:#2563eb;color:#fff;border-radius:18px;padding:8px 14px;font-size:15px;cursor:pointer}',
    'form button.cancel{background:#e5e7eb;color:#111827}',
    'form button[hidden]{display:none}',
    '.status{font-size:12px;color:#b91c1c;padding:0 12px 6px;background:#fff}',
    '.status:empty{display:none}'
  ].join('\n');

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === 'text') node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // A speech bubble drawn inline (no icon font, no emoji font needed).
  function chatIcon() {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '28');
    svg.setAttribute('height', '28');
    svg.setAttribute('aria-hidden', 'true');
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('fill', 'currentColor');
    path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z');
    svg.appendChild(path);
    return svg;
  }

  var host = el('div', { 'data-comops-webchat': bot });
  var shadow = host.attachShadow({ mode: 'open' });
  shadow.appendChild(el('style', { text: css }));

  var log = el('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'data-testid': 'webchat-log' });
  var more = el('button', { class: 'more', type: 'button', text: words.earlier, hidden: '' });
  log.appendChild(more);
  var input = el('input', { type: 'text', name: 'text', autocomplete: 'off', maxlength: '4096',
    placeholder: words.typeMessage, 'aria-label': words.message, 'data-testid': 'webchat-input' });
  var send = el('button', { type: 'submit', text: words.send, 'data-testid': 'webchat-send' });
  var cancel = el('button', { type: 'button', class: 'cancel', text: words.cancel, hidden: '' });
  var form = el('form', {}, [input, cancel, send]);
  var status = el('div', { class: 'status', role: 'status', 'data-testid': 'webchat-status' });
  var close = el('button', { type: 'button', 'aria-label': words.close, text: '×' });
  var header = el('header', {}, [el('span', { class: 'title', text: title })].concat(pageMode ? [] : [close]));
  var panel = el('section', { class: 'panel' + (pageMode ? ' page' : ''), 'aria-label': title, 'data-testid': 'webchat-panel' },
    [header, log, status, form]);
  var launcher = el('button', { class: 'launcher', type: 'button', 'aria-label': words.open,
    'data-testid': 'webchat-launcher' }, [chatIcon()]);

  if (pageMode) {
    shadow.appendChild(panel);
  } else {
    panel.hidden = true;
    shadow.appendChild(panel);
    shadow.appendChild(launcher);
    launcher.addEventListener('click', function () {
      panel.hidden = !panel.hidden;
      if (!panel.hidden) { connect(); input.focus(); }
    });
    close.addEventListener('click', function () { panel.hidden = true; });
  }

  // ---- the conversation --------------------------------------------------

  var token = storage.get(storageKey);
  var rendered = {};     // message id → element
  var lastId = 0;        // newest message shown
  var firstId = null;    // oldest message shown
  var source = null;     // the EventSource
  var connecting = null; // the promise of connect()
  var phoneMode = false;

  function showError(text) { status.textContent = text || ''; }

  /* A failed request in the visitor's words: the refusals a visitor can
   * meet by the answer's status (and field), a network failure as such;
   * anything else as the server wrote it. */
  function problem(error) {
    if (error.status === 429) return words.wait.replace('{}', error.wait || '1');
    if (error.status === 422 && error.field === 'phone') return words.badPhone;
    if (error.status === 422 && error.field === 'text') return words.tooLong;
    if (error.status === 403 || error.status === 404) return words.closed;
    if (!error.status && error.name === 'TypeError') return words.offline;
    return error.message;
  }

  function api(method, path, body, retried) {
    var headers = { 'Authorization': 'Bearer ' + token };
    if (body) headers['Content-Type'] = 'application/json';
    return fetch(root + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (response) {
        if (response.status === 401 && !retried) {
          // The visitor is unknown here (e.g. a fresh database): start over.
          storage.remove(storageKey);
          token = null;
          return session().then(function () { reconnect(); return api(method, path, body, true); });
        }
        return response.json().catch(function () { return {}; }).then(function (json) {
          if (!response.ok) {
            var error = new Error(json.message || ('HTTP ' + response.status));
            error.status = response.status;
            error.wait = response.headers.get('Retry-After');
            error.field = json.errors && json.errors[0] ? json.errors[0].field : null;
            throw error;
          }
          return json;
        });
      });
  }

  function session() {
    if (token) return Promise.resolve(token);
    return fetch(root + '/sessions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          if (!response.ok || !json.token) {
            var error = new Error(json.message || words.cannotOpen);
            error.status = response.status;
            error.wait = response.headers.get('Retry-After');
            throw error;
          }
          token = json.token;
          storage.set(storageKey, token);
          return token;
        });
      });
  }

  function safeUrl(raw) {
    try {
      var url = new URL(raw, location.href);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch (e) { return null; }
  }

  // A media URL by the extension of its path, as the server reads it
  // (core's MediaKind::of): a picture (or none: an image service) and a
  // GIF as an image, MP4 as a video, MP3/M4A as audio, anything else as a
  // link to the file.
  function mediaOf(url) {
    var name = new URL(url).pathname.split('/').pop();
    var dot = name.lastIndexOf('.');
    var ext = dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
    if (['', 'jpg', 'jpeg', 'png', 'webp', 'gif'].indexOf(ext) >= 0) return el('img', { src: url, alt: '' });
    if (ext === 'mp4' || ext === 'm4v') return el('video', { src: url, controls: '', preload: 'metadata' });
    if (ext === 'mp3' || ext === 'm4a') return el('audio', { src: url, controls: '', preload: 'metadata' });
    var label = name;
    try { label = decodeURIComponent(name); } catch (e) { /* kept as written */ }
    return el('a', { class: 'file', href: url, target: '_blank', rel: 'noopener noreferrer', text: label || url });
  }

  function buttonsOf(message, box) {
    var row = el('div', { class: 'buttons' });
    (message.buttons || []).forEach(function (button) {
      var kind = button.kind || 'reply';
      if (kind === 'url') {
        var href = safeUrl(button.url || '');
        if (href) row.appendChild(el('a', { href: href, target: '_blank', rel: 'noopener noreferrer', text: button.label }));
        return;
      }
      var node = el('button', { type: 'button', text: button.label, 'data-kind': kind });
      if (kind === 'contact') node.setAttribute('title', words.typePhone);
      node.addEventListener('click', function () {
        if (kind === 'contact') { askPhone(); return; }
        Array.prototype.forEach.call(row.querySelectorAll('button'), function (b) { b.disabled = true; });
        var payload = kind === 'inline'
          ? { type: 'button', value: button.value || button.label, label: button.label, message_id: message.id }
          : { type: 'text', text: button.label };
        post(payload).catch(function () {
          Array.prototype.forEach.call(row.querySelectorAll('button'), function (b) { b.disabled = false; });
        });
      });
      row.appendChild(node);
    });
    if (row.childNodes.length) box.appendChild(row);
  }

  function render(message) {
    if (!message || typeof message.id !== 'number' || rendered[message.id]) return;
    var from = message.from === 'visitor' ? 'visitor' : 'bot';
    var box = el('div', { class: 'msg', 'data-from': from, 'data-id': String(message.id), 'data-testid': 'webchat-message' });
    var media = message.media_url && safeUrl(message.media_url);
    if (media) box.appendChild(mediaOf(media));
    if (message.text) box.appendChild(el('div', { class: 'bubble', text: message.text }));
    if (from === 'bot') buttonsOf(message, box);
    // Keep the log in id order whichever way a message arrived.
    var after = null;
    Object.keys(rendered).forEach(function (id) {
      id = Number(id);
      if (id > message.id && (after === null || id < after)) after = id;
    });
    log.insertBefore(box, after === null ? null : rendered[after]);
    rendered[message.id] = box;
    var newest = message.id > lastId;
    lastId = Math.max(lastId, message.id);
    firstId = firstId === null ? message.id : Math.min(firstId, message.id);
    if (newest) log.scrollTop = log.scrollHeight;
  }

  function loadHistory(before) {
    var query = '?limit=50' + (before ? '&before=' + before : '');
    return api('GET', '/history' + query).then(function (page) {
      var top = log.scrollHeight - log.scrollTop;
      (page.messages || []).forEach(render);
      more.hidden = !page.more;
      if (before) log.scrollTop = log.scrollHeight - top;
    });
  }

  function catchUp() {
    return api('GET', '/history?limit=200&after=' + lastId).then(function (page) {
      (page.messages || []).forEach(render);
    });
  }

  function listen() {
    if (source) source.close();
    source = new EventSource(root + '/stream?token=' + encodeURIComponent(token) + '&after=' + lastId);
    source.onmessage = function (event) {
      try { render(JSON.parse(event.data)); } catch (e) { /* not ours */ }
    };
    source.onopen = function () { showError(''); };
    source.onerror = function () {
      // EventSource reconnects by itself with Last-Event-ID.
      if (source.readyState === EventSource.CLOSED) setTimeout(listen, 3000);
    };
  }

  function reconnect() { if (source) listen(); }

  function connect() {
    if (connecting) return connecting;
    connecting = session()
      .then(function () {
        if (!startCode) return null;
        var used = 'comops-webchat-start:' + startCode;
        if (storage.get(used) === token) return null;
        return api('POST', '/messages', { type: 'start', payload: startCode }).then(function () {
          storage.set(used, token);
          if (pageMode && history.replaceState) {
            var url = new URL(location.href);
            url.searchParams.delete('start');
            history.replaceState(null, '', url.href);
          }
        });
      })
      .then(function () { return loadHistory(null); })
      .then(listen)
      .catch(function (error) { connecting = null; showError(problem(error)); });
    return connecting;
  }

  function post(payload) {
    showError('');
    return connect()
      .then(function () { return api('POST', '/messages', payload); })
      .then(catchUp)
      .catch(function (error) { showError(problem(error)); throw error; });
  }

  function askPhone() {
    phoneMode = true;
    input.type = 'tel';
    input.placeholder = words.phoneExample;
    input.setAttribute('aria-label', words.phone);
    cancel.hidden = false;
    input.focus();
  }

  function leavePhoneMode() {
    phoneMode = false;
    input.type = 'text';
    input.placeholder = words.typeMessage;
    input.setAttribute('aria-label', words.message);
    cancel.hidden = true;
  }

  cancel.addEventListener('click', leavePhoneMode);

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    var payload = phoneMode ? { type: 'contact', phone: text } : { type: 'text', text: text };
    send.disabled = true;
    post(payload)
      .then(function () { input.value = ''; if (phoneMode) leavePhoneMode(); })
      .catch(function () { /* shown in the status line */ })
      .then(function () { send.disabled = false; input.focus(); });
  });

  more.addEventListener('click', function () { loadHistory(firstId); });

  function mount() {
    document.body.appendChild(host);
    if (pageMode || startCode) connect();
  }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
