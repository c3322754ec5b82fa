#!/usr/bin/env node
// ONNX Runtime side of shrink's executor benchmark: the same inputs and the
// same timing rule as benchmarks/bench_exec.c.
//
//   node ort_bench.js MODEL --shape 1x28x28 [--shape ...] [--batch N]
//        [--threads T] [--warmup N] [--iters N] [--max-seconds S] [--out OUT.npy]
//
// --shape gives one input's dims without the batch dim (once per input, in
// order). onnxruntime-node is taken from $ORT_NODE_MODULES or from
// benchmarks/.ort/node_modules. Prints one JSON line.
'use strict';
const fs = require('fs');
const path = require('path');

const modules = process.env.ORT_NODE_MODULES || path.join(__dirname, '..', '.ort', 'node_modules');
const ort = require(path.join(modules, 'onnxruntime-node'));

function usage() {
  process.stderr.write('usage: node ort_bench.js MODEL --shape DxDx... [--batch N] [--threads T] [--warmup N]\n' +
                       '                         [--iters N] [--max-seconds S] [--out OUT.npy]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = {model: null, shapes: [], batch: 1, threads: 1, warmup: 2, iters: 20, maxSeconds: 3.0, out: null};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      if (o.model) usage();
      o.model = a;
      continue;
    }
    if (i + 1 >= argv.length) usage();
    const v = argv[++i];
    if (a === '--shape') o.shapes.push(v === '' ? [] : v.split('x').map(Number));
    else if (a === '--batch') o.batch = Number(v);
    else if (a === '--threads') o.threads = Number(v);
    else if (a === '--warmup') o.warmup = Number(v);
    else if (a === '--iters') o.iters = Number(v);
    else if (a === '--max-seconds') o.maxSeconds = Number(v);
    else if (a === '--out') o.out = v;
    else usage();
  }
  if (!o.model || o.shapes.length === 0 || !(o.batch >= 1) || !(o.threads >= 1) || !(o.iters >= 1)) usage();
  return o;
}

// The formula of bench_exec.c's input_value(): an exact integer in double
// arithmetic (below 2^53), divided once, rounded to float32 on store.
function fillInput(k, n) {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = ((i * 7919 + 13 + 1009 * k) % 2001 - 1000) / 1000;
  return x;
}

// Minimal .npy (format 1.0) writer for a float32 tensor.
function writeNpy(file, dims, data) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(o.model, {
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const planMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (session.inputNames.length !== o.shapes.length) {
    process.stderr.write(`ort_bench: the model has ${session.inputNames.length} inputs, ${o.shapes.length} --shape given\n`);
    process.exit(2);
  }
  const feeds = {};
  session.inputNames.forEach((name, k) => {
    const dims = [o.batch, ...o.shapes[k]];
    const n = dims.reduce((a, b) => a * b, 1);
    feeds[name] = new ort.Tensor('float32', fillInput(k, n), dims);
  });

  let results = null;
  for (let r = 0; r < o.warmup; r++) results = await session.run(feeds);
  const times = [];
  const start = process.hrtime.bigint(), cpuStart = process.cpuUsage();
  while (times.length < o.iters) {
    const a = process.hrtime.bigint();
    results = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - a) / 1e6);
    if (times.length >= 3 && Number(process.hrtime.bigint() - start) / 1e6 > o.maxSeconds * 1e3) break;
  }
  // CPU time of the whole process (user + system) per timed batch
  const cpu = process.cpuUsage(cpuStart), cpuMs = (cpu.user + cpu.system) / 1e3 / times.length;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  times.sort((a, b) => a - b);
  const h = times.length >> 1;
  const median = times.length % 2 ? times[h] : 0.5 * (times[h - 1] + times[h]);

  let checksum = 0, absSum = 0, outputs = 0;
  session.outputNames.forEach((name, idx) => {
    const t = results[name];
    if (t.type !== 'float32') return;
    for (let i = 0; i < t.data.length; i++) {
      checksum += t.data[i];
      absSum += Math.abs(t.data[i]);
    }
    outputs += t.data.length;
    if (idx === 0 && o.out) writeNpy(o.out, t.dims, t.data);
  });
  const rec = {
    runtime: 'onnxruntime-node ' + ort.env.versions.node, model: o.model, batch: o.batch, threads: o.threads,
    runs: times.length, plan_ms: planMs, median_ms: median, min_ms: times[0], mean_ms: mean,
    ms_per_sample: median / o.batch, outputs, checksum, abs_sum: absSum, cpu_ms: cpuMs,
  };
  process.stdout.write(JSON.stringify(rec) + '\n');
}

main().catch((e) => {
  process.stderr.write(`ort_bench: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
