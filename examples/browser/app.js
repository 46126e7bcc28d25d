// The page: a drawing pad (pointer events: finger, pen or mouse), the drawing classified once per
// animation frame while it changes, the prediction with the ten probabilities, the model's size,
// memory and latency, and (for an elastic artifact) a memory-budget slider that reloads the same
// artifact at the width that fits.
//
// `window.demo` mirrors what the page shows (and the exact 28x28 input of the last run) so a test,
// or a curious person in the console, can read it. `?wasm=simd` picks the kernel build (default
// 'auto': relaxed SIMD where the browser has it).
import { mnistInput, SIDE } from './preprocess.js';
import { DigitModel, argmax, loadAssets, softmax } from './model.js';

/** Brush width as a share of the pad's side: a digit drawn across most of the pad gets MNIST's stroke (2-3 px of 20). */
const BRUSH = 0.075;
/** Backing pixels per CSS pixel are capped: preprocessing needs no more, and a phone at 3x would read 9x the pixels per frame. */
const MAX_SCALE = 2;

const $ = (id) => document.getElementById(id);
const wasm = new URLSearchParams(location.search).get('wasm') ?? 'auto';

const demo = {
  ready: false,
  /** A drawing change is waiting for, or in, a run. */
  busy: false,
  /** A budget change is being applied (session reload, level measurements). */
  reloading: false,
  runs: 0,
  input: null,
  logits: null,
  probabilities: null,
  prediction: null,
  modelBytes: 0,
  kernels: null,
  accuracy: null,
  elastic: null,
  budget: null,
  level: null,
  levels: {},
  error: null,
};
window.demo = demo;

// ---------------------------------------------------------------- status and formatting

function status(text, error = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
  if (error) demo.error = text;
}

const kB = (n) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MB` : `${(n / 1024).toFixed(1)} kB`);
const bytes = (n) => `${n.toLocaleString('en-US')} bytes`;
const pct = (v) => `${(100 * v).toFixed(1)}%`;
const ms = (v) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms` : '–');

// ---------------------------------------------------------------- the drawing pad

let model = null;
/** Live classification: the pending animation frame, a change not yet classified, a run in flight. */
let frame = 0;
let dirty = false;
let running = false;

const pad = $('pad');
const ink = pad.getContext('2d', { willReadFrequently: true });
/** Strokes as points in 0..1 of the pad, so the drawing survives a resize (rotating a phone). */
const strokes = [];
let stroke = null;

function setBrush() {
  ink.lineWidth = pad.width * BRUSH;
  ink.lineCap = 'round';
  ink.lineJoin = 'round';
  ink.strokeStyle = '#fff';
  ink.fillStyle = '#fff';
}

function dot(p) {
  ink.beginPath();
  ink.arc(p.x * pad.width, p.y * pad.height, ink.lineWidth / 2, 0, 2 * Math.PI);
  ink.fill();
}

function segment(a, b) {
  ink.beginPath();
  ink.moveTo(a.x * pad.width, a.y * pad.height);
  ink.lineTo(b.x * pad.width, b.y * pad.height);
  ink.stroke();
}

function redraw() {
  ink.clearRect(0, 0, pad.width, pad.height);
  setBrush();
  for (const s of strokes) {
    if (s.length === 1) dot(s[0]);
    else {
      ink.beginPath();
      ink.moveTo(s[0].x * pad.width, s[0].y * pad.height);
      for (const p of s.slice(1)) ink.lineTo(p.x * pad.width, p.y * pad.height);
      ink.stroke();
    }
  }
}

function resize() {
  const side = Math.max(1, Math.round(pad.clientWidth * Math.min(window.devicePixelRatio || 1, MAX_SCALE)));
  if (pad.width === side && pad.height === side) return;
  pad.width = pad.height = side;
  redraw();
  changed();
}
new ResizeObserver(resize).observe(pad);
resize();

function point(e) {
  const r = pad.getBoundingClientRect();
  return { x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height };
}

pad.addEventListener('pointerdown', (e) => {
  if (e.pointerType === 'mouse' && e.button !== 0) return;
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  const p = point(e);
  stroke = { id: e.pointerId, points: [p] };
  strokes.push(stroke.points);
  dot(p);
  changed();
});

pad.addEventListener('pointermove', (e) => {
  if (!stroke || e.pointerId !== stroke.id) return;
  // the points the browser merged into this event since the last frame: smoother fast strokes
  for (const c of e.getCoalescedEvents?.() ?? [e]) {
    const p = point(c);
    segment(stroke.points[stroke.points.length - 1], p);
    stroke.points.push(p);
  }
  changed();
});

const endStroke = (e) => {
  if (stroke && e.pointerId === stroke.id) stroke = null;
};
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);

$('clear').addEventListener('click', () => {
  strokes.length = 0;
  stroke = null;
  redraw();
  changed();
});

// ---------------------------------------------------------------- live classification

/** The drawing (or the model) changed: classify on the next animation frame, at most once per frame. */
function changed() {
  dirty = true;
  demo.busy = true;
  if (!frame && !running) frame = requestAnimationFrame(classify);
}

async function classify() {
  frame = 0;
  if (!model?.session) return; // the first run after loading picks the drawing up
  running = true;
  dirty = false;
  try {
    const x = mnistInput(ink.getImageData(0, 0, pad.width, pad.height).data, pad.width, pad.height);
    showSeen(x);
    if (!x) showEmpty();
    else {
      const { logits } = await model.run(x);
      show(x, logits);
    }
  } catch (e) {
    status(`classifying failed: ${e.message}`, true);
  } finally {
    running = false;
  }
  if (dirty) frame = requestAnimationFrame(classify);
  else demo.busy = false;
}

const seen = $('seen').getContext('2d');
const seenPixels = seen.createImageData(SIDE, SIDE);

function showSeen(x) {
  for (let i = 0; i < SIDE * SIDE; i++) {
    const v = x ? Math.round(x[i] * 255) : 0;
    seenPixels.data.set([v, v, v, 255], i * 4);
  }
  seen.putImageData(seenPixels, 0, 0);
}

const bars = $('bars');
for (let d = 0; d < 10; d++) {
  const li = document.createElement('li');
  li.innerHTML = `<span class="track"><span class="bar"></span></span><span class="digit">${d}</span><span class="pct">0%</span>`;
  bars.append(li);
}

function show(x, logits) {
  const p = softmax(logits);
  const top = argmax(p);
  Array.from(bars.children).forEach((li, d) => {
    li.style.setProperty('--p', String(p[d]));
    li.classList.toggle('top', d === top);
    li.querySelector('.pct').textContent = `${Math.round(100 * p[d])}%`;
    li.setAttribute('aria-label', `${d}: ${pct(p[d])}`);
  });
  $('prediction').textContent = String(top);
  $('confidence').textContent = `${pct(p[top])} sure`;
  const n = model.recent.length;
  $('latency').textContent = `${ms(model.latencyMs())} per digit (${n === 1 ? 'the last run' : `median of the last ${n} runs`})`;
  Object.assign(demo, { input: Array.from(x), logits, probabilities: p, prediction: top, runs: demo.runs + 1 });
}

function showEmpty() {
  Array.from(bars.children).forEach((li) => {
    li.style.setProperty('--p', '0');
    li.classList.remove('top');
    li.querySelector('.pct').textContent = '0%';
  });
  $('prediction').textContent = '?';
  $('confidence').textContent = 'draw a digit';
  Object.assign(demo, { input: null, logits: null, probabilities: null, prediction: null });
}

// ---------------------------------------------------------------- the model, its figures and the budget slider

let assets = null;

function showModel(info) {
  const file = assets.model.length;
  const level = info.elastic ? info.elastic.levels[info.elastic.level] : null;
  $('size').textContent = `${bytes(file)} (${pct(file / assets.meta.denseBytes)} of the dense ${bytes(assets.meta.denseBytes)})` +
    (level && level.bytes < file ? `; ${bytes(level.bytes)} read at this width` : '');
  $('memory').textContent = `${kB(info.weightBytes + info.plannedPeakBytes)}: ${kB(info.weightBytes)} weights + ${kB(info.plannedPeakBytes)} activations`;
  demo.modelBytes = file;
  demo.kernels = info.kernels;
  demo.memoryBytes = info.weightBytes + info.plannedPeakBytes;
}

/** Accuracy and speed of the loaded session: the artifact's own accuracy when it has one, otherwise measured here on the bundled digits. */
async function measure(info) {
  const index = info.elastic ? info.elastic.level : 0;
  const known = demo.levels[index];
  if (known) return known;
  const stored = info.elastic?.levels[index].accuracy;
  const speed = await model.speed(assets.digits.pixels.subarray(0, 784));
  const accuracy = speed === null ? null : stored ?? (await model.accuracy(assets.digits));
  if (accuracy === null) return null; // the budget moved on meanwhile
  const figures = { accuracy, accuracySource: stored === undefined ? 'measured' : 'artifact', speedMs: speed };
  demo.levels[index] = figures;
  return figures;
}

function showAccuracy(figures) {
  const src = figures.accuracySource === 'measured' ? `on ${assets.digits.count} MNIST test digits, measured here` : 'on MNIST test digits, recorded in the artifact when it was fitted';
  $('accuracy').textContent = `${pct(figures.accuracy)} ${src}`;
  demo.accuracy = figures.accuracy;
}

/**
 * The wasm memory a width takes, as the artifact records it (whole 64 KiB pages: kernels' data,
 * weights, arena): what memoryBudget is compared with. Unmeasured: weights + arena.
 */
const memoryOf = (level) => level.memoryBytes || level.weightBytes + level.peakBytes;

function setUpSlider(elastic) {
  const step = 1024;
  const budgets = [...new Set(elastic.levels.map((l) => Math.ceil(memoryOf(l) / step) * step))].sort((a, b) => a - b);
  const slider = $('budget-slider');
  slider.min = String(budgets[0]);
  slider.max = String(budgets[budgets.length - 1]);
  slider.step = String(step);
  slider.value = slider.max;
  $('budget-levels').innerHTML = budgets.map((b) => `<option value="${b}"></option>`).join('');
  $('budget').hidden = false;
  demo.elastic = elastic;

  let wanted = null;
  let applying = false;
  const apply = async () => {
    if (applying) return;
    applying = true;
    demo.reloading = true;
    try {
      while (wanted !== null) {
        const budget = wanted;
        wanted = null;
        const info = await model.load(budget);
        demo.budget = budget;
        showLevel(info, null);
        showModel(info);
        changed(); // the drawing, classified at the new width
        if (wanted === null) {
          const figures = await measure(info);
          if (figures && wanted === null) showLevel(info, figures);
        }
      }
    } catch (e) {
      status(`reloading at ${kB(Number(slider.value))} failed: ${e.message}`, true);
    } finally {
      applying = false;
      demo.reloading = wanted !== null;
    }
  };
  slider.addEventListener('input', () => {
    wanted = Number(slider.value);
    $('budget-value').textContent = kB(wanted);
    apply();
  });
  $('budget-value').textContent = kB(Number(slider.value));
}

function showLevel(info, figures) {
  const { level, levels } = info.elastic;
  const l = levels[level];
  const full = levels.reduce((a, b) => (b.channels > a.channels ? b : a));
  const fullIndex = levels.indexOf(full);
  $('level').textContent = `${level + 1} of ${levels.length}: ${+(100 * l.channels).toFixed(1)}% of the channels`;
  $('level-memory').textContent = `${kB(memoryOf(l))} of wasm memory (${kB(l.weightBytes)} weights, ${kB(l.peakBytes)} activations); reads ${kB(l.bytes)} of the ${kB(assets.model.length)} file`;
  demo.level = { index: level, ...l, memoryBytes: memoryOf(l) };
  showLevels(levels, level);
  if (!figures) {
    $('level-accuracy').textContent = 'measuring…';
    $('level-speed').textContent = 'measuring…';
    return;
  }
  const ref = demo.levels[fullIndex];
  const other = ref && level !== fullIndex;
  const points = other ? (figures.accuracy - ref.accuracy) * 100 : 0;
  $('level-accuracy').textContent = pct(figures.accuracy) + (other ? ` (${points < 0 ? '\u2212' : '+'}${Math.abs(points).toFixed(1)} pt vs the full width)` : '');
  $('level-speed').textContent = `${ms(figures.speedMs)} per digit` + (other ? ` (${(ref.speedMs / figures.speedMs).toFixed(1)}x as fast as the full width)` : '');
  demo.level = { index: level, ...l, memoryBytes: memoryOf(l), ...figures };
  showLevels(levels, level);
  showAccuracy(figures);
}

/** Every width at a glance: what the budget buys (accuracy recorded in the artifact or measured here, speed once measured). */
function showLevels(levels, current) {
  $('levels').innerHTML = levels.map((l, i) => {
    const known = demo.levels[i];
    const accuracy = l.accuracy ?? known?.accuracy;
    return `<tr${i === current ? ' class="current" aria-current="true"' : ''}><td>${+(100 * l.channels).toFixed(1)}%</td><td>${kB(memoryOf(l))}</td>` +
      `<td>${kB(l.bytes)}</td><td>${accuracy === undefined ? '–' : pct(accuracy)}</td><td>${known ? ms(known.speedMs) : '–'}</td></tr>`;
  }).join('');
}

async function start() {
  status('loading the runtime and the model…');
  let runtime;
  try {
    runtime = await import('edgeprune/runtime/dynamic');
  } catch (e) {
    status(`could not load edgeprune/runtime/dynamic (${e.message}): build it with npm run build, and serve the repository root (node examples/browser/serve.mjs)`, true);
    return;
  }
  try {
    assets = await loadAssets(new URL('model/', location.href));
    model = new DigitModel(runtime, assets.model, { wasm });
    const info = await model.load(undefined);
    showModel(info);
    if (info.elastic) {
      setUpSlider(info.elastic);
      showLevel(info, null);
    }
    status(`${info.kernels === 'relaxed' ? 'relaxed SIMD' : 'SIMD'} kernels · ${assets.meta.architecture}`);
    // for the console and the test: accuracy of the loaded width on the bundled digits, measured here
    demo.measureAccuracy = () => model.accuracy(assets.digits);
    demo.ready = true;
    changed();
    const figures = await measure(info);
    if (figures) {
      showAccuracy(figures);
      if (info.elastic && !demo.reloading) showLevel(info, figures);
    }
  } catch (e) {
    status(e instanceof runtime.EdgepruneError ? `${e.name}: ${e.message}` : e.message, true);
  }
}

start();
