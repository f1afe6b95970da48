/* 台账判定: upload an XLSX/CSV hazard ledger (POST /v1/ledgers), then show the headline, the
 * tallies as bar charts (plain DOM, widths set through CSSOM), the first rows with their verdicts
 * and a download of the classified file. The page's address keeps the result's id
 * (#ledger?id=…) so a reload shows it again (GET /v1/ledgers/{id}).
 * Data reaches the page through textContent and attributes only. */
(function () {
  'use strict';

  var ui = window.HazardUI;
  var $ = ui.$, el = ui.el, clear = ui.clear, button = ui.button;

  var TALLIED = [['major', '重大'], ['general', '一般'], ['insufficient', '待补充']];
  var LONG_TEXT = 80;

  var selectedFile = null;
  var record = null;
  var busy = false;
  var timer = null;

  function showError(message) {
    $('ledger-error').textContent = message || '';
    $('ledger-error').hidden = !message;
  }

  function chooseFile(file) {
    selectedFile = file || null;
    $('ledger-file-name').textContent = selectedFile
      ? '已选择：' + selectedFile.name + '（' + formatSize(selectedFile.size) + '）'
      : '支持 .xlsx、.csv（UTF-8 或 GBK）';
    $('ledger-drop').classList.toggle('has-file', !!selectedFile);
    if (selectedFile) showError('');
  }

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + ' B';
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + ' KB';
    return (bytes / 1024 / 1024).toFixed(1) + ' MB';
  }

  function setWorking(on) {
    busy = on;
    $('ledger-submit').disabled = on;
    $('ledger-file').disabled = on;
    $('ledger-working').hidden = !on;
    $('view-ledger').setAttribute('aria-busy', on ? 'true' : 'false');
    if (timer) {
      window.clearInterval(timer);
      timer = null;
    }
    if (on) {
      var started = Date.now();
      var text = $('ledger-working-text');
      text.textContent = '正在上传并逐行判定…';
      timer = window.setInterval(function () {
        text.textContent = '正在逐行判定… 已用时 ' + Math.round((Date.now() - started) / 1000) + ' 秒';
      }, 1000);
    }
  }

  function upload() {
    if (busy) return;
    showError('');
    if (!selectedFile) {
      showError('请先选择或拖入台账文件（XLSX 或 CSV）');
      $('ledger-file').focus();
      return;
    }
    var form = new FormData();
    form.append('file', selectedFile, selectedFile.name);
    var industry = $('ledger-industry').value;
    if (industry) form.append('industry', industry);
    setWorking(true);
    $('ledger-result').hidden = true;
    ui.requestJson('/v1/ledgers', {method: 'POST', body: form}).then(function (data) {
      showResult(data);
      window.history.replaceState(null, '', '#ledger?id=' + encodeURIComponent(data.id));
    }).catch(function (err) {
      showError('判定失败：' + (err.message || '请求失败'));
    }).then(function () { setWorking(false); });
  }

  // -- result --------------------------------------------------------------------------------------
  function showResult(data) {
    record = data;
    var s = data.summary;
    $('ledger-headline').textContent = data.headline;
    var cols = s.columns || {};
    var meta = ['文件：' + data.filename, '表头以下 ' + s.rows + ' 行', '去重后判定 ' + s.distinct_descriptions + ' 条',
      '描述列：“' + cols.description + '”'];
    if (cols.sheet) meta.splice(1, 0, '工作表：' + cols.sheet);
    if (typeof s.seconds === 'number') meta.push('用时 ' + s.seconds + ' 秒');
    $('ledger-meta').textContent = meta.join(' · ');
    $('ledger-download').textContent = '下载判定结果（' + data.result_filename + '）';

    var charts = $('ledger-charts');
    clear(charts);
    charts.appendChild(countsChart(s.counts));
    if (s.by_industry.length) {
      charts.appendChild(stackedChart('按行业', s.by_industry, function (t) { return el('span', {text: t.industry}); }));
    }
    if (s.top_clauses.length) {
      charts.appendChild(stackedChart('最常涉及的条款', s.top_clauses, function (t) {
        return button(t.citation, 'clause-link', function (event) {
          ui.openClause(t.clause_id, event.currentTarget);
        }, {'data-clause-id': t.clause_id});
      }));
    }
    renderRows(data.preview);
    $('ledger-result').hidden = false;
  }

  /* One bar per verdict, scaled to the largest count. */
  function countsChart(counts) {
    var shown = counts.filter(function (c) { return c.count || c.label !== 'empty'; });
    var max = Math.max.apply(null, shown.map(function (c) { return c.count; }).concat([1]));
    var figure = el('figure', {className: 'chart chart-counts'}, [el('figcaption', {className: 'chart-title', text: '判定结果分布'})]);
    var list = el('ul', {className: 'bars'});
    shown.forEach(function (c) {
      var bar = el('span', {className: 'bar-fill label-' + c.label, attrs: {'aria-hidden': 'true'}});
      bar.style.width = (c.count / max * 100).toFixed(1) + '%';
      list.appendChild(el('li', {className: 'bar-row', dataset: {label: c.label, count: c.count}}, [
        el('span', {className: 'bar-label', text: c.name}),
        el('span', {className: 'bar-track'}, [bar]),
        el('span', {className: 'bar-value', text: String(c.count)})
      ]));
    });
    figure.appendChild(list);
    return figure;
  }

  /* Stacked bars (重大/一般/待补充) per row of a tally, scaled to the largest total. */
  function stackedChart(title, tallies, labelOf) {
    var max = Math.max.apply(null, tallies.map(function (t) { return t.total; }).concat([1]));
    var figure = el('figure', {className: 'chart chart-stacked'}, [el('figcaption', {className: 'chart-title', text: title})]);
    var legend = el('p', {className: 'chart-legend', attrs: {'aria-hidden': 'true'}});
    TALLIED.forEach(function (k) {
      legend.appendChild(el('span', {className: 'legend-item'}, [el('span', {className: 'legend-swatch label-' + k[0]}), k[1]]));
    });
    figure.appendChild(legend);
    var list = el('ul', {className: 'bars'});
    tallies.forEach(function (t) {
      var track = el('span', {className: 'bar-track', attrs: {'aria-hidden': 'true'}});
      TALLIED.forEach(function (k) {
        if (!t[k[0]]) return;
        var seg = el('span', {className: 'bar-fill label-' + k[0], attrs: {title: k[1] + ' ' + t[k[0]]}});
        seg.style.width = (t[k[0]] / max * 100).toFixed(1) + '%';
        track.appendChild(seg);
      });
      var breakdown = TALLIED.map(function (k) { return k[1] + ' ' + t[k[0]]; }).join('，');
      list.appendChild(el('li', {className: 'bar-row'}, [
        el('span', {className: 'bar-label'}, [labelOf(t)]),
        track,
        el('span', {className: 'bar-value', text: String(t.total)}),
        el('span', {className: 'visually-hidden', text: '（' + breakdown + '）'})
      ]));
    });
    figure.appendChild(list);
    return figure;
  }

  function longCell(text) {
    var td = el('td', {className: 'cell-long'});
    if (!text) {
      td.textContent = '—';
    } else if (text.length <= LONG_TEXT) {
      td.textContent = text;
    } else {
      td.appendChild(el('details', {}, [el('summary', {text: text.slice(0, LONG_TEXT - 20) + '…'}), el('p', {text: text})]));
    }
    return td;
  }

  function renderRows(rows) {
    var body = $('ledger-rows');
    clear(body);
    rows.forEach(function (r) {
      body.appendChild(el('tr', {className: 'ledger-row row-' + r.label, dataset: {label: r.label, row: r.row}}, [
        el('td', {className: 'cell-num', text: String(r.row)}),
        el('td', {className: 'cell-short', text: r.unit || '—'}),
        el('td', {className: 'cell-short', text: r.industry || '—'}),
        el('td', {className: 'cell-description', text: r.description || '（空）'}),
        el('td', {className: 'cell-result'}, [el('span', {className: 'label-badge label-' + r.label, text: r.result})]),
        longCell(r.basis),
        longCell(r.nearest),
        el('td', {className: 'cell-questions', text: (r.questions || []).join('\n') || '—'})
      ]));
    });
  }

  function download() {
    if (!record || busy) return;
    showError('');
    var b = $('ledger-download');
    b.disabled = true;
    ui.downloadFile(record.download_url, {}, record.result_filename).catch(function (err) {
      showError('下载失败：' + (err.message || '请求失败'));
    }).then(function () { b.disabled = false; });
  }

  function restoreFromAddress() {
    var m = /[?&]id=([0-9a-f]{32})\b/.exec(window.location.hash || '');
    if (!m || (record && record.id === m[1])) return;
    ui.getJson('/v1/ledgers/' + m[1]).then(showResult).catch(function (err) {
      showError('无法打开之前的判定结果：' + (err.message || '请求失败'));
    });
  }

  function fillIndustries() {
    ui.loadDocuments().then(function (docs) {
      var seen = {};
      var select = $('ledger-industry');
      docs.filter(function (d) { return !d.metadata_only && d.clause_count; }).forEach(function (d) {
        (d.industries || []).forEach(function (name) {
          if (seen[name]) return;
          seen[name] = true;
          select.appendChild(el('option', {text: name, attrs: {value: name}}));
        });
      });
    }).catch(function () { /* the default industry is optional */ });
  }

  function init() {
    fillIndustries();
    var drop = $('ledger-drop');
    $('ledger-file').addEventListener('change', function (event) { chooseFile(event.currentTarget.files[0]); });
    ['dragenter', 'dragover'].forEach(function (name) {
      drop.addEventListener(name, function (event) {
        event.preventDefault();
        if (!busy) drop.classList.add('dragging');
      });
    });
    ['dragleave', 'dragend'].forEach(function (name) {
      drop.addEventListener(name, function () { drop.classList.remove('dragging'); });
    });
    drop.addEventListener('drop', function (event) {
      event.preventDefault();
      drop.classList.remove('dragging');
      if (busy) return;
      var files = event.dataTransfer && event.dataTransfer.files;
      if (files && files.length) chooseFile(files[0]);
    });
    // A file dropped beside the zone would otherwise replace the page with the file.
    ['dragover', 'drop'].forEach(function (name) {
      document.addEventListener(name, function (event) {
        if (!$('view-ledger').hidden && !drop.contains(event.target)) event.preventDefault();
      });
    });
    $('ledger-form').addEventListener('submit', function (event) {
      event.preventDefault();
      upload();
    });
    $('ledger-download').addEventListener('click', download);
    window.addEventListener('hashchange', restoreFromAddress);
    restoreFromAddress();
  }

  ui.registerPage('ledger', init);
})();
