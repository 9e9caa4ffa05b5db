#include "experiment/report_page.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/json_file.h"
#include "entroscope_version.h"
#include "experiment/scaling_summary.h"
#include "experiment/svg_plot.h"
#include "experiment/text_format.h"
#include "experiment/utc_time.h"
#include "io/hub_hash.h"

namespace entroscope::experiment {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using plot::xml;

// A field as text or number, tolerating absence and null (older or reused results files).
std::string text(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
double number(const json& j, const char* key, double fallback = NAN) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

// One measured unit (token or word) of one item and condition, as the per-unit file has it.
struct MeasuredUnit {
  std::string text;
  long long id = -1;  // token id; -1 for words
  double entropy = NAN, surprisal = NAN;
};
// item id -> condition -> units in order
using ItemUnits = std::map<std::string, std::map<std::string, std::vector<MeasuredUnit>>>;

// RFC 4180 records (quoted fields may hold commas, quotes and line breaks).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) row.push_back(std::move(field));
      if (!row.empty()) rows.push_back(std::move(row));
      row.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (any || !field.empty()) row.push_back(std::move(field));
  if (!row.empty()) rows.push_back(std::move(row));
  return rows;
}

double number_or_nan(const std::string& s) {
  if (s.empty() || s == "NA" || s == "null") return NAN;
  try {
    return std::stod(s);
  } catch (const std::exception&) {
    return NAN;
  }
}

// A token id column's value, or -1 when it is not a non-negative integer that fits.
long long token_id_or_none(const std::string& s) {
  const double v = number_or_nan(s);
  return std::isfinite(v) && v >= 0 && v < 9.0e15 && v == std::floor(v) ? static_cast<long long>(v) : -1;
}

// A per_token_* or per_word_* file (csv or jsonl), by its column names.
ItemUnits read_units(const fs::path& file) {
  const std::string content = read_text_file(file);
  ItemUnits units;
  auto add = [&](const std::string& item, const std::string& condition, MeasuredUnit u) {
    units[item][condition].push_back(std::move(u));
  };
  if (file.extension() == ".jsonl") {
    std::istringstream in(content);
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty()) continue;
      const json r = json::parse(line, nullptr, false);
      if (r.is_discarded() || !r.is_object()) fail("{}: line {} is not a JSON object", file.string(), n);
      auto num = [&](const char* key) { return r.contains(key) && r[key].is_number() ? r[key].get<double>() : NAN; };
      MeasuredUnit u;
      u.text = r.contains("token") ? text(r, "token") : text(r, "word");
      u.id = r.contains("token_id") && r["token_id"].is_number_integer() ? r["token_id"].get<long long>() : -1;
      u.entropy = num("entropy_bits");
      u.surprisal = num("surprisal_bits");
      add(text(r, "item_id"), text(r, "condition"), std::move(u));
    }
    return units;
  }
  const auto rows = parse_csv(content);
  if (rows.empty()) return units;
  std::map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < rows[0].size(); ++i) col[rows[0][i]] = i;
  for (const char* need : {"item_id", "condition", "entropy_bits", "surprisal_bits"})
    if (!col.count(need)) fail("{}: no column '{}'", file.string(), need);
  const bool tokens = col.count("token") > 0;
  const std::size_t text_col = tokens ? col["token"] : col.count("word") ? col["word"] : col["item_id"];
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& f = rows[r];
    if (f.size() < rows[0].size()) fail("{}: record {} has {} fields, expected {}", file.string(), r + 1, f.size(), rows[0].size());
    MeasuredUnit u;
    u.text = f[text_col];
    u.id = tokens && col.count("token_id") ? token_id_or_none(f[col["token_id"]]) : -1;
    u.entropy = number_or_nan(f[col["entropy_bits"]]);
    u.surprisal = number_or_nan(f[col["surprisal_bits"]]);
    add(f[col["item_id"]], f[col["condition"]], std::move(u));
  }
  return units;
}

struct ModelData {
  json summary;  // its entry of scaling_summary.json
  json result;   // its results file (null when failed)
  ItemUnits units;
  std::string units_note;  // why there are no heat maps for it, when there are none
};

// Per item, the largest difference between two models at one unit, in entropy and in surprisal.
// Only models whose units in a condition are the same tokens (same ids and texts) are compared:
// a unit of one tokenization has no counterpart in another. The page's script computes the same
// for the models a reader picks (largestGap); this one chooses which items the page embeds.
struct UnitSpread {
  double entropy = 0, surprisal = 0;
};
std::map<std::string, UnitSpread> unit_spreads(const std::vector<ModelData>& models,
                                               const std::vector<std::string>& conditions) {
  std::map<std::string, std::vector<const std::map<std::string, std::vector<MeasuredUnit>>*>> by_item;
  for (const ModelData& d : models)
    for (const auto& [item, per_condition] : d.units) by_item[item].push_back(&per_condition);
  auto same_units = [](const std::vector<MeasuredUnit>& a, const std::vector<MeasuredUnit>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const MeasuredUnit& x, const MeasuredUnit& y) { return x.id == y.id && x.text == y.text; });
  };
  std::map<std::string, UnitSpread> spreads;
  for (const auto& [item, per_model] : by_item) {
    UnitSpread& best = spreads[item];
    for (const std::string& c : conditions) {
      std::vector<const std::vector<MeasuredUnit>*> rows;
      for (const auto* m : per_model)
        if (auto it = m->find(c); it != m->end()) rows.push_back(&it->second);
      for (std::size_t a = 0; a < rows.size(); ++a)
        for (std::size_t b = a + 1; b < rows.size(); ++b) {
          if (!same_units(*rows[a], *rows[b])) continue;
          for (std::size_t k = 0; k < rows[a]->size(); ++k) {
            const MeasuredUnit &x = (*rows[a])[k], &y = (*rows[b])[k];
            if (std::isfinite(x.entropy) && std::isfinite(y.entropy))
              best.entropy = std::max(best.entropy, std::fabs(x.entropy - y.entropy));
            if (std::isfinite(x.surprisal) && std::isfinite(y.surprisal))
              best.surprisal = std::max(best.surprisal, std::fabs(x.surprisal - y.surprisal));
          }
        }
    }
  }
  return spreads;
}

// 150000 -> "150,000".
std::string thousands(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string fixed3(double v) { return plot::typeset(signed_fixed(v, 3)); }
std::string plain3(double v) { return fmt::format("{:.3f}", v); }
std::string num_attr(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string(); }
std::string measure_name(const std::string& key) { return key.substr(0, key.find('_')); }

// Values rounded for the page's data (4 decimals hold every digit the page shows).
double r4(double v) { return std::isfinite(v) ? std::round(v * 1e4) / 1e4 : v; }

const char* kStyle = R"css(
body{font-family:Helvetica,Arial,'DejaVu Sans',sans-serif;margin:0 auto;max-width:1240px;padding:0 20px 40px;color:#1a1a1a;background:#fff}
h1{font-size:24px;margin:20px 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#555;margin:2px 0}.mono{font-family:'DejaVu Sans Mono',Menlo,monospace;font-size:12px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th{background:#f4f4f4;position:sticky;top:0}th.sortable{cursor:pointer}th.sortable:after{content:' \2195';color:#999}
td:first-child,th:first-child,td.text,th.text{text-align:left}
figure{margin:10px 0;overflow-x:auto}figure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:13px}
.charts{display:flex;flex-wrap:wrap;gap:8px}.scroll{overflow-x:auto;max-width:100%}
#heatmap-controls{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:8px 0}
#heatmap-controls select{max-width:420px}
button.metric-toggle{padding:4px 10px;border:1px solid #888;background:#fff;cursor:pointer}
button.metric-toggle[aria-pressed=true]{background:#0072B2;color:#fff;border-color:#0072B2}
.heatmap-row{display:flex;align-items:flex-start;margin:3px 0}
.row-label{flex:0 0 230px;font-size:12px;color:#333;padding-top:3px;overflow:hidden;text-overflow:ellipsis}
.tokens{display:flex;flex-wrap:wrap;gap:1px}
span.tok{font-family:'DejaVu Sans Mono',Menlo,monospace;font-size:13px;white-space:pre;padding:2px 1px;border-radius:2px}
span.tok.disagree{outline:2px solid #D55E00;outline-offset:1px}
#heatmap-legend{display:flex;align-items:center;gap:6px;font-size:12px}
#legend-bar{width:220px;height:12px;border:1px solid #999}
#disagreement,#item-heading{font-size:13px;color:#333;margin:4px 0}#item-heading{font-weight:bold}
.warn{color:#b00020}
#heatmap-controls label{font-size:13px;color:#333}
th .cond{font-weight:normal;color:#555}
@media print{#heatmap-controls input,#heatmap-controls select,#heatmap-controls label,button.metric-toggle{display:none}
th{position:static}th.sortable:after{content:none}table{font-size:10px}th,td{padding:2px 4px}body{max-width:none;padding:0}.scroll,figure{overflow:visible}
figure,tr,.heatmap-row{break-inside:avoid}h2{break-after:avoid}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
)css";

const char* kScript = R"js(
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  // Sortable summary table: numbers by data-sort, text otherwise.
  var table = document.getElementById('summary-table');
  Array.prototype.forEach.call(table.querySelectorAll('th.sortable'), function (th) {
    th.addEventListener('click', function () {
      var col = +th.dataset.col, asc = th.dataset.dir !== 'asc';
      th.dataset.dir = asc ? 'asc' : 'desc';
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
        var nx = parseFloat(x), ny = parseFloat(y), c;
        if (!isNaN(nx) && !isNaN(ny)) c = nx - ny; else c = String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });

  // Heat maps. Colour-blind-safe sequential scale (viridis), 0 .. the metric's maximum on the page.
  var viridis = [[68,1,84],[72,40,120],[62,74,137],[49,104,142],[38,130,142],[31,158,137],[53,183,121],[109,205,89],[180,222,44],[253,231,37]];
  function colour(v, max) {
    if (!isFinite(v)) return 'rgb(230,230,230)';
    var t = Math.max(0, Math.min(1, v / max)) * (viridis.length - 1), i = Math.min(Math.floor(t), viridis.length - 2), f = t - i;
    var c = viridis[i].map(function (a, k) { return Math.round(a + f * (viridis[i + 1][k] - a)); });
    return 'rgb(' + c[0] + ',' + c[1] + ',' + c[2] + ')';
  }
  function metric() { return document.body.dataset.metric; }
  function metricIndex(m) { return m === 'entropy' ? 2 : 3; }  // a token is [text, id, entropy_bits, surprisal_bits]
  function finite(v) { return typeof v === 'number' && isFinite(v); }  // NaN is null in the data
  function value(tok, m) { return parseFloat(m === 'entropy' ? tok.dataset.entropyBits : tok.dataset.surprisalBits); }
  var select = document.getElementById('item-select'), search = document.getElementById('item-search');
  var order = document.getElementById('item-order'), rowsBox = document.getElementById('heatmap-rows');
  var compareA = document.getElementById('compare-a'), compareB = document.getElementById('compare-b');
  [compareA, compareB].forEach(function (s) {
    s.appendChild(new Option('all models', ''));
    data.models.forEach(function (name) { s.appendChild(new Option(name, name)); });
  });
  function visible(s) { return s.replace(/ /g, '\u00b7').replace(/\n/g, '\u21b5').replace(/\t/g, '\u2192'); }
  // A unit's text in quotes for hover and captions: line breaks and tabs escaped, the rest as the
  // per-token file writes it (bytes outside UTF-8 are already \xNN there; JSON.stringify would double
  // their backslash).
  function quoted(s) { return '"' + s.replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r') + '"'; }
  // What is compared: two models (pair), one model against every other (anchor), or all models.
  function compared() {
    var a = compareA.value, b = compareB.value;
    if (a && b && a !== b) return {pair: [a, b], anchor: null};
    return {pair: null, anchor: a || b || null};
  }
  function shownRows(it) {
    var c = compared();
    return it.rows.filter(function (r) { return !c.pair || c.pair.indexOf(r.model) >= 0; });
  }
  // The largest difference between two compared models at one unit of an item, among the rows of one
  // condition with the same units (same tokenization): {spread, k, hi, lo} (hi and lo are rows), or
  // null. experiment/report_page.cpp's unit_spreads computes the same over all models.
  function largestGap(it, m) {
    var c = compared(), mi = metricIndex(m), groups = {}, best = null;
    shownRows(it).forEach(function (r) {
      var key = r.condition + '|' + r.tokens.map(function (t) { return t[1] + ':' + t[0]; }).join(',');
      (groups[key] = groups[key] || []).push(r);
    });
    Object.keys(groups).forEach(function (key) {
      var g = groups[key];
      var anchor = c.anchor ? g.filter(function (r) { return r.model === c.anchor; })[0] : null;
      if (g.length < 2 || (c.anchor && !anchor)) return;
      for (var k = 0; k < g[0].tokens.length; ++k) {
        var lo = null, hi = null;
        if (anchor) {  // the anchor against the model farthest from it
          var far = null;
          g.forEach(function (r) {
            if (r === anchor || !finite(r.tokens[k][mi]) || !finite(anchor.tokens[k][mi])) return;
            if (!far || Math.abs(r.tokens[k][mi] - anchor.tokens[k][mi]) > Math.abs(far.tokens[k][mi] - anchor.tokens[k][mi])) far = r;
          });
          if (far) { hi = far.tokens[k][mi] >= anchor.tokens[k][mi] ? far : anchor; lo = hi === far ? anchor : far; }
        } else {
          g.forEach(function (r) {
            if (!finite(r.tokens[k][mi])) return;
            if (!lo || r.tokens[k][mi] < lo.tokens[k][mi]) lo = r;
            if (!hi || r.tokens[k][mi] > hi.tokens[k][mi]) hi = r;
          });
        }
        if (!lo || lo === hi) continue;
        var spread = hi.tokens[k][mi] - lo.tokens[k][mi];
        if (!best || spread > best.spread) best = {spread: spread, k: k, hi: hi, lo: lo};
      }
    });
    return best;
  }
  function updateSpreads() {
    data.items.forEach(function (it) {
      it.spread = {};
      ['entropy', 'surprisal'].forEach(function (m) { var g = largestGap(it, m); it.spread[m] = g ? g.spread : 0; });
    });
  }
  function fill(filter) {
    var keep = select.value, byDisagreement = order.value === 'disagreement', m = metric();
    var idx = data.items.map(function (it, i) { return i; });
    if (byDisagreement) idx.sort(function (a, b) { return data.items[b].spread[m] - data.items[a].spread[m] || a - b; });
    select.innerHTML = '';
    idx.forEach(function (i) {
      var it = data.items[i];
      if (filter && it.id.toLowerCase().indexOf(filter) < 0) return;
      var o = document.createElement('option');
      o.value = String(i);
      o.textContent = it.id + ' \u2014 ' + (byDisagreement ? 'models differ by up to ' + it.spread[m].toFixed(3) + ' bits (' + m + ')'
                                                           : 'largest |\u0394| ' + it.delta.toFixed(3) + ' bits');
      select.appendChild(o);
    });
    if (keep && select.querySelector('option[value="' + keep + '"]')) select.value = keep;
  }
  function render() {
    rowsBox.innerHTML = '';
    var heading = document.getElementById('item-heading');
    if (select.value === '') { heading.textContent = ''; disagreement(); return; }
    var it = data.items[+select.value];
    heading.textContent = 'Item ' + it.id + ': largest |\u0394 ' + heading.dataset.measure + '| over the models ' +
                          it.delta.toFixed(3) + ' bits';
    shownRows(it).forEach(function (row) {
      var div = document.createElement('div');
      div.className = 'heatmap-row';
      div.dataset.model = row.model;
      div.dataset.condition = row.condition;
      div.row = row;
      var label = document.createElement('span');
      label.className = 'row-label';
      label.textContent = row.model + ' \u00b7 ' + row.condition;
      label.title = label.textContent;
      var toks = document.createElement('span');
      toks.className = 'tokens';
      row.tokens.forEach(function (t, k) {
        var s = document.createElement('span');
        s.className = 'tok';
        s.textContent = visible(t[0]);
        s.dataset.position = String(k);
        s.dataset.tokenId = String(t[1]);
        s.dataset.entropyBits = String(t[2]);
        s.dataset.surprisalBits = String(t[3]);
        s.title = quoted(t[0]) + (t[1] >= 0 ? '  id ' + t[1] : '') + '\nentropy_bits ' + Number(t[2]).toFixed(4) +
                  '\nsurprisal_bits ' + Number(t[3]).toFixed(4) + '\n' + row.model + ', ' + row.condition + ', unit ' + k;
        toks.appendChild(s);
      });
      div.appendChild(label);
      div.appendChild(toks);
      rowsBox.appendChild(div);
    });
    recolour();
  }
  function recolour() {
    var m = metric(), max = data.metric_max[m];
    Array.prototype.forEach.call(rowsBox.querySelectorAll('span.tok'), function (t) {
      var v = value(t, m);
      t.style.backgroundColor = colour(v, max);
      t.style.color = isFinite(v) && v / max < 0.6 ? '#fff' : '#111';
    });
    document.getElementById('legend-max').textContent = max.toFixed(1) + ' bits';
    document.getElementById('legend-name').textContent = m + '_bits';
    disagreement();
  }
  // Outlines and names the unit where the compared models disagree most on the current metric.
  function disagreement() {
    var m = metric(), out = document.getElementById('disagreement');
    Array.prototype.forEach.call(rowsBox.querySelectorAll('span.tok.disagree'), function (t) { t.classList.remove('disagree'); });
    if (select.value === '') { out.textContent = 'No item matches the filter.'; return; }
    var best = largestGap(data.items[+select.value], m);
    if (!best) { out.textContent = 'No two compared models share a tokenization of this item.'; return; }
    Array.prototype.forEach.call(rowsBox.querySelectorAll('.heatmap-row'), function (div) {
      if (div.row === best.hi || div.row === best.lo) div.querySelectorAll('span.tok')[best.k].classList.add('disagree');
    });
    var mi = metricIndex(m);
    out.textContent = 'Largest disagreement (' + m + '): unit ' + best.k + ' ' + quoted(visible(best.hi.tokens[best.k][0])) +
      ' in ' + best.hi.condition + ': ' + best.hi.model + ' ' + best.hi.tokens[best.k][mi].toFixed(3) + ' bits vs ' +
      best.lo.model + ' ' + best.lo.tokens[best.k][mi].toFixed(3) + ' bits (outlined).';
  }
  function setMetric(m) {
    document.body.dataset.metric = m;
    if (order.value === 'disagreement') fill(search.value.trim().toLowerCase());
    ['entropy', 'surprisal'].forEach(function (n) {
      document.getElementById('metric-' + n).setAttribute('aria-pressed', String(n === m));
    });
    recolour();
  }
  // A new order, or new models to compare under the disagreement order, shows the first item.
  function reorder() { fill(search.value.trim().toLowerCase()); select.selectedIndex = 0; render(); }
  document.getElementById('metric-entropy').addEventListener('click', function () { setMetric('entropy'); });
  document.getElementById('metric-surprisal').addEventListener('click', function () { setMetric('surprisal'); });
  select.addEventListener('change', render);
  order.addEventListener('change', reorder);
  [compareA, compareB].forEach(function (s) {
    s.addEventListener('change', function () {
      updateSpreads();
      if (order.value === 'disagreement') reorder(); else { fill(search.value.trim().toLowerCase()); render(); }
    });
  });
  search.addEventListener('input', function () { fill(search.value.trim().toLowerCase()); render(); });
  var bar = document.getElementById('legend-bar');
  bar.style.background = 'linear-gradient(to right,' + viridis.map(function (c) { return 'rgb(' + c.join(',') + ')'; }).join(',') + ')';
  updateSpreads();
  fill('');
  render();
})();
)js";

}  // namespace

namespace {

struct ContrastInfo {
  std::string name, plus, minus;
};

// A run folder as the page needs it: its summary, each model's results and per-unit values, and
// what the first model with results says about the experiment.
struct RunFolder {
  fs::path dir;
  json summary;  // scaling_summary.json
  std::vector<ModelData> models;
  std::vector<std::string> warnings;
  json first;  // the first model's results file that exists (every model's names the same experiment)
  json spec;
  std::string experiment;
  std::vector<std::string> conditions;
  std::vector<ContrastInfo> contrasts;
  std::vector<std::string> measures;  // "entropy_bits", "surprisal_bits" as reported
  std::vector<std::string> families;  // in the order of the models with results: colour and marker index
  int level_pct = 95;
  std::size_t family_index(const std::string& family) const {
    return static_cast<std::size_t>(std::find(families.begin(), families.end(), family) - families.begin());
  }
};

RunFolder read_run_folder(const fs::path& dir) {
  RunFolder run;
  run.dir = dir;
  const fs::path summary_file = dir / "scaling_summary.json";
  if (!fs::exists(summary_file))
    fail("{}: no scaling_summary.json: not the output folder of `entroscope run` (or the run has not finished a model)",
         dir.string());
  run.summary = read_json_file(summary_file);
  const json& summary = run.summary;
  if (!summary.is_object() || !summary.contains("models") || !summary["models"].is_array())
    fail("{}: not a scaling summary (no 'models' list)", summary_file.string());

  for (const json& m : summary["models"]) {
    ModelData d;
    d.summary = m;
    const std::string name = text(m, "model");
    if (text(m, "status") == "failed") {
      run.warnings.push_back(fmt::format("Failed: {}", text(m, "failure")));
    } else {
      const fs::path file = dir / text(m, "results_file");
      d.result = read_json_file(file);
      if (!d.result.is_object() || !d.result.contains("summary") || !d.result.contains("items"))
        fail("{}: not an entroscope results file", file.string());
      const std::string units_file = text(d.result, "per_token_file");
      if (units_file.empty()) {
        d.units_note = "no per-token file (run without a report or per_token; `entroscope run --force` writes one)";
      } else if (!fs::exists(dir / units_file)) {
        d.units_note = fmt::format("its per-token file {} is missing", units_file);
      } else {
        d.units = read_units(dir / units_file);
      }
      if (!d.units_note.empty()) run.warnings.push_back(fmt::format("{}: no heat maps: {}", name, d.units_note));
      const std::size_t windowed =
          d.result.contains("window") ? static_cast<std::size_t>(number(d.result["window"], "sequences_windowed", 0)) : 0;
      if (windowed > 0)
        run.warnings.push_back(fmt::format("{}: {} sequence(s) were longer than the model's context and scored in "
                                           "sliding windows", name, windowed));
      if (run.first.is_null()) run.first = d.result;
      const std::string family = text(m, "family");
      if (std::find(run.families.begin(), run.families.end(), family) == run.families.end())
        run.families.push_back(family);
    }
    run.models.push_back(std::move(d));
  }
  if (run.first.is_null()) fail("{}: every model failed: nothing to report", dir.string());

  const json& first = run.first;
  run.spec = first.at("experiment").at("spec");
  run.experiment = summary.contains("experiment") ? text(summary, "experiment") : text(first.at("experiment"), "name");
  for (const json& c : first.at("summary").at("conditions")) run.conditions.push_back(c.at("name").get<std::string>());
  for (const json& c : first.at("summary").at("contrasts"))
    run.contrasts.push_back(
        {c.at("name").get<std::string>(), c.at("plus").get<std::string>(), c.at("minus").get<std::string>()});
  for (const json& m : summary["models"]) {  // the first model with results names them
    const json contrasts_of = m.value("contrasts", json::object());
    if (contrasts_of.empty()) continue;
    for (const auto& [measure, v] : contrasts_of.begin()->items()) run.measures.push_back(measure);
    break;
  }
  if (run.measures.empty()) run.measures = {"entropy_bits"};
  run.level_pct = static_cast<int>(std::lround(number(summary, "confidence_level", 0.95) * 100));
  return run;
}

// The experiment, when and by what the page was written, and each model's provenance.
std::string header_html(const RunFolder& run) {
  const json& first = run.first;
  const json& spec = run.spec;
  const std::string& experiment = run.experiment;
  const std::vector<ModelData>& models = run.models;
  std::string h;
  auto add = [&](const std::string& s) { h += s; };
  // Header and models.
  const std::string spec_hash = io::hub::sha256_hex(spec.dump()).substr(0, 12);
  add("<header id=\"report-header\">\n");
  add(fmt::format("<h1>{}</h1>\n", xml(experiment)));
  if (spec.contains("description") && spec["description"].is_string())
    add(fmt::format("<p class=\"sub\">{}</p>\n", xml(spec["description"].get<std::string>())));
  add(fmt::format(
      "<p class=\"sub\">Experiment file <span class=\"mono\">{}</span> · spec hash <span class=\"mono\">{}</span> · "
      "data <span class=\"mono\">{}</span> ({} items, sha256 {}) · report written {} by entroscope {} ({})</p>\n",
      xml(text(first.at("experiment"), "file")), spec_hash,
      xml(text(first.at("data"), "file")), number(first.at("data"), "n_items", 0),
      xml(text(first.at("data"), "sha256").substr(0, 12)), utc_iso(std::chrono::system_clock::now()),
      ENTROSCOPE_VERSION, ENTROSCOPE_GIT_HASH));
  add("<div class=\"scroll\"><table id=\"models-table\"><thead><tr><th class=\"text\">model</th><th class=\"text\">family</th><th>parameters</th>"
      "<th class=\"text\">revision</th><th class=\"text\">weights dtype</th><th class=\"text\">device</th><th>threads</th>"
      "<th class=\"text\">entroscope</th><th class=\"text\">finished (UTC)</th><th class=\"text\">status</th></tr></thead><tbody>\n");
  for (const ModelData& d : models) {
    const json& m = d.summary;
    const json model = d.result.is_null() ? json::object() : d.result.value("model", json::object());
    const json run = d.result.is_null() ? json::object() : d.result.value("run", json::object());
    std::string revision = text(model, "commit");
    if (revision.empty()) revision = text(model, "revision");
    if (revision.empty()) revision = text(model, "source");
    std::string device = text(run, "device").empty() ? std::string("cpu") : text(run, "device");
    if (!text(run, "device_name").empty()) device += " (" + text(run, "device_name") + ")";
    // A failed model has no run block: its cells say so rather than show zeros.
    const std::string threads = run.contains("threads") ? fmt::format("{}", number(run, "threads", 0)) : "–";
    const std::string version = text(run, "entroscope_version").empty()
                                    ? std::string("–")
                                    : fmt::format("{} ({})", text(run, "entroscope_version"), text(run, "git_hash"));
    const std::string finished = text(run, "finished_utc").empty() ? std::string("–") : text(run, "finished_utc");
    add(fmt::format("<tr><td>{}</td><td class=\"text\">{}</td><td>{}</td><td class=\"text mono\">{}</td><td class=\"text\">{}</td>"
                    "<td class=\"text\">{}</td><td>{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td>"
                    "<td class=\"text{}\">{}</td></tr>\n",
                    xml(text(m, "model")), xml(text(m, "family")),
                    short_count(number(m, "params_total", 0)), xml(revision), xml(text(model, "storage_dtype")),
                    xml(device), threads, xml(version), xml(finished),
                    text(m, "status") == "failed" ? " warn" : "", xml(text(m, "status"))));
  }
  add("</tbody></table></div>\n");
  std::vector<std::string> failed;
  for (const ModelData& d : models)
    if (d.result.is_null()) failed.push_back(xml(text(d.summary, "model")));
  if (!failed.empty())  // said at the top too: a reader may never scroll to the warnings
    add(fmt::format("<p class=\"warn\" id=\"failed-models\">{} of {} models failed and have no numbers: {} (see "
                    "<a href=\"#warnings\">Warnings</a>).</p>\n",
                    failed.size(), models.size(), fmt::join(failed, ", ")));
  add("</header>\n");

  return h;
}

// Means per model and condition, and the contrasts with their intervals; sortable.
std::string summary_html(const RunFolder& run) {
  const std::vector<ModelData>& models = run.models;
  const std::vector<std::string>& conditions = run.conditions;
  const std::vector<std::string>& measures = run.measures;
  const std::vector<ContrastInfo>& contrasts = run.contrasts;
  const int level_pct = run.level_pct;
  std::string h;
  auto add = [&](const std::string& s) { h += s; };
  // Summary table.
  add("<section id=\"summary\">\n<h2>Summary</h2>\n");
  add(fmt::format("<p class=\"sub\">Means over items (bits); Δ = difference of the paired item means, with its {}% paired "
                  "bootstrap interval over items. Click a column to sort.</p>\n",
                  level_pct));
  add("<div class=\"scroll\"><table id=\"summary-table\"><thead><tr>");
  int col = 0;
  auto th = [&](const std::string& label, bool text = false) {
    add(fmt::format("<th class=\"sortable{}\" data-col=\"{}\">{}</th>", text ? " text" : "", col++, label));
  };
  th("model", true);
  th("family", true);
  th("parameters");
  for (const std::string& c : conditions)
    for (const std::string& m : measures) th(fmt::format("{}<br><span class=\"cond\">{}</span>", xml(measure_name(m)), xml(c)));
  for (const ContrastInfo& c : contrasts)
    for (const std::string& m : measures)
      th(fmt::format("Δ {}<br><span class=\"cond\">{}</span>", xml(measure_name(m)), xml(c.name)));
  add("</tr></thead><tbody>\n");
  for (const ModelData& d : models) {
    const json& m = d.summary;
    add(fmt::format("<tr><td data-sort=\"{0}\">{0}</td><td class=\"text\" data-sort=\"{1}\">{1}</td><td data-sort=\"{2}\">{3}</td>",
                    xml(text(m, "model")), xml(text(m, "family")),
                    num_attr(number(m, "params_total", 0)), short_count(number(m, "params_total", 0))));
    const json conds = m.value("conditions", json::object()), cons = m.value("contrasts", json::object());
    for (const std::string& c : conditions)
      for (const std::string& ms : measures) {
        const json v = conds.contains(c) && conds[c].contains(ms) ? conds[c][ms] : json::object();
        if (!v.contains("mean")) {
          add("<td data-sort=\"\">–</td>");
          continue;
        }
        add(fmt::format("<td data-sort=\"{}\">{}</td>", num_attr(v["mean"].get<double>()), plain3(v["mean"].get<double>())));
      }
    for (const ContrastInfo& c : contrasts)
      for (const std::string& ms : measures) {
        const json v = cons.contains(c.name) && cons[c.name].contains(ms) ? cons[c.name][ms] : json::object();
        if (!v.contains("delta")) {
          add("<td data-sort=\"\">–</td>");
          continue;
        }
        const double delta = v["delta"].get<double>();
        std::string hover = fmt::format("token-weighted {}", fixed3(number(v, "token_weighted")));
        if (v.contains("p_value") && v["p_value"].is_number()) hover += fmt::format(", p = {:.3g}", v["p_value"].get<double>());
        add(fmt::format("<td data-sort=\"{}\" title=\"{}\">{} [{}, {}]</td>", num_attr(delta), xml(hover),
                        signed_fixed(delta, 3), signed_fixed(number(v, "ci_low"), 3),
                        signed_fixed(number(v, "ci_high"), 3)));
      }
    add("</tr>\n");
  }
  add("</tbody></table></div>\n</section>\n");

  return h;
}

std::string scaling_html(const RunFolder& run) {
  const std::vector<ContrastInfo>& contrasts = run.contrasts;
  const fs::path& dir = run.dir;
  const int level_pct = run.level_pct;
  std::string h;
  auto add = [&](const std::string& s) { h += s; };
  // Scaling plots: the files run wrote.
  add("<section id=\"scaling\">\n<h2>Scaling</h2>\n");
  for (const ContrastInfo& c : contrasts) {
    const fs::path svg_file = dir / ("scaling_" + contrast_slug(c.name) + ".svg");
    add("<figure class=\"scaling-plot\">\n");
    if (fs::exists(svg_file)) {
      std::string svg = read_text_file(svg_file);
      if (svg.rfind("<?xml", 0) == 0) svg.erase(0, svg.find('\n') + 1);
      add(svg);
    } else {
      add(fmt::format("<p class=\"warn\">{} is missing.</p>", xml(svg_file.filename().string())));
    }
    add(fmt::format("<figcaption>Δ {} per model against parameters (log scale): one colour and marker per family, "
                    "{}% intervals, dashed: the family's least-squares line. Hover a point for its numbers.</figcaption>\n"
                    "</figure>\n",
                    xml(c.name), level_pct));
  }
  add("</section>\n");
  return h;
}

// A forest plot per contrast and measure: every model's Δ with its interval.
std::string forest_html(const RunFolder& run) {
  std::string h;
  auto add = [&](const std::string& s) { h += s; };
  add("<section id=\"forest\">\n<h2>Every contrast per model</h2>\n<div class=\"charts\">\n");
  for (const ContrastInfo& c : run.contrasts)
    for (const std::string& ms : run.measures) {
      std::vector<plot::ForestRow> rows;
      for (const ModelData& d : run.models) {
        const json& m = d.summary;
        const json cons = m.value("contrasts", json::object());
        if (!cons.contains(c.name) || !cons[c.name].contains(ms)) continue;
        const json& v = cons[c.name][ms];
        const std::string name = text(m, "model");
        rows.push_back({name, number(v, "delta"), number(v, "ci_low"), number(v, "ci_high"),
                        run.family_index(text(m, "family")),
                        fmt::format("{} ({}): Δ {} {} [{}, {}] bits, {} items", name, text(m, "family"),
                                    measure_name(ms), signed_fixed(number(v, "delta"), 3),
                                    signed_fixed(number(v, "ci_low"), 3), signed_fixed(number(v, "ci_high"), 3),
                                    number(m, "n_items", 0))});
      }
      add("<figure class=\"forest-plot\">" +
          plot::forest_svg(fmt::format("Δ {}: {}", measure_name(ms), c.name), fmt::format("Δ {} (bits)", measure_name(ms)),
                           rows) +
          "</figure>\n");
    }
  add("</div>\n</section>\n");
  return h;
}

// Per model, a histogram of the items' Δ (from the item values in its results file).
std::string distributions_html(const RunFolder& run) {
  std::string h;
  auto add = [&](const std::string& s) { h += s; };
  add("<section id=\"distributions\">\n<h2>Per-item differences</h2>\n");
  add("<p class=\"sub\">Each item's Δ (its mean over measured units in one condition minus the other); the black line is "
      "the mean over items.</p>\n");
  for (const ContrastInfo& c : run.contrasts)
    for (const std::string& ms : run.measures) {
      add("<div class=\"charts\">\n");
      for (const ModelData& d : run.models) {
        if (d.result.is_null()) continue;
        std::vector<double> deltas;
        for (const json& item : d.result.at("items")) {
          if (!item.contains(c.plus) || !item.contains(c.minus)) continue;
          const json& p = item[c.plus];
          const json& q = item[c.minus];
          if (p.contains(ms) && q.contains(ms) && p[ms].is_number() && q[ms].is_number())
            deltas.push_back(p[ms].get<double>() - q[ms].get<double>());
        }
        const std::string name = text(d.summary, "model");
        add("<figure class=\"item-histogram\">" +
            plot::histogram_svg(fmt::format("{}: Δ {} ({} items)", name, measure_name(ms), deltas.size()),
                                fmt::format("Δ {} per item (bits), {}", measure_name(ms), c.name), deltas, 24,
                                run.family_index(text(d.summary, "family"))) +
            "</figure>\n");
      }
      add("</div>\n");
    }
  add("</section>\n");
  return h;
}

// The items the heat maps embed: all of them, or for a large run the largest |Δ| (first contrast,
// first measure, over the models) first, then where models disagree most on one unit (per metric),
// then a sample spread evenly over the rest in data order.
struct EmbeddedItems {
  std::vector<std::string> ids;       // in the order above
  std::map<std::string, double> delta;  // item -> largest |Δ| over the models
  std::size_t total = 0, by_delta = 0, by_disagreement = 0;
  ReportLimits limits;            // as applied: scaled down to the unit-value budget when needed
  bool budget_limited = false;
};
EmbeddedItems embedded_items(const RunFolder& run, const ReportLimits& requested) {
  EmbeddedItems e;
  e.limits = requested;
  ReportLimits& limits = e.limits;
  std::vector<std::string> item_order;  // data order
  if (!run.contrasts.empty()) {
    const ContrastInfo& c = run.contrasts.front();
    const std::string& ms = run.measures.front();
    for (const ModelData& d : run.models) {
      if (d.result.is_null()) continue;
      for (const json& item : d.result.at("items")) {
        const std::string id = text(item, "id");
        if (!e.delta.count(id)) item_order.push_back(id);
        double& best = e.delta[id];
        if (item.contains(c.plus) && item.contains(c.minus) && item[c.plus].contains(ms) && item[c.minus].contains(ms))
          best = std::max(best, std::fabs(item[c.plus][ms].get<double>() - item[c.minus][ms].get<double>()));
      }
    }
  }
  e.total = item_order.size();
  // The page grows with items x models x conditions x units: a series of 160 checkpoints would put
  // 30 MB of unit values on the page for 200 items. Past the budget every category shrinks alike.
  std::size_t unit_values = 0;
  for (const ModelData& d : run.models)
    for (const auto& [item, per_condition] : d.units)
      for (const auto& [condition, units] : per_condition) unit_values += units.size();
  const double per_item = e.total > 0 ? static_cast<double>(unit_values) / static_cast<double>(e.total) : 0;
  const std::size_t planned =
      std::min(e.total, limits.top_items + 2 * limits.disagreement_items + limits.sample_items);
  if (per_item > 0 && static_cast<double>(planned) * per_item > static_cast<double>(limits.max_unit_values)) {
    const double fit = static_cast<double>(limits.max_unit_values) / per_item /
                       static_cast<double>(limits.top_items + 2 * limits.disagreement_items + limits.sample_items);
    auto shrink = [&](std::size_t n) { return static_cast<std::size_t>(std::floor(static_cast<double>(n) * fit)); };
    limits.top_items = std::max<std::size_t>(1, shrink(limits.top_items));
    limits.disagreement_items = shrink(limits.disagreement_items);
    limits.sample_items = shrink(limits.sample_items);
    e.budget_limited = true;
  }
  std::vector<std::string> ranked = item_order;
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](const std::string& a, const std::string& b) { return e.delta[a] > e.delta[b]; });
  e.by_delta = std::min(ranked.size(), limits.top_items);
  e.ids.assign(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(e.by_delta));
  if (ranked.size() == e.ids.size()) return e;
  std::set<std::string> in_page(e.ids.begin(), e.ids.end());
  const std::map<std::string, UnitSpread> spreads = unit_spreads(run.models, run.conditions);
  for (double UnitSpread::*metric : {&UnitSpread::entropy, &UnitSpread::surprisal}) {
    std::vector<std::string> by_spread;
    for (const std::string& id : item_order)
      if (auto it = spreads.find(id); it != spreads.end() && it->second.*metric > 0) by_spread.push_back(id);
    std::stable_sort(by_spread.begin(), by_spread.end(), [&](const std::string& a, const std::string& b) {
      return spreads.at(a).*metric > spreads.at(b).*metric;
    });
    by_spread.resize(std::min(by_spread.size(), limits.disagreement_items));
    for (const std::string& id : by_spread)
      if (in_page.insert(id).second) e.ids.push_back(id), ++e.by_disagreement;
  }
  std::vector<std::string> rest;
  for (const std::string& id : item_order)
    if (!in_page.count(id)) rest.push_back(id);
  const std::size_t n = std::min(rest.size(), limits.sample_items);
  for (std::size_t k = 0; k < n; ++k) e.ids.push_back(rest[k * rest.size() / n]);
  return e;
}

// The heat maps' controls; their data (the embedded items) goes to page_data.
std::string heatmaps_html(const RunFolder& run, const ReportLimits& limits, json& page_data) {
  const std::vector<ModelData>& models = run.models;
  const std::vector<std::string>& conditions = run.conditions;
  const std::vector<std::string>& measures = run.measures;
  const std::vector<ContrastInfo>& contrasts = run.contrasts;
  const json& spec = run.spec;
  std::string h;
  auto add = [&](const std::string& s) { h += s; };
  const EmbeddedItems embedded = embedded_items(run, limits);
  // One row per condition and model, conditions first, so that the models' rows of one condition
  // stand under each other and compare unit by unit.
  json items = json::array();
  json heatmap_models = json::array();
  for (const ModelData& d : models)
    if (!d.units.empty()) heatmap_models.push_back(text(d.summary, "model"));
  double max_entropy = 1, max_surprisal = 1;
  for (const std::string& id : embedded.ids) {
    json rows = json::array();
    for (const std::string& c : conditions)
      for (const ModelData& d : models) {
        auto it = d.units.find(id);
        if (it == d.units.end()) continue;
        auto ct = it->second.find(c);
        if (ct == it->second.end()) continue;
        json toks = json::array();
        for (const MeasuredUnit& u : ct->second) {
          toks.push_back({u.text, u.id, r4(u.entropy), r4(u.surprisal)});
          if (std::isfinite(u.entropy)) max_entropy = std::max(max_entropy, u.entropy);
          if (std::isfinite(u.surprisal)) max_surprisal = std::max(max_surprisal, u.surprisal);
        }
        rows.push_back({{"model", text(d.summary, "model")}, {"condition", c}, {"tokens", toks}});
      }
    if (!rows.empty()) items.push_back({{"id", id}, {"delta", r4(embedded.delta.at(id))}, {"rows", rows}});
  }
  page_data = {{"items", items},
               {"models", heatmap_models},
               {"metric_max", {{"entropy", std::ceil(max_entropy)}, {"surprisal", std::ceil(max_surprisal)}}}};

  const bool words = spec.contains("unit") && spec["unit"] == "word";
  add(fmt::format("<section id=\"heatmaps\">\n<h2>Per-{} heat maps</h2>\n", words ? "word" : "token"));
  add(fmt::format(
      "<p class=\"sub\">The measured units of one item, one row per condition and model, coloured by the chosen metric "
      "(bits). Items are listed by their largest |Δ {}| over the models ({}), or by where the compared models disagree "
      "most on one unit{}. Compare all models, one against the others, or two; the outlined unit is where the compared "
      "models disagree most (only models with the same tokenization of the item compare). Hover a unit for its text, id "
      "and values.</p>\n",
      contrasts.empty() ? std::string() : measure_name(measures.front()), contrasts.empty() ? "" : xml(contrasts.front().name),
      embedded.total > embedded.ids.size()
          ? fmt::format("; the page holds {} of the {} items: the {} with the largest |Δ|, {} more among the {} where "
                        "models disagree most in entropy and the {} in surprisal, and {} spread evenly over the rest "
                        "(all of them are in the per-token files)",
                        embedded.ids.size(), embedded.total, embedded.by_delta, embedded.by_disagreement,
                        embedded.limits.disagreement_items, embedded.limits.disagreement_items,
                        embedded.ids.size() - embedded.by_delta - embedded.by_disagreement) +
                (embedded.budget_limited
                     ? fmt::format("; with {} models, fewer items keep the page near {} unit values",
                                   run.models.size(), thousands(embedded.limits.max_unit_values))
                     : std::string())
          : std::string()));
  add("<div id=\"heatmap-controls\"><input id=\"item-search\" type=\"search\" placeholder=\"filter items by id\" "
      "aria-label=\"filter items\"><select id=\"item-order\" aria-label=\"order of the items\">"
      "<option value=\"delta\">items by largest |Δ|</option><option value=\"disagreement\">items by disagreement"
      "</option></select><select id=\"item-select\" aria-label=\"item\"></select>"
      "<label>compare <select id=\"compare-a\" aria-label=\"compare this model\"></select></label>"
      "<label>with <select id=\"compare-b\" aria-label=\"with this model\"></select></label>"
      "<button id=\"metric-entropy\" class=\"metric-toggle\" aria-pressed=\"true\">entropy</button>"
      "<button id=\"metric-surprisal\" class=\"metric-toggle\" aria-pressed=\"false\">surprisal</button>"
      "<span id=\"heatmap-legend\"><span id=\"legend-name\">entropy_bits</span> 0 <span id=\"legend-bar\"></span> "
      "<span id=\"legend-max\"></span></span></div>\n");
  add(fmt::format("<p id=\"item-heading\" data-measure=\"{}\"></p><p id=\"disagreement\"></p>\n"
                  "<div id=\"heatmap-rows\"></div>\n</section>\n",
                  contrasts.empty() ? std::string() : measure_name(measures.front())));

  return h;
}

std::string provenance_html(const RunFolder& run) {
  const json& summary = run.summary;
  const fs::path& dir = run.dir;
  const json& spec = run.spec;
  const std::vector<std::string>& warnings = run.warnings;
  std::string h;
  auto add = [&](const std::string& s) { h += s; };
  // Provenance and warnings.
  add("<section id=\"provenance\">\n<h2>Provenance</h2>\n<ul>\n");
  add(fmt::format("<li>Intervals: {} ({} resamples, seed {}).</li>\n", xml(text(summary, "interval_method")),
                  number(summary, "bootstrap_samples", 0), number(summary, "seed", 0)));
  add(fmt::format("<li>Scaling axis: {}.</li>\n", xml(text(summary, "x_axis"))));
  add(fmt::format("<li>Results folder: <span class=\"mono\">{}</span>; per model its results file (JSON), analysis, "
                  "per-token file and log.</li>\n",
                  xml(fs::absolute(dir).lexically_normal().string())));
  add(fmt::format("<li>Spec (canonical): <span class=\"mono\">{}</span></li>\n", xml(spec.dump())));
  add("</ul>\n</section>\n<section id=\"warnings\">\n<h2>Warnings</h2>\n");
  if (warnings.empty()) {
    add("<p>None: every model finished, with every number finite.</p>\n");
  } else {
    add("<ul>\n");
    for (const std::string& w : warnings) add(fmt::format("<li class=\"warn\">{}</li>\n", xml(w)));
    add("</ul>\n");
  }
  add("</section>\n");
  return h;
}

std::string build_page(const fs::path& dir, const ReportLimits& limits) {
  const RunFolder run = read_run_folder(dir);
  json page_data;
  const std::string heatmaps = heatmaps_html(run, limits, page_data);
  std::string h;
  auto add = [&](const std::string& s) { h += s; };
  add("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
  add(fmt::format("<title>{} — entroscope report</title>\n<style>{}</style>\n</head>\n<body data-metric=\"entropy\">\n",
                  xml(run.experiment), kStyle));
  add(header_html(run));
  add(summary_html(run));
  add(scaling_html(run));
  add(forest_html(run));
  add(distributions_html(run));
  add(heatmaps);
  add(provenance_html(run));
  // The heat maps' data ('<' escaped so that no string can close the script element).
  std::string data_text = page_data.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string safe;
  safe.reserve(data_text.size());
  for (char ch : data_text) safe += ch == '<' ? std::string("\\u003c") : std::string(1, ch);
  add("<script type=\"application/json\" id=\"report-data\">" + safe + "</script>\n");
  add(fmt::format("<script>{}</script>\n</body>\n</html>\n", kScript));
  return h;
}

}  // namespace

std::string report_html(const fs::path& dir, const ReportLimits& limits) {
  try {
    return build_page(dir, limits);
  } catch (const nlohmann::json::exception& e) {
    // A results file that parses but lacks a field or has the wrong type (edited by hand, or of
    // another format): one line naming the folder and what is wrong.
    fail("{}: a results file is not as `entroscope run` writes it: {}", dir.string(), e.what());
  }
}

fs::path write_report(const fs::path& results_dir, const fs::path& out_file, const ReportLimits& limits) {
  const fs::path page = out_file.empty() ? results_dir / "report.html" : out_file;
  write_file_atomic(page, report_html(results_dir, limits));
  return page;
}

}  // namespace entroscope::experiment
