/* 隐患判定助手 web UI: chat (streamed over SSE), clause panel, search and documents.
 * The quiz, self-check and ledger pages live in quiz.js, selfcheck.js and ledger.js and use the
 * helpers exported here as window.HazardUI.
 * Plain script, no dependencies, same-origin requests only.
 * Every piece of data reaches the page through textContent or attributes, never as HTML. */
(function () {
  'use strict';

  var SESSION_KEY = 'hazard-assistant.session_id';
  var DEFAULT_PLACEHOLDER = '提问法规，或描述现场情形…';
  var LABELS = {
    major: '重大事故隐患',
    general: '一般事故隐患',
    insufficient: '需补充信息',
    out_of_scope: '不属于事故隐患描述'
  };
  var KINDS = {
    answer: '法规解答',
    classification: '隐患判定',
    clarification: '请补充',
    refusal: '超出范围'
  };
  // The server's question cues (assistant/dialogue.py QUESTION): a reply containing one is taken
  // for a new question instead of an answer to the follow-up.
  var QUESTION_CUE = /[吗呢？?]|怎么|怎样|如何|是否|哪些|哪个|哪里|多少|多久|什么|要不要|能不能|可不可以|有没有|是不是|谁|几[个天日年次条项]|罚|规定|依据|第[一二三四五六七八九十百零〇\d]+条/;
  var MAX_REPLY = 60;

  // -- small DOM helpers ------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }

  /* el('div', {className: 'x', text: '…', attrs: {…}, dataset: {…}}, [children]) */
  function el(tag, opts, children) {
    var node = document.createElement(tag);
    opts = opts || {};
    if (opts.className) node.className = opts.className;
    if (opts.text !== undefined && opts.text !== null) node.textContent = String(opts.text);
    if (opts.attrs) {
      Object.keys(opts.attrs).forEach(function (k) {
        if (opts.attrs[k] !== undefined && opts.attrs[k] !== null) node.setAttribute(k, String(opts.attrs[k]));
      });
    }
    if (opts.dataset) {
      Object.keys(opts.dataset).forEach(function (k) { node.dataset[k] = String(opts.dataset[k]); });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function button(text, className, onClick, attrs) {
    var b = el('button', {className: className, text: text, attrs: Object.assign({type: 'button'}, attrs || {})});
    if (onClick) b.addEventListener('click', onClick);
    return b;
  }

  function storageGet(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function storageSet(key, value) {
    try {
      if (value) window.localStorage.setItem(key, value); else window.localStorage.removeItem(key);
    } catch (e) { /* private mode: the session lasts as long as the page */ }
  }

  // -- HTTP ----------------------------------------------------------------------------------
  function ApiError(problem) {
    this.name = 'ApiError';
    this.problem = problem;
    this.status = problem.status;
    this.message = problem.detail || problem.title || '请求失败';
  }
  ApiError.prototype = Object.create(Error.prototype);

  function problemFrom(body, status) {
    if (body && typeof body === 'object' && (body.detail || body.title)) return body;
    return {status: status, title: '请求失败', detail: '请求失败（HTTP ' + status + '）'};
  }

  function readJson(response) {
    return response.text().then(function (text) {
      if (!text) return null;
      try { return JSON.parse(text); } catch (e) { return null; }
    });
  }

  function networkError(err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError({status: 0, detail: '无法连接服务器，请检查网络后重试'});
  }

  /* fetch → parsed JSON, or an ApiError carrying the problem+json `detail`. */
  function requestJson(url, options) {
    options = options || {};
    var init = {method: options.method || 'GET', headers: {Accept: 'application/json'}, signal: options.signal};
    if (options.json !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      init.body = options.body; // FormData: the browser sets the multipart boundary
    }
    return fetch(url, init).then(function (response) {
      return readJson(response).then(function (body) {
        if (!response.ok) throw new ApiError(problemFrom(body, response.status));
        return body;
      });
    }, networkError);
  }

  function getJson(url, signal) {
    return requestJson(url, {signal: signal});
  }

  /* The file name a Content-Disposition header gives (filename* first, RFC 5987). */
  function dispositionFilename(header) {
    if (!header) return '';
    var star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
    if (star) {
      try { return decodeURIComponent(star[1].trim()); } catch (e) { /* fall through */ }
    }
    var plain = /filename\s*=\s*"([^"]*)"/i.exec(header) || /filename\s*=\s*([^;]+)/i.exec(header);
    return plain ? plain[1].trim() : '';
  }

  /* Download a file the server builds: fetch → Blob → object URL, saved under the server's name.
   * Resolves to the file name; rejects with an ApiError (problem+json detail) on failure. */
  function downloadFile(url, options, fallbackName) {
    options = options || {};
    var init = {method: options.method || 'GET', headers: {}};
    if (options.json !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.json);
    }
    return fetch(url, init).then(function (response) {
      if (!response.ok) {
        return readJson(response).then(function (body) { throw new ApiError(problemFrom(body, response.status)); });
      }
      var name = dispositionFilename(response.headers.get('content-disposition')) || fallbackName || 'download';
      return response.blob().then(function (blob) {
        var href = URL.createObjectURL(blob);
        var link = el('a', {attrs: {href: href, download: name, hidden: ''}});
        document.body.appendChild(link);
        link.click();
        document.body.removeChild(link);
        // Revoke later: the download may still be reading the blob.
        window.setTimeout(function () { URL.revokeObjectURL(href); }, 60000);
        return name;
      });
    }, networkError);
  }

  var documentsPromise = null;
  function loadDocuments() {
    if (!documentsPromise) {
      documentsPromise = getJson('/v1/documents').catch(function (err) {
        documentsPromise = null; // try again next time
        throw err;
      });
    }
    return documentsPromise;
  }

  /* Parse a text/event-stream body incrementally; calls onEvent(name, data) per event. */
  function readEventStream(response, onEvent) {
    var buffer = '';
    var separator = /\r\n\r\n|\n\n|\r\r/;

    function dispatch(block) {
      var name = 'message';
      var data = [];
      block.split(/\r\n|\n|\r/).forEach(function (line) {
        if (!line || line.charAt(0) === ':') return;
        var colon = line.indexOf(':');
        var field = colon < 0 ? line : line.slice(0, colon);
        var value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.charAt(0) === ' ') value = value.slice(1);
        if (field === 'event') name = value;
        else if (field === 'data') data.push(value);
      });
      if (!data.length) return;
      var payload;
      try { payload = JSON.parse(data.join('\n')); } catch (e) { payload = data.join('\n'); }
      onEvent(name, payload);
    }

    function drain(final) {
      var match;
      while ((match = separator.exec(buffer))) {
        dispatch(buffer.slice(0, match.index));
        buffer = buffer.slice(match.index + match[0].length);
      }
      if (final && buffer.trim()) { dispatch(buffer); buffer = ''; }
    }

    if (!response.body || !response.body.getReader) {
      return response.text().then(function (text) { buffer = text; drain(true); });
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder('utf-8');
    function pump() {
      return reader.read().then(function (result) {
        if (result.done) {
          buffer += decoder.decode();
          drain(true);
          return;
        }
        buffer += decoder.decode(result.value, {stream: true});
        drain(false);
        return pump();
      });
    }
    return pump();
  }

  // -- views (tabs) --------------------------------------------------------------------------
  var VIEWS = ['chat', 'search', 'documents', 'quiz', 'selfcheck', 'ledger'];
  // Pages defined in other scripts: name → function run when the page is first shown.
  var pageInits = {};
  var pagesStarted = {};

  function startPage(name) {
    if (pageInits[name] && !pagesStarted[name]) {
      pagesStarted[name] = true;
      pageInits[name]();
    }
  }

  /* Called by quiz.js, selfcheck.js and ledger.js, in whatever order the scripts run. */
  function registerPage(name, initPage) {
    pageInits[name] = initPage;
    if (document.readyState !== 'loading' && currentView() === name) startPage(name);
  }

  function currentView() {
    var name = (window.location.hash || '').replace(/^#/, '').split(/[?&]/)[0];
    return VIEWS.indexOf(name) >= 0 ? name : 'chat';
  }

  function showView() {
    var name = currentView();
    VIEWS.forEach(function (v) {
      $('view-' + v).hidden = v !== name;
      var tab = $('tab-' + v);
      tab.classList.toggle('active', v === name);
      if (v === name) tab.setAttribute('aria-current', 'page'); else tab.removeAttribute('aria-current');
    });
    if (name === 'search') initSearch();
    if (name === 'documents') initDocuments();
    startPage(name);
    // On touch screens a programmatic focus would pop up the keyboard over the conversation.
    var coarse = window.matchMedia && window.matchMedia('(pointer: coarse)').matches;
    if (name === 'chat' && !coarse) $('chat-input').focus({preventScroll: true});
  }

  // -- chat -------------------------------------------------------------------------------------
  var sessionId = storageGet(SESSION_KEY);
  var busy = false;

  function setSession(id) {
    sessionId = id || null;
    storageSet(SESSION_KEY, sessionId);
    $('session-label').textContent = sessionId ? '会话 ' + sessionId.slice(0, 8) : '新会话';
    if (sessionId) $('session-label').setAttribute('title', '会话ID：' + sessionId);
    else $('session-label').removeAttribute('title');
  }

  function setBusy(value) {
    busy = value;
    $('send').disabled = value;
    $('send').textContent = value ? '回复中…' : '发送';
    document.querySelectorAll('.follow-up-answer').forEach(function (b) { b.disabled = value; });
  }

  function scrollToEnd() {
    var list = $('messages');
    list.scrollTop = list.scrollHeight;
  }

  /* Follow a growing answer down, but never past its first line: a long answer is read from the top. */
  function follow(node) {
    var list = $('messages');
    var top = node.offsetTop - 8; // .messages is the offset parent (position: relative)
    list.scrollTop = Math.max(0, Math.min(list.scrollHeight - list.clientHeight, top));
  }

  function hideWelcome() {
    var welcome = $('welcome');
    if (welcome) welcome.hidden = true;
  }

  function addUserMessage(text) {
    hideWelcome();
    var node = el('div', {className: 'message user'}, [el('div', {className: 'bubble', text: text})]);
    $('messages').appendChild(node);
    scrollToEnd();
    return node;
  }

  /* An assistant message being filled in: the streamed text, then citations, card, follow-ups. */
  function AssistantMessage(userText) {
    this.userText = userText || '';
    this.node = el('div', {className: 'message assistant pending', attrs: {'aria-busy': 'true'}});
    this.meta = el('div', {className: 'message-meta'});
    this.rewrite = el('p', {className: 'searched-query', attrs: {hidden: ''}});
    this.text = el('div', {className: 'answer-text'});
    this.typing = el('span', {className: 'typing', text: '正在检索条款…'});
    this.extras = el('div', {className: 'message-extras'});
    this.node.appendChild(this.meta);
    this.node.appendChild(this.rewrite);
    this.node.appendChild(this.text);
    this.node.appendChild(this.typing);
    this.node.appendChild(this.extras);
    this.card = null;
    this.citations = [];
    hideWelcome();
    $('messages').appendChild(this.node);
    scrollToEnd();
  }

  AssistantMessage.prototype.appendText = function (text) {
    this.typing.hidden = true;
    this.text.appendChild(document.createTextNode(text));
    follow(this.node);
  };

  AssistantMessage.prototype.setCitations = function (citations) {
    this.citations = citations || [];
    if (!this.citations.length) return;
    var list = el('div', {className: 'citations'}, [el('span', {className: 'citations-title', text: '引用条款'})]);
    this.citations.forEach(function (c, i) {
      list.appendChild(button('[' + (i + 1) + '] ' + c.citation, 'citation-chip', function (event) {
        openClause(c.clause_id, event.currentTarget);
      }, {'data-clause-id': c.clause_id, title: c.quote || c.citation}));
    });
    this.extras.appendChild(list);
    follow(this.node);
  };

  AssistantMessage.prototype.setClassification = function (classification) {
    if (!classification) return;
    this.card = renderClassification(classification);
    // the card goes above the citation chips
    this.extras.insertBefore(this.card, this.extras.firstChild);
    follow(this.node);
  };

  AssistantMessage.prototype.finish = function (done) {
    this.typing.hidden = true;
    this.node.classList.remove('pending');
    this.node.removeAttribute('aria-busy');
    if (done.kind) {
      this.node.dataset.kind = done.kind;
      this.meta.textContent = KINDS[done.kind] || '';
    }
    if (done.searched_query && isRewritten(done.searched_query, this.userText)) {
      this.rewrite.textContent = '已按上下文检索：' + done.searched_query;
      this.rewrite.hidden = false;
    }
    var questions = done.follow_up_questions || [];
    if (questions.length) {
      var box = renderFollowUps(questions);
      if (this.card) this.card.appendChild(box); else this.extras.appendChild(box);
    }
    follow(this.node);
  };

  AssistantMessage.prototype.fail = function (problem, note) {
    this.typing.hidden = true;
    this.node.classList.remove('pending');
    this.node.classList.add('error');
    this.node.removeAttribute('aria-busy');
    this.meta.textContent = '出错了';
    this.extras.appendChild(el('p', {className: 'error-text', attrs: {role: 'alert'},
      text: (problem && (problem.detail || problem.title)) || '请求失败'}));
    if (note) this.extras.appendChild(el('p', {className: 'error-note', text: note}));
    follow(this.node);
  };

  function normalizeForCompare(text) {
    return String(text || '').replace(/[\s。，,．.！!？?；;：:、]/g, '');
  }

  function isRewritten(searched, userText) {
    return normalizeForCompare(searched) !== normalizeForCompare(userText);
  }

  function sendMessage(text) {
    text = (text || '').trim();
    if (!text || busy) return;
    var input = $('chat-input');
    input.value = '';
    input.placeholder = DEFAULT_PLACEHOLDER;
    addUserMessage(text);
    var message = new AssistantMessage(text);
    setBusy(true);
    var payload = {message: text};
    if (sessionId) payload.session_id = sessionId;
    var finished = false;

    fetch('/v1/chat?stream=true', {
      method: 'POST',
      headers: {'Content-Type': 'application/json', Accept: 'text/event-stream'},
      body: JSON.stringify(payload)
    }).then(function (response) {
      var type = (response.headers.get('content-type') || '').toLowerCase();
      if (!response.ok || type.indexOf('text/event-stream') !== 0) {
        return readJson(response).then(function (body) {
          finished = true;
          handleChatError(message, problemFrom(body, response.status));
        });
      }
      return readEventStream(response, function (name, data) {
        if (name === 'segment') message.appendText(data && data.text !== undefined ? data.text : String(data));
        else if (name === 'citations') message.setCitations(data);
        else if (name === 'classification') message.setClassification(data);
        else if (name === 'done') {
          finished = true;
          if (data.session_id) setSession(data.session_id);
          message.finish(data);
        } else if (name === 'error') {
          finished = true;
          handleChatError(message, data);
        }
      });
    }).catch(function () {
      if (!finished) {
        finished = true;
        message.fail({detail: '无法连接服务器，请检查网络后重试'});
      }
    }).then(function () {
      if (!finished) message.fail({detail: '连接中断，回复可能不完整，请重试'});
      setBusy(false);
    });
  }

  function handleChatError(message, problem) {
    if (problem && problem.status === 404 && sessionId) {
      setSession(null);
      message.fail(problem, '原会话已不存在，已切换为新会话，请重新发送。');
    } else {
      message.fail(problem);
    }
  }

  // -- follow-up questions ------------------------------------------------------------------------
  /* Yes/no replies built from a question, as the server does for a bare 是/不是
   * (assistant/dialogue.py as_statement): "该建筑是否为框架结构？" →
   * {yes: "是，该建筑是框架结构", no: "不是，该建筑不是框架结构"}; null when it is no yes/no question. */
  function yesNoReplies(question) {
    var q = String(question || '').trim().replace(/[？?。]+$/, '').replace(/^(请问|请说明)/, '');
    var m;
    if (q.indexOf('还是') >= 0) return null;
    var i = q.indexOf('是否');
    if (i >= 0) {
      var head = q.slice(0, i);
      var tail = q.slice(i + 2);
      if (tail.charAt(0) === '为') return {yes: '是，' + head + '是' + tail.slice(1), no: '不是，' + head + '不是' + tail.slice(1)};
      if (tail.charAt(0) === '有') return {yes: '是，' + head + '有' + tail.slice(1), no: '不是，' + head + '没有' + tail.slice(1)};
      if (tail.charAt(0) === '已') tail = tail.slice(1);
      tail = tail.replace(/了/g, '');
      return {yes: '是，' + head + '已' + tail, no: '不是，' + head + '未' + tail};
    }
    i = q.indexOf('能否');
    if (i >= 0) return {yes: '是，' + q.slice(0, i) + '能' + q.slice(i + 2), no: '不是，' + q.slice(0, i) + '不能' + q.slice(i + 2)};
    if ((m = /^(.*?)是(.+)吗$/.exec(q))) return {yes: '是，' + m[1] + '是' + m[2], no: '不是，' + m[1] + '不是' + m[2]};
    if ((m = /^(.*?)有(.+)吗$/.exec(q))) return {yes: '是，' + m[1] + '有' + m[2], no: '不是，' + m[1] + '没有' + m[2]};
    return null;
  }

  /* The message a 是/否 button sends. The server reads a reply as a new question when it holds a
   * question cue or is long; then a bare 是/不是, which the server applies to its first question. */
  function replyFor(statement, bare, index) {
    if (statement.length <= MAX_REPLY && !QUESTION_CUE.test(statement)) return statement;
    return index === 0 ? bare : statement;
  }

  /* What goes in the input when a question is clicked: its words up to the question word
   * ("该建筑是否为框架结构？" → "该建筑"), for the user to finish. */
  function answerStub(question) {
    var q = String(question || '').trim().replace(/^(请问|请说明)/, '');
    var m = /是否|能否|有没有|是不是|多少|多久|几|哪|什么|怎么|如何/.exec(q);
    var stub = m ? q.slice(0, m.index) : '';
    if (!m && q.indexOf('还是') > 0) {
      var j = q.lastIndexOf('是', q.indexOf('还是') - 1);
      stub = j >= 0 ? q.slice(0, j + 1) : '';
    }
    if (/吗[？?]?$/.test(q) && !m) stub = '';
    return stub.replace(/[，,：:]$/, '');
  }

  function renderFollowUps(questions) {
    var box = el('div', {className: 'follow-ups'}, [el('p', {className: 'follow-ups-title', text: '请补充以下信息（点击问题作答，或直接选择）：'})]);
    questions.forEach(function (q, index) {
      var item = el('div', {className: 'follow-up-item'});
      item.appendChild(button(q, 'follow-up', function () {
        var input = $('chat-input');
        input.value = answerStub(q);
        input.placeholder = '回答：' + q;
        input.focus();
        try { input.setSelectionRange(input.value.length, input.value.length); } catch (e) { /* ignore */ }
      }, {'data-question': q, title: '在输入框中回答这个问题'}));
      var replies = yesNoReplies(q);
      if (replies) {
        var answers = el('span', {className: 'follow-up-answers'});
        answers.appendChild(button('是', 'follow-up-answer yes', function () {
          sendMessage(replyFor(replies.yes, '是', index));
        }, {'data-reply': replies.yes, title: replies.yes}));
        answers.appendChild(button('否', 'follow-up-answer no', function () {
          sendMessage(replyFor(replies.no, '不是', index));
        }, {'data-reply': replies.no, title: replies.no}));
        item.appendChild(answers);
      }
      box.appendChild(item);
    });
    return box;
  }

  // -- classification card --------------------------------------------------------------------------
  function labelBadge(label) {
    return el('span', {className: 'label-badge label-' + label, text: LABELS[label] || label});
  }

  function conditionItem(cond, kind) {
    var mark = kind === 'met' ? '✓' : kind === 'missing' ? '✗' : '?';
    var note;
    if (kind === 'met') note = cond.evidence ? '依据：“' + cond.evidence + '”' : '';
    else if (kind === 'missing') note = cond.evidence ? '与描述不符：“' + cond.evidence + '”' : '与描述不符';
    else note = '待确认';
    return el('li', {className: 'condition ' + kind}, [
      el('span', {className: 'condition-mark', text: mark, attrs: {'aria-hidden': 'true'}}),
      el('span', {className: 'condition-fact', text: cond.fact}),
      note ? el('span', {className: 'condition-evidence', text: '（' + note + '）'}) : null
    ]);
  }

  function renderCriterion(c) {
    var role = c.role === 'matched' ? '匹配条款' : '最接近的条款';
    var node = el('div', {className: 'criterion', dataset: {role: c.role, clauseId: c.clause_id}});
    node.appendChild(el('p', {className: 'criterion-role', text: role}));
    node.appendChild(el('blockquote', {className: 'criterion-quote', text: c.quote}));
    var cite = el('p', {className: 'criterion-cite'}, [
      button(c.citation, 'clause-link criterion-citation', function (event) {
        openClause(c.clause_id, event.currentTarget);
      }, {'data-clause-id': c.clause_id})
    ]);
    if (c.status && c.status.indexOf('现行有效') !== 0) cite.appendChild(el('span', {className: 'doc-status warn', text: c.status}));
    node.appendChild(cite);
    if (c.alternative) node.appendChild(el('p', {className: 'criterion-alternative', text: '对应情形：' + c.alternative}));
    var met = c.conditions_met || [], missing = c.conditions_missing || [], unknown = c.conditions_unknown || [];
    if (met.length || missing.length || unknown.length) {
      var list = el('ul', {className: 'conditions'});
      met.forEach(function (x) { list.appendChild(conditionItem(x, 'met')); });
      missing.forEach(function (x) { list.appendChild(conditionItem(x, 'missing')); });
      unknown.forEach(function (x) { list.appendChild(conditionItem(x, 'unknown')); });
      node.appendChild(list);
    }
    if (c.excluded_by) node.appendChild(el('p', {className: 'criterion-excluded', text: '排除情形：' + c.excluded_by}));
    return node;
  }

  function renderFinding(f, showHeader) {
    var node = el('div', {className: 'finding', dataset: {label: f.label}});
    if (showHeader) {
      node.appendChild(el('p', {className: 'finding-head'}, [labelBadge(f.label), el('span', {className: 'finding-text', text: f.text})]));
      if (f.explanation) node.appendChild(el('p', {className: 'finding-explanation', text: f.explanation}));
    }
    var criteria = f.criteria || [];
    if (criteria.length) {
      node.appendChild(renderCriterion(criteria[0]));
      if (criteria.length > 1) {
        var more = el('details', {className: 'more-criteria'}, [el('summary', {text: '其他相关条款（' + (criteria.length - 1) + '）'})]);
        criteria.slice(1).forEach(function (c) { more.appendChild(renderCriterion(c)); });
        node.appendChild(more);
      }
    }
    (f.unavailable_documents || []).forEach(function (d) {
      node.appendChild(el('p', {className: 'unavailable-document',
        text: '相关标准未收录正文：' + d.title + (d.doc_number ? '（' + d.doc_number + '）' : '') + (d.status ? '，' + d.status : '')}));
    });
    return node;
  }

  function renderClassification(data) {
    var card = el('section', {className: 'classification-card label-' + data.label, dataset: {label: data.label},
      attrs: {'aria-label': '判定结果：' + (LABELS[data.label] || data.label)}});
    card.appendChild(el('div', {className: 'card-head'}, [
      el('span', {className: 'card-title', text: '判定结果'}), labelBadge(data.label)
    ]));
    var findings = data.findings || [];
    findings.forEach(function (f) { card.appendChild(renderFinding(f, findings.length > 1)); });
    return card;
  }

  // -- restoring a session ----------------------------------------------------------------------------
  function restoreSession() {
    if (!sessionId) return;
    var id = sessionId;
    getJson('/v1/sessions/' + encodeURIComponent(id)).then(function (session) {
      if (sessionId !== id) return;
      var lastUser = '';
      (session.messages || []).forEach(function (m) {
        if (m.role === 'user') {
          lastUser = m.text;
          addUserMessage(m.text);
          return;
        }
        var message = new AssistantMessage(lastUser);
        message.appendText(m.text);
        message.setCitations(m.citations);
        message.setClassification(m.classification);
        message.finish({
          kind: m.kind, searched_query: m.searched_query,
          follow_up_questions: (m.classification && m.classification.label === 'insufficient' &&
            m.classification.follow_up_questions) || []
        });
      });
    }).catch(function (err) {
      if (err && err.status === 404 && sessionId === id) setSession(null);
    });
  }

  function newSession() {
    if (busy) return;
    setSession(null);
    var list = $('messages');
    Array.prototype.slice.call(list.children).forEach(function (child) {
      if (child.id !== 'welcome') list.removeChild(child);
    });
    $('welcome').hidden = false;
    $('chat-input').value = '';
    $('chat-input').placeholder = DEFAULT_PLACEHOLDER;
    $('chat-input').focus();
  }

  // -- clause panel -----------------------------------------------------------------------------------
  var panelHistory = [];
  var panelOpener = null;
  var panelRequest = null;

  function openClause(clauseId, opener) {
    var panel = $('clause-panel');
    if (panel.hidden) {
      panelHistory = [];
      panelOpener = opener || document.activeElement;
    }
    panel.hidden = false;
    $('panel-backdrop').hidden = false;
    document.body.classList.add('panel-open');
    showClause(clauseId);
    $('clause-panel-close').focus();
  }

  function navigateClause(clauseId) {
    var current = $('clause-panel').dataset.clauseId;
    if (current) panelHistory.push(current);
    showClause(clauseId);
  }

  function closeClause() {
    var panel = $('clause-panel');
    if (panel.hidden) return;
    if (panelRequest) panelRequest.abort();
    panel.hidden = true;
    $('panel-backdrop').hidden = true;
    document.body.classList.remove('panel-open');
    panelHistory = [];
    if (panelOpener && panelOpener.focus && document.contains(panelOpener)) panelOpener.focus();
    panelOpener = null;
  }

  function showClause(clauseId) {
    var panel = $('clause-panel');
    var body = $('clause-panel-body');
    panel.dataset.clauseId = clauseId;
    $('clause-panel-back').hidden = panelHistory.length === 0;
    clear(body);
    body.appendChild(el('p', {className: 'loading', text: '正在加载条款…'}));
    if (panelRequest) panelRequest.abort();
    var request = panelRequest = new AbortController();
    getJson('/v1/clauses/' + encodeURIComponent(clauseId), request.signal).then(function (clause) {
      if (panelRequest !== request) return;
      clear(body);
      body.appendChild(renderClause(clause));
      body.scrollTop = 0;
    }).catch(function (err) {
      if (panelRequest !== request || (err && err.name === 'AbortError')) return;
      clear(body);
      body.appendChild(el('p', {className: 'error-text', attrs: {role: 'alert'}, text: err.message || '条款加载失败'}));
    });
  }

  function metaRow(list, term, value, className) {
    if (value === undefined || value === null || value === '') return;
    list.appendChild(el('dt', {text: term}));
    list.appendChild(el('dd', {className: className || '', text: value}));
  }

  function clauseLinks(title, refs, className) {
    if (!refs || !refs.length) return null;
    var section = el('section', {className: 'clause-relations ' + className}, [el('h4', {text: title})]);
    var list = el('ul', {className: 'relation-list'});
    refs.forEach(function (ref) {
      var text = ref.text || '';
      var preview = text.length > 60 ? text.slice(0, 60) + '…' : text;
      list.appendChild(el('li', {}, [
        button(ref.citation, 'clause-link relation-link', function () { navigateClause(ref.clause_id); },
          {'data-clause-id': ref.clause_id}),
        el('span', {className: 'relation-preview', text: preview})
      ]));
    });
    section.appendChild(list);
    return section;
  }

  function renderClause(c) {
    var doc = c.document || {};
    var wrap = el('article', {className: 'clause-detail', dataset: {clauseId: c.clause_id}});
    wrap.appendChild(el('h3', {className: 'clause-doc-title', text: doc.title || ''}));
    var meta = el('dl', {className: 'clause-meta'});
    metaRow(meta, '文号', doc.doc_number);
    metaRow(meta, '状态', doc.status, 'doc-status' + (doc.status && doc.status.indexOf('现行有效') === 0 ? ' ok' : ' warn'));
    metaRow(meta, '施行日期', doc.effective);
    metaRow(meta, '文种', doc.kind);
    metaRow(meta, '发布机关', doc.issuer);
    wrap.appendChild(meta);
    // The note is the full status text; when it is just the short status it would repeat it as a warning.
    if (doc.status_note && doc.status_note !== doc.status) wrap.appendChild(el('p', {className: 'status-note', text: doc.status_note}));
    if (doc.metadata_only) wrap.appendChild(el('p', {className: 'status-note', text: '该文档仅收录元数据，正文未经核实。'}));
    wrap.appendChild(el('p', {className: 'clause-citation', text: c.citation}));
    if (c.chapter) wrap.appendChild(el('p', {className: 'clause-chapter', text: c.chapter}));
    if (c.lead_in && c.parent) wrap.appendChild(el('p', {className: 'clause-lead-in', text: c.lead_in}));
    wrap.appendChild(el('blockquote', {className: 'clause-text', text: c.text}));
    [clauseLinks('上级条款', c.parent ? [c.parent] : [], 'parent'),
      clauseLinks('下级条款', c.children, 'children'),
      clauseLinks('同级条款', c.siblings, 'siblings')].forEach(function (s) { if (s) wrap.appendChild(s); });
    return wrap;
  }

  // -- search ---------------------------------------------------------------------------------------
  var searchReady = false;

  function fillSelect(select, values, labelOf) {
    values.forEach(function (v) {
      select.appendChild(el('option', {text: labelOf ? labelOf(v) : v, attrs: {value: typeof v === 'string' ? v : v.value}}));
    });
  }

  function unique(values) {
    var seen = {};
    return values.filter(function (v) {
      if (!v || seen[v]) return false;
      seen[v] = true;
      return true;
    }).sort(function (a, b) { return a.localeCompare(b, 'zh-CN'); });
  }

  function initSearch() {
    if (searchReady) return;
    searchReady = true;
    loadDocuments().then(function (docs) {
      fillSelect($('search-document'), docs.map(function (d) {
        return {value: d.slug, label: d.title + (d.doc_number ? '（' + d.doc_number + '）' : '') + (d.metadata_only ? ' · 仅元数据' : '')};
      }), function (o) { return o.label; });
      fillSelect($('search-kind'), unique(docs.map(function (d) { return d.kind; })));
      fillSelect($('search-status'), unique(docs.map(function (d) { return d.status; })));
      fillSelect($('search-industry'), unique([].concat.apply([], docs.map(function (d) { return d.industries || []; }))));
    }).catch(function (err) {
      searchReady = false;
      $('search-info').textContent = '文档列表加载失败：' + err.message;
    });
  }

  var searchRequest = null;

  function runSearch() {
    var q = $('search-q').value.trim();
    var info = $('search-info');
    var results = $('search-results');
    if (!q) {
      info.textContent = '请输入检索内容';
      $('search-q').focus();
      return;
    }
    var params = new URLSearchParams({q: q, k: '20'});
    [['document', 'search-document'], ['kind', 'search-kind'], ['status', 'search-status'],
      ['industry', 'search-industry']].forEach(function (pair) {
      var value = $(pair[1]).value;
      if (value) params.append(pair[0], value);
    });
    if (searchRequest) searchRequest.abort();
    var request = searchRequest = new AbortController();
    info.textContent = '正在检索…';
    clear(results);
    getJson('/v1/search?' + params.toString(), request.signal).then(function (data) {
      if (searchRequest !== request) return;
      var hits = data.results || [];
      info.textContent = hits.length ? '共 ' + hits.length + ' 条结果（点击查看条款原文）' : '没有检索到相关条款，请换个说法或放宽筛选条件';
      hits.forEach(function (r) { results.appendChild(renderResult(r)); });
    }).catch(function (err) {
      if (searchRequest !== request || (err && err.name === 'AbortError')) return;
      info.textContent = '检索失败：' + err.message;
    });
  }

  function renderResult(r) {
    var open = function (event) { openClause(r.clause_id, event.currentTarget); };
    var item = el('li', {className: 'search-result', dataset: {clauseId: r.clause_id}});
    item.appendChild(button(r.citation, 'clause-link result-citation', function (event) {
      event.stopPropagation();
      open(event);
    }, {'data-clause-id': r.clause_id}));
    var meta = el('p', {className: 'result-meta'}, [
      el('span', {className: 'result-doc', text: r.document_title + (r.doc_number ? '（' + r.doc_number + '）' : '')}),
      el('span', {className: 'doc-status' + (r.status && r.status.indexOf('现行有效') === 0 ? ' ok' : ' warn'), text: r.status}),
      el('span', {className: 'result-score', text: '相关度 ' + Number(r.score).toFixed(4)})
    ]);
    item.appendChild(meta);
    item.appendChild(el('p', {className: 'result-quote', text: r.quote}));
    item.addEventListener('click', function () { openClause(r.clause_id, item.querySelector('.result-citation')); });
    return item;
  }

  // -- documents ------------------------------------------------------------------------------------
  var documentsReady = false;

  function initDocuments() {
    if (documentsReady) return;
    documentsReady = true;
    var info = $('documents-info');
    var body = $('documents-body');
    info.textContent = '正在加载文档…';
    loadDocuments().then(function (docs) {
      clear(body);
      var metaOnly = docs.filter(function (d) { return d.metadata_only; }).length;
      info.textContent = '共收录 ' + docs.length + ' 份文档' + (metaOnly ? '，其中 ' + metaOnly + ' 份仅有元数据（正文未收录）' : '') + '。';
      docs.forEach(function (d) { body.appendChild(renderDocument(d)); });
    }).catch(function (err) {
      documentsReady = false;
      info.textContent = '文档列表加载失败：' + err.message;
    });
  }

  function renderDocument(d) {
    var title = el('td', {className: 'doc-title', attrs: {'data-label': '标题'}}, [el('span', {text: d.title})]);
    if (d.metadata_only) title.appendChild(el('span', {className: 'badge metadata-only', text: '仅元数据', attrs: {title: '语料中只有元数据，没有经核实的正文'}}));
    if (!d.metadata_only && d.clause_count) {
      title.appendChild(button('检索此文档', 'link-button search-in-document', function () {
        initSearch();
        loadDocuments().then(function () {
          $('search-document').value = d.slug;
          window.location.hash = '#search';
          $('search-q').focus();
        });
      }, {'data-slug': d.slug}));
    }
    return el('tr', {className: 'document-row' + (d.metadata_only ? ' metadata-only-row' : ''), dataset: {slug: d.slug}}, [
      title,
      el('td', {className: 'doc-number', text: d.doc_number || '—', attrs: {'data-label': '文号'}}),
      el('td', {className: 'doc-status' + (d.status && d.status.indexOf('现行有效') === 0 ? ' ok' : ' warn'), text: d.status || '—', attrs: {'data-label': '状态'}}),
      el('td', {className: 'doc-effective', text: d.effective || '—', attrs: {'data-label': '施行日期'}}),
      el('td', {className: 'doc-clauses', text: String(d.clause_count), attrs: {'data-label': '条款数'}})
    ]);
  }

  // -- wiring ---------------------------------------------------------------------------------------
  function init() {
    setSession(sessionId);
    $('chat-form').addEventListener('submit', function (event) {
      event.preventDefault();
      sendMessage($('chat-input').value);
    });
    $('chat-input').addEventListener('keydown', function (event) {
      // Enter sends; Shift+Enter is a new line; never while an IME is composing Chinese.
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        sendMessage($('chat-input').value);
      }
    });
    $('new-session').addEventListener('click', newSession);
    document.querySelectorAll('#examples .example').forEach(function (b) {
      b.addEventListener('click', function () { sendMessage(b.textContent); });
    });
    $('search-form').addEventListener('submit', function (event) {
      event.preventDefault();
      runSearch();
    });
    ['search-document', 'search-kind', 'search-status', 'search-industry'].forEach(function (id) {
      $(id).addEventListener('change', function () { if ($('search-q').value.trim()) runSearch(); });
    });
    $('clause-panel-close').addEventListener('click', closeClause);
    $('panel-backdrop').addEventListener('click', closeClause);
    $('clause-panel-back').addEventListener('click', function () {
      if (panelHistory.length) showClause(panelHistory.pop());
    });
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape') closeClause();
    });
    window.addEventListener('hashchange', showView);
    showView();
    restoreSession();
  }

  window.HazardUI = {
    $: $, el: el, clear: clear, button: button, ApiError: ApiError,
    requestJson: requestJson, getJson: getJson, downloadFile: downloadFile, dispositionFilename: dispositionFilename,
    loadDocuments: loadDocuments, openClause: openClause, labelBadge: labelBadge, LABELS: LABELS,
    registerPage: registerPage
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
