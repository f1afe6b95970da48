/* 企业自查: a three-step wizard. 1 the enterprise's profile → GET /v1/checklists; 2 the checklist
 * grouped by article, answered 是/否/不确定 → POST /v1/self-checks; 3 the saved report (major
 * hazards with citations, items to verify, legal consequences), its DOCX/HTML export and the
 * enterprise's history (GET /v1/self-checks?enterprise=).
 * Data reaches the page through textContent and attributes only. */
(function () {
  'use strict';

  var ui = window.HazardUI;
  var $ = ui.$, el = ui.el, clear = ui.clear, button = ui.button;

  var ANSWERS = ['是', '否', '不确定'];

  var checklist = null;   // the checklist being answered
  var request = null;     // {enterprise, profile, description} it was built from
  var report = null;      // the saved report shown in step 3
  var busy = false;

  function showError(message) {
    $('selfcheck-error').textContent = message || '';
    $('selfcheck-error').hidden = !message;
  }

  function setBusy(value) {
    busy = value;
    ['selfcheck-start', 'selfcheck-submit', 'selfcheck-back', 'selfcheck-history-button'].forEach(function (id) {
      $(id).disabled = value;
    });
    document.querySelectorAll('.selfcheck-export').forEach(function (b) { b.disabled = value; });
    $('view-selfcheck').setAttribute('aria-busy', value ? 'true' : 'false');
  }

  function showStep(step, keepScroll) {
    ['selfcheck-profile', 'selfcheck-checklist', 'selfcheck-report'].forEach(function (id) {
      $(id).hidden = $(id).dataset.step !== String(step);
    });
    document.querySelectorAll('#selfcheck-steps .step').forEach(function (node) {
      var n = Number(node.dataset.step);
      node.classList.toggle('current', n === step);
      node.classList.toggle('done', n < step);
      if (n === step) node.setAttribute('aria-current', 'step'); else node.removeAttribute('aria-current');
    });
    if (!keepScroll) window.scrollTo(0, 0);
  }

  function citeLink(citation, text) {
    return button(text || citation.citation, 'clause-link', function (event) {
      ui.openClause(citation.clause_id, event.currentTarget);
    }, {'data-clause-id': citation.clause_id});
  }

  // -- step 1: profile -----------------------------------------------------------------------------
  function readProfile() {
    var name = $('selfcheck-name').value.trim();
    if (!name) {
      $('selfcheck-name').focus();
      throw '请填写单位名称';
    }
    var domains = Array.prototype.slice.call(document.querySelectorAll('#selfcheck-domains input:checked'))
      .map(function (input) { return input.value; });
    var code = $('selfcheck-code').value.trim();
    return {
      enterprise: code ? {name: name, code: code} : {name: name},
      profile: {industry: $('selfcheck-industry').value, domains: domains},
      description: $('selfcheck-description').value.trim()
    };
  }

  function loadChecklist() {
    if (busy) return;
    showError('');
    var body;
    try { body = readProfile(); } catch (message) { showError(String(message)); return; }
    var params = new URLSearchParams();
    if (body.profile.industry) params.append('industry', body.profile.industry);
    body.profile.domains.forEach(function (d) { params.append('domains', d); });
    if (body.description) params.append('description', body.description);
    setBusy(true);
    $('selfcheck-start').textContent = '正在生成检查表…';
    ui.getJson('/v1/checklists?' + params.toString()).then(function (data) {
      request = body;
      checklist = data;
      renderChecklist(data);
      showStep(2);
    }).catch(function (err) {
      showError('检查表生成失败：' + (err.message || '请求失败'));
    }).then(function () {
      setBusy(false);
      $('selfcheck-start').textContent = '生成检查表';
    });
  }

  // -- step 2: checklist ------------------------------------------------------------------------------
  function profileLine(label, all, inferred) {
    var line = el('p', {className: 'profile-line'}, [el('span', {className: 'profile-term', text: label + '：'})]);
    if (!all.length) {
      line.appendChild(el('span', {className: 'muted', text: '未确定'}));
      return line;
    }
    all.forEach(function (name, i) {
      if (i) line.appendChild(document.createTextNode('、'));
      line.appendChild(el('span', {text: name}));
      if (inferred.indexOf(name) >= 0) line.appendChild(el('span', {className: 'inferred-tag', text: '推定'}));
    });
    return line;
  }

  function renderChecklist(data) {
    var p = data.profile;
    var box = $('selfcheck-inferred');
    clear(box);
    box.appendChild(el('p', {className: 'profile-enterprise', text: request.enterprise.name}));
    box.appendChild(profileLine('适用行业', p.industries, p.inferred_industries));
    box.appendChild(profileLine('专项领域', p.domains, p.inferred_domains));
    if (p.description) box.appendChild(el('p', {className: 'profile-line muted', text: '单位描述：' + p.description}));
    if (p.inferred_industries.length || p.inferred_domains.length) {
      box.appendChild(el('p', {className: 'hint', text: '标“推定”的是根据行业或单位描述推定的，如不适用请返回上一步修改。'}));
    }
    var groups = $('selfcheck-groups');
    clear(groups);
    if (!data.groups.length) {
      groups.appendChild(el('p', {className: 'notice', text: '按该画像未找到适用的重大事故隐患判定情形，请补充行业或专项领域。'}));
    }
    data.groups.forEach(function (g) { groups.appendChild(renderGroup(g)); });
    $('selfcheck-submit').disabled = !data.groups.length;
    updateProgress();
  }

  function renderGroup(group) {
    var section = el('section', {className: 'check-group', dataset: {groupId: group.group_id}});
    section.appendChild(el('h3', {className: 'check-group-title', text: group.heading}));
    if (group.lead_in) section.appendChild(el('p', {className: 'check-group-lead', text: group.lead_in}));
    var list = el('ol', {className: 'check-items'});
    group.items.forEach(function (item) { list.appendChild(renderItem(item)); });
    section.appendChild(list);
    return section;
  }

  function renderItem(item) {
    var li = el('li', {className: 'check-item', dataset: {itemId: item.item_id, clauseId: item.clause_id,
      hazardAnswer: item.hazard_answer}});
    var set = el('fieldset', {className: 'answer-set'});
    set.appendChild(el('legend', {className: 'check-question', text: item.question}));
    var choices = el('div', {className: 'answer-choices'});
    ANSWERS.forEach(function (answer) {
      var input = el('input', {attrs: {type: 'radio', name: 'answer:' + item.item_id, value: answer}});
      input.addEventListener('change', function () {
        li.dataset.answer = answer;
        li.classList.toggle('is-hazard', answer === item.hazard_answer);
        updateProgress();
      });
      choices.appendChild(el('label', {className: 'answer-choice answer-' + ANSWERS.indexOf(answer)}, [
        input, el('span', {text: answer})
      ]));
    });
    set.appendChild(choices);
    li.appendChild(set);
    li.appendChild(el('p', {className: 'check-item-foot'}, [
      citeLink(item.citation, '查看条款：' + item.citation.citation),
      el('span', {className: 'hazard-flag', text: '此项构成重大事故隐患'})
    ]));
    return li;
  }

  function answers() {
    var out = {};
    document.querySelectorAll('#selfcheck-groups .check-item').forEach(function (li) {
      if (li.dataset.answer) out[li.dataset.itemId] = li.dataset.answer;
    });
    return out;
  }

  function updateProgress() {
    if (!checklist) return;
    var given = answers();
    var count = Object.keys(given).length;
    var hazards = Object.keys(given).filter(function (id) {
      var li = document.querySelector('#selfcheck-groups .check-item[data-item-id="' + CSS.escape(id) + '"]');
      return li && li.classList.contains('is-hazard');
    }).length;
    $('selfcheck-progress').textContent = '共 ' + checklist.item_count + ' 项，已作答 ' + count + ' 项' +
      (hazards ? '，其中 ' + hazards + ' 项构成重大事故隐患' : '') + '；未作答的按“不确定”处理。';
  }

  function submitAnswers() {
    if (busy || !checklist) return;
    showError('');
    var body = {enterprise: request.enterprise, profile: request.profile, description: request.description,
      answers: answers()};
    setBusy(true);
    $('selfcheck-submit').textContent = '正在生成报告…';
    ui.requestJson('/v1/self-checks', {method: 'POST', json: body}).then(function (saved) {
      showReport(saved);
      loadHistory(saved.enterprise.name, saved.id);
    }).catch(function (err) {
      showError('报告生成失败：' + (err.message || '请求失败'));
    }).then(function () {
      setBusy(false);
      $('selfcheck-submit').textContent = '生成自查报告';
    });
  }

  // -- step 3: report ---------------------------------------------------------------------------------
  function formatTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso || '');
    function two(n) { return (n < 10 ? '0' : '') + n; }
    return d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate()) + ' ' +
      two(d.getHours()) + ':' + two(d.getMinutes());
  }

  function quoteBlock(citation) {
    return el('blockquote', {className: 'clause-text', text: citation.quote});
  }

  function consequenceItem(c) {
    var li = el('li', {className: 'consequence', dataset: {clauseId: c.clause_id, role: c.role}});
    li.appendChild(el('p', {className: 'consequence-head'}, [
      el('span', {className: 'role-tag', text: c.role_zh || c.role}), citeLink(c)
    ]));
    if (c.note) li.appendChild(el('p', {className: 'consequence-note', text: c.note}));
    if (c.retrieved) {
      li.appendChild(el('p', {className: 'status-note', text: c.confirmation || '检索所得，需执法人员确认是否适用。'}));
    }
    var more = el('details', {className: 'quote-details'}, [el('summary', {text: '条款原文'}), quoteBlock(c)]);
    li.appendChild(more);
    return li;
  }

  function section(title, className, count) {
    var node = el('section', {className: 'report-section ' + className});
    node.appendChild(el('h3', {className: 'section-title', text: title + (count !== undefined ? '（' + count + '）' : '')}));
    return node;
  }

  function renderHazard(h) {
    var li = el('li', {className: 'report-hazard', dataset: {clauseId: h.clause_id}});
    li.appendChild(el('p', {className: 'finding-head'}, [ui.labelBadge('major'), citeLink(h.citation)]));
    li.appendChild(quoteBlock(h.citation));
    var qa = el('ul', {className: 'answered-list'});
    (h.answered || []).forEach(function (a) {
      qa.appendChild(el('li', {}, [el('span', {text: a.question}), el('strong', {className: 'answered-value', text: ' 答：' + a.answer})]));
    });
    if (qa.firstChild) li.appendChild(qa);
    if ((h.obligations || []).length) {
      var ob = el('ul', {className: 'consequence-list'});
      h.obligations.forEach(function (c) { ob.appendChild(consequenceItem(c)); });
      li.appendChild(ob);
    }
    return li;
  }

  function renderUncertain(u) {
    var li = el('li', {className: 'report-uncertain', dataset: {itemId: u.item_id, clauseId: u.clause_id}});
    li.appendChild(el('p', {className: 'uncertain-question', text: u.question}));
    li.appendChild(el('p', {className: 'criterion-cite'}, [citeLink(u.citation)]));
    if ((u.to_check || []).length) {
      var list = el('ul', {className: 'to-check'});
      u.to_check.forEach(function (t) { list.appendChild(el('li', {text: t})); });
      li.appendChild(el('p', {className: 'sub-heading', text: '应核实：'}));
      li.appendChild(list);
    }
    return li;
  }

  function showReport(saved) {
    report = saved;
    var r = saved.report;
    $('selfcheck-report-title').textContent = saved.enterprise.name + ' 自查报告';
    var body = $('selfcheck-report-body');
    clear(body);
    body.appendChild(el('p', {className: 'quiz-meta', text: '生成时间：' + formatTime(saved.created_at) + ' · 报告编号 ' + saved.id}));
    var p = r.profile;
    body.appendChild(el('p', {className: 'quiz-meta', text: '适用行业：' + (p.industries.join('、') || '未确定') +
      ' · 专项领域：' + (p.domains.join('、') || '无')}));
    body.appendChild(el('p', {className: 'report-summary' + (r.hazards.length ? ' has-hazards' : ''), text: r.summary}));

    var hazards = section('重大事故隐患', 'report-hazards', r.hazards.length);
    if (r.hazards.length) {
      var hl = el('ol', {className: 'report-list'});
      r.hazards.forEach(function (h) { hl.appendChild(renderHazard(h)); });
      hazards.appendChild(hl);
    } else {
      hazards.appendChild(el('p', {className: 'muted', text: '按所答情况未发现重大事故隐患。'}));
    }
    body.appendChild(hazards);

    var uncertain = section('不确定事项', 'report-uncertain-section', r.uncertain.length);
    if (r.uncertain.length) {
      uncertain.appendChild(el('p', {className: 'hint', text: '以下各项回答为“不确定”或未作答，请逐项核实后重新自查。'}));
      var box = el('details', {className: 'uncertain-details', attrs: r.uncertain.length <= 5 ? {open: ''} : {}}, [
        el('summary', {text: '展开 ' + r.uncertain.length + ' 项待核实事项'})
      ]);
      var ul = el('ol', {className: 'report-list'});
      r.uncertain.forEach(function (u) { ul.appendChild(renderUncertain(u)); });
      box.appendChild(ul);
      uncertain.appendChild(box);
    } else {
      uncertain.appendChild(el('p', {className: 'muted', text: '无。'}));
    }
    body.appendChild(uncertain);

    if ((r.consequences || []).length) {
      var cons = section('法律后果', 'report-consequences', r.consequences.length);
      cons.appendChild(el('p', {className: 'hint', text: '存在重大事故隐患时，依法应履行的报告、治理义务和可能的处罚：'}));
      var cl = el('ul', {className: 'consequence-list'});
      r.consequences.forEach(function (c) { cl.appendChild(consequenceItem(c)); });
      cons.appendChild(cl);
      body.appendChild(cons);
    }
    body.appendChild(el('p', {className: 'disclaimer', text: '自查结果仅供参考，请以监管部门认定和法规标准原文为准。'}));
    showStep(3);
  }

  function exportReport(format, trigger) {
    if (!report || busy) return;
    showError('');
    setBusy(true);
    ui.downloadFile('/v1/self-checks/' + encodeURIComponent(report.id) + '/export?format=' + format, {},
      '自查报告.' + format).catch(function (err) {
      showError('导出失败：' + (err.message || '请求失败'));
    }).then(function () {
      setBusy(false);
      if (trigger) trigger.focus();
    });
  }

  // -- history -----------------------------------------------------------------------------------------
  function loadHistory(name, currentId) {
    var box = $('selfcheck-history');
    var info = $('selfcheck-history-info');
    var list = $('selfcheck-history-list');
    box.hidden = false;
    $('selfcheck-history-title').textContent = name + ' 的历史自查报告';
    info.textContent = '正在加载…';
    clear(list);
    ui.getJson('/v1/self-checks?enterprise=' + encodeURIComponent(name)).then(function (items) {
      info.textContent = items.length ? '共 ' + items.length + ' 份（新的在前）' : '该单位暂无自查记录。';
      items.forEach(function (s) {
        var label = formatTime(s.created_at) + '　重大事故隐患 ' + s.hazard_count + ' 项 · 不确定 ' + s.uncertain_count + ' 项';
        var row = el('li', {className: 'history-item' + (s.id === currentId ? ' current' : ''), dataset: {reportId: s.id}}, [
          button(label, 'clause-link history-open', function () { openReport(s.id); },
            {'aria-current': s.id === currentId ? 'true' : null}),
          el('span', {className: 'history-summary', text: s.summary})
        ]);
        list.appendChild(row);
      });
    }).catch(function (err) {
      info.textContent = '历史记录加载失败：' + (err.message || '请求失败');
    });
  }

  function openReport(id) {
    if (busy) return;
    showError('');
    setBusy(true);
    ui.getJson('/v1/self-checks/' + encodeURIComponent(id)).then(function (saved) {
      showReport(saved);
      document.querySelectorAll('#selfcheck-history-list .history-item').forEach(function (li) {
        li.classList.toggle('current', li.dataset.reportId === id);
      });
    }).catch(function (err) {
      showError('报告加载失败：' + (err.message || '请求失败'));
    }).then(function () { setBusy(false); });
  }

  function fillIndustries() {
    ui.loadDocuments().then(function (docs) {
      var seen = {};
      var select = $('selfcheck-industry');
      docs.filter(function (d) { return !d.metadata_only && d.clause_count; }).forEach(function (d) {
        (d.industries || []).forEach(function (name) {
          if (seen[name]) return;
          seen[name] = true;
          select.appendChild(el('option', {text: name, attrs: {value: name}}));
        });
      });
    }).catch(function (err) {
      showError('行业列表加载失败：' + err.message + '（可只填写单位描述）');
    });
  }

  function init() {
    fillIndustries();
    showStep(1, true);
    $('selfcheck-profile').addEventListener('submit', function (event) {
      event.preventDefault();
      loadChecklist();
    });
    $('selfcheck-checklist').addEventListener('submit', function (event) {
      event.preventDefault();
      submitAnswers();
    });
    $('selfcheck-back').addEventListener('click', function () { showError(''); showStep(1); });
    $('selfcheck-restart').addEventListener('click', function () { showError(''); showStep(1); });
    $('selfcheck-history-button').addEventListener('click', function () {
      var name = $('selfcheck-name').value.trim();
      if (!name) {
        showError('请先填写单位名称');
        $('selfcheck-name').focus();
        return;
      }
      showError('');
      loadHistory(name, report && report.id);
    });
    document.querySelectorAll('.selfcheck-export').forEach(function (b) {
      b.addEventListener('click', function () { exportReport(b.dataset.format, b); });
    });
  }

  ui.registerPage('selfcheck', init);
})();
