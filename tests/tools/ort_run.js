// Runs a model once in ONNX Runtime (onnxruntime-node) on named inputs and
// writes every output as .npy: the reference side of the multi-input
// cross-checks (tests/rnn_crosscheck.py, tests/corpus_test.py).
//
//   node ort_run.js NODE_MODULES MODEL OUTDIR LEVEL NAME=FILE.npy...
//   node ort_run.js NODE_MODULES - < JOBS.json
//
// The second form runs a JSON array of jobs {model, outdir, level, feeds:
// {name: file}} in one process (node's start-up dominates small models)
// and prints one JSON line per job: the output names, or {error}.
// LEVEL is ORT's graphOptimizationLevel (disabled, basic, extended, all).
// Inputs: .npy of float32, float64, int64, int32, uint8 or bool, C order,
// any rank (0-d included). Writes OUTDIR/K.npy for output K in the
// session's order and prints the output names as a JSON array.
const fs = require('fs');
const path = require('path');
const ort = require(path.join(process.argv[2], 'onnxruntime-node'));

const TYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array], '<i8': ['int64', BigInt64Array],
  '<i4': ['int32', Int32Array], '|u1': ['uint8', Uint8Array], '|b1': ['bool', Uint8Array],
};

function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(file + ': not a .npy file');
  const v1 = b[6] === 1;
  const hl = v1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = (v1 ? 10 : 12) + hl;
  const header = b.toString('latin1', v1 ? 10 : 12, start);
  const descr = header.match(/'descr': *'([^']*)'/)[1];
  if (/'fortran_order': *True/.test(header)) throw new Error(file + ': Fortran order');
  const shape = header.match(/'shape': *\(([^)]*)\)/)[1].split(',').filter(s => s.trim()).map(Number);
  const t = TYPES[descr];
  if (!t) throw new Error(file + ': dtype ' + descr + ' is not supported');
  const bytes = b.buffer.slice(b.byteOffset + start, b.byteOffset + b.length);
  return new ort.Tensor(t[0], new t[1](bytes), shape);
}

function writeNpy(file, tensor) {
  const descr = Object.keys(TYPES).find(k => TYPES[k][0] === tensor.type);
  if (!descr) throw new Error('output type ' + tensor.type + ' is not supported');
  const dims = tensor.dims.length === 1 ? tensor.dims[0] + ',' : tensor.dims.join(', ');
  let header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + '), }';
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = tensor.data;
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

async function runJob(model, outdir, level, feeds) {
  const inputs = {};
  for (const [name, file] of Object.entries(feeds)) inputs[name] = readNpy(file);
  const sess = await ort.InferenceSession.create(model, {graphOptimizationLevel: level, intraOpNumThreads: 1});
  const r = await sess.run(inputs);
  sess.outputNames.forEach((name, k) => writeNpy(path.join(outdir, k + '.npy'), r[name]));
  return sess.outputNames;
}

(async () => {
  const [model, outdir, level] = process.argv.slice(3, 6);
  if (model === '-') {
    for (const j of JSON.parse(fs.readFileSync(0, 'utf8'))) {
      let line;
      try {
        line = JSON.stringify(await runJob(j.model, j.outdir, j.level || 'disabled', j.feeds));
      } catch (e) {
        line = JSON.stringify({error: String(e.message || e)});
      }
      process.stdout.write(line + '\n');
    }
    return;
  }
  const feeds = {};
  for (const arg of process.argv.slice(6)) {
    const eq = arg.indexOf('=');
    feeds[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  process.stdout.write(JSON.stringify(await runJob(model, outdir, level, feeds)));
})().catch(e => { process.stderr.write(String(e.message || e) + '\n'); process.exit(1); });
