/* 出题: build a quiz (POST /v1/quizzes), preview it with answers and citations, regenerate it
 * with the same or a new seed, and export it (POST /v1/quizzes/export) as a file.
 * Data reaches the page through textContent and attributes only. */
(function () {
  'use strict';

  var ui = window.HazardUI;
  var $ = ui.$, el = ui.el, clear = ui.clear, button = ui.button;

  var TYPES = [['single', '单选题'], ['multiple', '多选题'], ['judge', '判断题'], ['fill', '填空题']];
  var FORMAT_NAMES = {docx: 'Word', xlsx: 'Excel', markdown: 'Markdown', json: 'JSON'};
  var MAX_COUNT = 200;

  var quiz = null;       // the last quiz the server returned (exported as is)
  var busy = false;

  function checked(containerId) {
    return Array.prototype.slice.call(document.querySelectorAll('#' + containerId + ' input:checked'))
      .map(function (input) { return input.value; });
  }

  function showError(message) {
    var node = $('quiz-error');
    node.textContent = message || '';
    node.hidden = !message;
  }

  /* The request from the form; `seed` undefined lets the server pick one. Throws a message. */
  function readForm(seed) {
    var body = {documents: checked('quiz-documents'), industries: checked('quiz-industries'),
      domains: checked('quiz-domains'), difficulty: $('quiz-difficulty').value};
    var total = 0;
    TYPES.forEach(function (t) {
      var input = $('quiz-' + t[0]);
      var raw = input.value.trim();
      var n = raw === '' ? 0 : Number(raw);
      if (!Number.isInteger(n) || n < 0 || n > MAX_COUNT) {
        input.focus();
        throw t[1] + '数量应为 0 到 ' + MAX_COUNT + ' 之间的整数';
      }
      body[t[0]] = n;
      total += n;
    });
    if (!total) throw '请至少为一种题型填写数量';
    if (seed !== undefined && seed !== null) body.seed = seed;
    return body;
  }

  function formSeed() {
    var raw = $('quiz-seed').value.trim();
    if (raw === '') return undefined;
    var n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 2147483647) {
      $('quiz-seed').focus();
      throw '随机种子应为 0 到 2147483647 之间的整数，或留空';
    }
    return n;
  }

  function setBusy(value, text) {
    busy = value;
    ['quiz-generate', 'quiz-regenerate', 'quiz-shuffle'].forEach(function (id) { $(id).disabled = value; });
    document.querySelectorAll('.quiz-export').forEach(function (b) { b.disabled = value; });
    $('view-quiz').setAttribute('aria-busy', value ? 'true' : 'false');
    if (text !== undefined) $('quiz-status').textContent = text;
  }

  /* mode: 'form' (seed from the form), 'same' (the last quiz's seed), 'new' (a fresh seed). */
  function generate(mode) {
    if (busy) return;
    showError('');
    var body;
    try {
      var seed = mode === 'same' && quiz ? quiz.seed : mode === 'new' ? undefined : formSeed();
      body = readForm(seed);
    } catch (message) {
      showError(String(message));
      return;
    }
    setBusy(true, mode === 'new' ? '正在换一套试题…' : '正在出题并逐题校验…');
    ui.requestJson('/v1/quizzes', {method: 'POST', json: body}).then(function (data) {
      quiz = data;
      $('quiz-seed').value = String(data.seed);
      renderQuiz(data);
      $('quiz-status').textContent = '已生成 ' + data.questions.length + ' 道题。';
    }).catch(function (err) {
      $('quiz-status').textContent = '';
      showError('出题失败：' + (err.message || '请求失败'));
    }).then(function () { setBusy(false); });
  }

  function exportQuiz(format, trigger) {
    if (!quiz || busy) return;
    showError('');
    setBusy(true, '正在导出 ' + FORMAT_NAMES[format] + ' 文件…');
    ui.downloadFile('/v1/quizzes/export?format=' + encodeURIComponent(format), {method: 'POST', json: quiz},
      'quiz.' + format).then(function (name) {
      $('quiz-status').textContent = '已下载：' + name;
    }).catch(function (err) {
      $('quiz-status').textContent = '';
      showError('导出失败：' + (err.message || '请求失败'));
    }).then(function () {
      setBusy(false);
      if (trigger) trigger.focus();
    });
  }

  // -- preview ---------------------------------------------------------------------------------
  function renderQuiz(data) {
    var requested = data.requested || {}, produced = data.produced || {};
    var parts = TYPES.filter(function (t) { return requested[t[0]]; }).map(function (t) {
      return t[1] + ' ' + (produced[t[0]] || 0) + ' 道';
    });
    $('quiz-meta').textContent = '试卷 ' + data.id + ' · 种子 ' + data.seed + ' · 共 ' + data.questions.length +
      ' 道（' + parts.join('，') + '）';
    var short = TYPES.filter(function (t) { return (produced[t[0]] || 0) < (requested[t[0]] || 0); });
    var shortfall = $('quiz-shortfall');
    if (short.length) {
      shortfall.textContent = short.map(function (t) {
        return t[1] + '请求 ' + requested[t[0]] + ' 道，仅生成 ' + (produced[t[0]] || 0) + ' 道';
      }).join('；') + '。所选范围内可出题的条款不足，可放宽范围或减少数量。';
      shortfall.hidden = false;
    } else {
      shortfall.hidden = true;
    }
    var list = $('quiz-questions');
    clear(list);
    data.questions.forEach(function (q, i) { list.appendChild(renderQuestion(q, i)); });
    var result = $('quiz-result');
    result.dataset.generation = String(Number(result.dataset.generation || 0) + 1); // a hook for tests
    result.hidden = false;
  }

  function renderQuestion(q, index) {
    var item = el('li', {className: 'quiz-question', dataset: {questionId: q.id, type: q.type}});
    item.appendChild(el('p', {className: 'question-head'}, [
      el('span', {className: 'question-number', text: '第 ' + (index + 1) + ' 题'}),
      el('span', {className: 'type-badge type-' + q.type, text: q.type_zh || q.type})
    ]));
    item.appendChild(el('p', {className: 'question-stem', text: q.stem}));
    var keys = Object.keys(q.options || {});
    if (keys.length) {
      var options = el('ol', {className: 'question-options', attrs: {type: 'A'}});
      keys.forEach(function (key) {
        var correct = q.answer.indexOf(key) >= 0;
        options.appendChild(el('li', {className: 'question-option' + (correct ? ' correct' : ''), dataset: {option: key}}, [
          el('span', {className: 'option-key', text: key + '.'}),
          el('span', {className: 'option-text', text: q.options[key]}),
          correct ? el('span', {className: 'option-mark', text: '✓ 正确答案'}) : null
        ]));
      });
      item.appendChild(options);
    }
    var key = el('div', {className: 'answer-key'});
    key.appendChild(el('p', {className: 'question-answer'}, [
      el('span', {className: 'answer-label', text: '答案：'}),
      el('strong', {text: q.answer})
    ]));
    if (q.explanation) {
      key.appendChild(el('p', {className: 'question-explanation'}, [
        el('span', {className: 'answer-label', text: '解析：'}), q.explanation
      ]));
    }
    var cites = q.citations || [];
    if (cites.length) {
      var chips = el('div', {className: 'citations'}, [el('span', {className: 'citations-title', text: '出处条款'})]);
      cites.forEach(function (c) {
        chips.appendChild(button(c.citation, 'citation-chip', function (event) {
          ui.openClause(c.clause_id, event.currentTarget);
        }, {'data-clause-id': c.clause_id, title: c.quote || c.citation}));
      });
      key.appendChild(chips);
    }
    item.appendChild(key);
    return item;
  }

  // -- scope pickers ---------------------------------------------------------------------------
  function checkChip(name, value, label) {
    return el('label', {className: 'check-chip'}, [
      el('input', {attrs: {type: 'checkbox', name: name, value: value}}), el('span', {text: label})
    ]);
  }

  function updateDocumentsSummary() {
    var n = checked('quiz-documents').length;
    $('quiz-documents-summary').textContent = n ? '已选 ' + n + ' 份' : '全部文档';
  }

  function fillScope() {
    ui.loadDocuments().then(function (docs) {
      var usable = docs.filter(function (d) { return !d.metadata_only && d.clause_count; });
      var box = $('quiz-documents');
      clear(box);
      usable.forEach(function (d) {
        var label = d.title + (d.doc_number ? '（' + d.doc_number + '）' : '');
        box.appendChild(el('label', {className: 'check-row'}, [
          el('input', {attrs: {type: 'checkbox', name: 'documents', value: d.slug}}), el('span', {text: label})
        ]));
      });
      var seen = {};
      var industries = $('quiz-industries');
      usable.forEach(function (d) {
        (d.industries || []).forEach(function (name) {
          if (seen[name]) return;
          seen[name] = true;
          industries.appendChild(checkChip('industries', name, name));
        });
      });
    }).catch(function (err) {
      showError('文档列表加载失败：' + err.message + '（仍可不限范围出题）');
    });
  }

  function init() {
    fillScope();
    $('quiz-form').addEventListener('submit', function (event) {
      event.preventDefault();
      generate('form');
    });
    $('quiz-documents').addEventListener('change', updateDocumentsSummary);
    $('quiz-regenerate').addEventListener('click', function () { generate('same'); });
    $('quiz-shuffle').addEventListener('click', function () { generate('new'); });
    $('quiz-show-answers').addEventListener('change', function (event) {
      $('quiz-questions').classList.toggle('answers-hidden', !event.currentTarget.checked);
    });
    document.querySelectorAll('.quiz-export').forEach(function (b) {
      b.addEventListener('click', function () { exportQuiz(b.dataset.format, b); });
    });
  }

  ui.registerPage('quiz', init);
})();
