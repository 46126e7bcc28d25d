// The model side of the page: fetching the artifact and the bundled test digits, one inference
// session at a time (reloaded at another width when the memory budget changes), the latency of
// recent runs, and accuracy and speed measured in the page.
//
// Every run goes through one queue: a reload, an accuracy pass and the drawing's live runs never
// overlap, and a run never reaches a session that is being released.

/** Runs kept for the latency figure (its median). */
const RECENT = 15;

/** Fetches bytes, with an error that says what to do when the file is missing. */
async function fetchBytes(url, hint) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`could not fetch ${url} (${e.message}); ${hint}`);
  }
  if (!res.ok) throw new Error(`${url} gave HTTP ${res.status}; ${hint}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** gunzip in the browser (DecompressionStream); bytes that are not gzip (a server that already decoded them) pass through. */
async function gunzip(bytes) {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * The page's files: meta.json, the artifact and the test digits (labels, then pixels as 0..1
 * floats, 784 per digit), all from `base` (the model/ folder next to the page).
 */
export async function loadAssets(base) {
  const hint = 'build them with: node examples/browser/build-model.mjs';
  const meta = JSON.parse(new TextDecoder().decode(await fetchBytes(new URL('meta.json', base), hint)));
  const [model, packed] = await Promise.all([
    fetchBytes(new URL(meta.model, base), hint),
    fetchBytes(new URL(meta.digits.file, base), hint).then(gunzip),
  ]);
  const count = meta.digits.count;
  if (packed.length !== count * 785) throw new Error(`${meta.digits.file} holds ${packed.length} bytes, not ${count} digits (${count * 785}); ${hint}`);
  const labels = packed.subarray(0, count);
  const pixels = Float32Array.from(packed.subarray(count), (v) => v / 255);
  return { meta, model, digits: { count, labels, pixels } };
}

/** Index of the largest value. */
export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Softmax of logits (the model's output) into probabilities. */
export function softmax(logits) {
  const max = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export function median(values) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** One artifact, one session at a time, runs queued. */
export class DigitModel {
  constructor(runtime, bytes, options) {
    this.runtime = runtime;
    this.bytes = bytes;
    this.options = options;
    this.session = null;
    this.recent = [];
    this.queue = Promise.resolve();
  }

  /** Runs `task` after everything queued before it; its failure does not stall the queue. */
  exclusive(task) {
    const result = this.queue.then(task);
    this.queue = result.catch(() => {});
    return result;
  }

  /**
   * (Re)creates the session, with `memoryBudget` in bytes when given (an elastic artifact keeps
   * the widest level that fits it). The old session is released only once the new one is ready.
   */
  load(memoryBudget) {
    return this.exclusive(async () => {
      const options = memoryBudget === undefined ? this.options : { ...this.options, memoryBudget };
      const session = await this.runtime.InferenceSession.create(this.bytes, options);
      const old = this.session;
      this.session = session;
      this.recent = [];
      if (old) await old.release();
      return session.info();
    });
  }

  /** Logits for one 28x28 input, and the time of this run in ms (added to the recent runs). */
  run(input) {
    return this.exclusive(async () => {
      const { logits, ms } = await this.timed(input);
      this.recent.push(ms);
      if (this.recent.length > RECENT) this.recent.shift();
      return { logits, ms };
    });
  }

  async timed(input, s = this.session) {
    const feeds = { [s.inputNames[0]]: new this.runtime.Tensor('float32', input, [1, 1, 28, 28]) };
    const t0 = performance.now();
    const out = await s.run(feeds);
    const ms = performance.now() - t0;
    return { logits: Array.from(out[s.outputNames[0]].data), ms };
  }

  /** Median time of the recent live runs, in ms (NaN before the first). */
  latencyMs() {
    return median(this.recent);
  }

  /**
   * Accuracy on the bundled digits with the current session, in chunks so the page stays
   * responsive (other queued runs go in between); null when the session was replaced meanwhile.
   */
  async accuracy(digits, chunk = 50) {
    const session = this.session;
    let correct = 0;
    for (let start = 0; start < digits.count; start += chunk) {
      const c = await this.exclusive(async () => {
        if (this.session !== session) return null;
        let c = 0;
        for (let i = start; i < Math.min(digits.count, start + chunk); i++) {
          const { logits } = await this.timed(digits.pixels.subarray(i * 784, (i + 1) * 784), session);
          if (argmax(logits) === digits.labels[i]) c++;
        }
        return c;
      });
      if (c === null) return null;
      correct += c;
    }
    return correct / digits.count;
  }

  /**
   * Time per run on one input, in ms: the median over `rounds` of the mean of `runs` runs, after a
   * few warm-up runs (browsers coarsen performance.now() to ~0.1 ms: one sub-millisecond run cannot
   * be timed alone); null when the session was replaced before it ran.
   */
  speed(input, rounds = 5, runs = 20) {
    const session = this.session;
    return this.exclusive(async () => {
      if (this.session !== session) return null;
      // warm up until the time per run stops falling: the engine optimizes the kernels in the
      // background during the first hundreds of runs, and a width timed before that (the first one,
      // while the page is still cold) would look slow next to the ones timed after it
      let previous = Infinity;
      for (let w = 0; w < 25; w++) {
        const t0 = performance.now();
        for (let i = 0; i < runs; i++) await this.timed(input, session);
        const mean = (performance.now() - t0) / runs;
        if (mean > 0.95 * previous) break;
        previous = mean;
      }
      const means = [];
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        for (let i = 0; i < runs; i++) await this.timed(input, session);
        means.push((performance.now() - t0) / runs);
      }
      return median(means);
    });
  }
}
