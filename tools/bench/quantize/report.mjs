// Renders the quantization bench's results (run.mjs) as RESULTS.md: the side-by-side table with
// PyTorch FX int8, every variant of ours on the Fashion-MNIST networks, the torchvision table per
// calibration method, calibration time relative to minmax, and issue 9's goals checked one by one.
import { DROP_GOAL_PP, INT8_SIZE_GOAL } from './fashion.mjs';

const pct = (x) => `${(100 * x).toFixed(2)}%`;
const pp = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)} pp`;
const ratio = (a, b) => (a !== undefined && b ? `${(a / b).toFixed(3)}×` : '—');
const ms = (x) => (x !== undefined ? x.toFixed(2) : '—');
/** Median and, in parentheses, the minimum (the least disturbed run on a shared machine). */
const msMin = (median, min) => (median !== undefined ? `${median.toFixed(2)} (${min !== undefined ? min.toFixed(2) : '—'})` : '—');
const ratioMin = (a, b, aMin, bMin) => (a !== undefined && b ? `${(a / b).toFixed(3)}× (${aMin !== undefined && bMin ? (aMin / bMin).toFixed(3) : '—'}×)` : '—');
/** A goal judged on the median ratio and on the minimum ratio: 'unclear' when noise splits them. */
const judge = (okMedian, okMin) => (okMedian && okMin ? 'yes' : !okMedian && !okMin ? '**no**' : 'unclear (median and minimum disagree)');
const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const mark = (ok) => (ok ? 'yes' : '**no**');
/** A pass's seconds: two decimals, but milliseconds kept for passes under 0.1 s (weight-only and float16 on these small nets take a few ms, which toFixed(2) showed as 0.00). */
const passTime = (seconds) => (seconds === undefined ? '—' : seconds >= 0.1 ? seconds.toFixed(2) : seconds.toPrecision(2));

/** Our variants set beside PyTorch's int8: the headline, then any marked `beside` (a documented recipe). */
const compared = (n) => {
  const found = n.variants.filter((v) => v.headline || v.beside);
  return found.length > 0 ? found : [undefined];
};

function peerTables(fashion) {
  const lines = [
    '## 1. Side by side with PyTorch FX int8 (Fashion-MNIST, 10,000 test images)',
    '',
    'PyTorch: `prepare_fx`/`convert_fx` with `get_default_qconfig_mapping(\'onednn\')`, engine `onednn`, calibrated on the same first N training images; weights are the ONNX fixture\'s own (loaded into `tools/fixtures/make_models.py`\'s architecture; its fp32 accuracy must equal `info.json`\'s). Ours: the headline variant below (and any recipe set beside it), made by `modelpass convert`, run in ONNX Runtime. Size: PyTorch `torch.jit.save` of the traced model; ours the ONNX file. Latency: batch 64 (the first test images), one thread (`torch.set_num_threads(1)`; ORT `intraOpNumThreads 1`), median (minimum in parentheses: the least disturbed run of a shared machine); torch fp32/int8 interleaved in its process, ORT fp32/int8 interleaved in ours. Debian\'s torch is built with the generic reference BLAS (\`BLAS_INFO=generic\`), so its fp32 Linear/MatMul is slow (the MLP and transformer columns); its convolutions and all int8 kernels are oneDNN.',
    '',
    '| network | torch fp32 | torch int8 (Δ) | ours: variant | ours int8 (Δ) | size torch int8/fp32 | size ours int8/fp32 | torch fp32 ms | torch int8 ms | ORT fp32 ms | ORT int8 ms | ORT int8 / torch int8 | ORT int8 / ORT fp32 | torch int8 / torch fp32 |',
    '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const n of fashion) for (const ours of compared(n)) {
    const p = n.peer ?? {};
    const peerCols = p.error
      ? [`failed: ${cell(p.error)}`, '—']
      : [pct(p.fp32_accuracy), `${pct(p.int8_accuracy)} (${pp(p.int8_accuracy - p.fp32_accuracy)})`];
    const oursCols = !ours || ours.error
      ? [cell(ours?.label ?? '—'), cell(ours?.error ?? '—')]
      : [cell(ours.label), `${pct(ours.accuracy)} (${pp(ours.accuracy - n.fp32Accuracy)})`];
    lines.push(`| ${n.network} | ${peerCols[0]} | ${peerCols[1]} | ${oursCols[0]} | ${oursCols[1]} | ${p.error ? '—' : ratio(p.int8_jit_bytes, p.fp32_jit_bytes)} | ${ours?.bytes ? ratio(ours.bytes, n.fp32Bytes) : '—'} | ${msMin(p.fp32_ms, p.fp32_min_ms)} | ${msMin(p.int8_ms, p.int8_min_ms)} | ${msMin(ours?.fp32Ms, ours?.fp32MinMs)} | ${msMin(ours?.ms, ours?.minMs)} | ${ratioMin(ours?.ms, p.int8_ms, ours?.minMs, p.int8_min_ms)} | ${ratioMin(ours?.ms, ours?.fp32Ms, ours?.minMs, ours?.fp32MinMs)} | ${ratioMin(p.int8_ms, p.fp32_ms, p.int8_min_ms, p.fp32_min_ms)} |`);
  }
  lines.push('', 'Also: ORT fp32 / torch fp32 latency: ' + fashion.map((n) => {
    const ours = n.variants.find((v) => v.headline);
    return `${n.network} ${ratio(ours?.fp32Ms, n.peer?.fp32_ms)}`;
  }).join(', ') + '. PyTorch int8 keeps float: ' + fashion.map((n) => `${n.network}: ${n.peer?.quantized_modules ? n.peer.quantized_modules.map((m) => m.split('.').pop()).join(', ') : '—'}`).join('; ') + ' (its quantized module kinds).', '');
  lines.push('Where ORT spends the time (ORT profiler, median ms per batch-64 run after the first, slowest node kernels):', '');
  const kernels = (profile) => (profile ?? []).map(([node, op, t]) => `${op} \`${node}\` ${t.toFixed(2)}`).join(', ') || '—';
  for (const n of fashion) {
    const ours = n.variants.find((v) => v.headline);
    lines.push(`- ${n.network}: fp32 ${kernels(n.fp32Profile)}; int8 ${kernels(ours?.profile)}.`);
  }
  lines.push('');
  return lines;
}

function variantTable(fashion) {
  const lines = [
    '## 2. Every variant of ours on the Fashion-MNIST networks',
    '',
    `Accuracy by \`modelpass eval --dataset fashion-mnist:test\` (ORT); Δ against the fp32 fixture; goal: drop ≤ ${DROP_GOAL_PP.static} pp static, ≤ ${DROP_GOAL_PP.dynamic} pp dynamic, ≤ ${DROP_GOAL_PP.weights4} pp int4 weight-only; int8 file ≤ ${INT8_SIZE_GOAL}× fp32. Latency: ORT, batch 64, one thread, interleaved with the fp32 fixture. Checker: ONNX's \`check_model(full_check=True)\`. Pass s: the quantization pass's own time (calibration included).`,
    '',
    '| network | variant | accuracy | Δ | drop goal met | size ratio | latency ratio (min) | ms (min) | DQ left on Conv/MatMul/Gemm | pass s | checker |',
    '|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const n of fashion) {
    lines.push(`| ${n.network} | fp32 fixture | ${pct(n.fp32Accuracy)} | | | 1.000× (${(n.fp32Bytes / 1024).toFixed(0)} KiB) | 1.000× | | | | |`);
    for (const v of n.variants) {
      if (v.error) {
        lines.push(`| ${n.network} | ${cell(v.label)} | ${cell(v.error)} | | | | | | | | |`);
        continue;
      }
      const drop = n.fp32Accuracy - v.accuracy;
      const goal = DROP_GOAL_PP[v.kind];
      lines.push(`| ${n.network} | ${cell(v.label)} | ${pct(v.accuracy)} | ${pp(v.accuracy - n.fp32Accuracy)} | ${goal !== undefined ? mark(drop * 100 <= goal + 1e-9) : '—'} | ${ratio(v.bytes, n.fp32Bytes)} | ${ratioMin(v.ms, v.fp32Ms, v.minMs, v.fp32MinMs)} | ${msMin(v.ms, v.minMs)} | ${v.fusion?.dequantize_feeding_compute ?? '—'} | ${passTime(v.passSeconds)} | ${cell(v.checker)} |`);
    }
  }
  lines.push('', 'Pipelines: ' + [...new Map(fashion.flatMap((n) => n.variants).map((v) => [v.id, v])).values()].map((v) => `${v.label}: \`${v.pipeline}\``).join('; ') + '.', '');
  return lines;
}

function torchvisionTable(torchvision, settings) {
  const lines = [
    '## 3. torchvision-family conv nets: int8 static QDQ vs fp32 in ONNX Runtime',
    '',
    `Models: \`tools/fixtures/make_torchvision.py\` (torchvision 0.14 architectures, seeded random weights, BatchNorm folded by the export, opset 13, input batch×3×224×224). Calibration: ${settings.tvSamples} samples of i.i.d. N(0,1) pixels (seed 1) given as a folder of .npy files; cosine: the smallest per-sample cosine of the logits vs fp32 over ${settings.tvEvalSamples} held-out samples of the same distribution (seed 2). Latency: batch ${settings.tvBatch}, one thread, interleaved, median of ${settings.tvRuns} after ${settings.tvWarmup} warm-up; goal ≤ 0.5×. Kernel time: ORT's node kernel times summed (profiler, each node's fastest of ${settings.tvRuns} more interleaved runs), int8 / fp32 with both sums in ms: preemption of a loaded machine disturbs it least. Fused: DequantizeLinear nodes still feeding a Conv/MatMul/Gemm in ORT's optimized graph (\`optimizedModelFilePath\`, all optimizations); 0 means ORT fused every QDQ group into integer kernels. Float Conv/MatMul/Gemm: those ORT runs in float (\`com.microsoft.nchwc.Conv\`, FusedConv, …), i.e. what quantize-static left float on purpose (its cost rule keeps a first Conv with fewer than 32 multiply-adds per output float; \`--debug\` says why). Calibration time: the pass's own time (ORT calibration runs and statistics included), relative to minmax on the same network (goal ≤ 2×).`,
    '',
    '| network | calibration | latency int8/fp32 (min) | kernel time int8/fp32 | fp32 ms (min) | int8 ms (min) | DQ left on Conv/MatMul/Gemm | float Conv/MatMul/Gemm | Q / DQ left | ORT integer kernels | min cosine | pass s | vs minmax | checker |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|',
  ];
  for (const n of torchvision) {
    const minmax = n.methods.find((m) => m.method === 'minmax' && !m.error);
    for (const m of n.methods) {
      if (m.error) {
        lines.push(`| ${n.network} | ${m.method} | ${cell(m.error)} | | | | | | | | | | | |`);
        continue;
      }
      const kernels = Object.entries(m.fusion?.ops ?? {}).filter(([op]) => /QLinear|Integer|QGemm|QAttention|DynamicQuant|NhwcConv|Q.*Conv/.test(op)).map(([op, c]) => `${op.replace(/^com\.microsoft\./, 'ms.')} ${c}`).join(', ');
      lines.push(`| ${n.network} | ${m.method} | ${ratioMin(m.ms, m.fp32Ms, m.minMs, m.fp32MinMs)} | ${m.kernelMs !== undefined ? `${ratio(m.kernelMs, m.kernelFp32Ms)} (${m.kernelMs.toFixed(2)} / ${m.kernelFp32Ms.toFixed(2)} ms)` : '—'} | ${msMin(m.fp32Ms, m.fp32MinMs)} | ${msMin(m.ms, m.minMs)} | ${m.fusion?.dequantize_feeding_compute ?? '—'} | ${m.fusion?.float_compute_nodes ?? '—'} | ${m.fusion ? `${m.fusion.quantize_linear} / ${m.fusion.dequantize_linear}` : '—'} | ${cell(kernels || '—')} | ${m.cosine?.toFixed(4) ?? '—'} | ${m.passSeconds?.toFixed(1) ?? '—'} | ${minmax?.passSeconds ? ratio(m.passSeconds, minmax.passSeconds) : '—'} | ${cell(m.checker ?? '—')} |`);
    }
  }
  lines.push('', 'Where ORT spends the time (ORT profiler, median ms per run after the first, slowest node kernels; int8 of the first method):', '');
  const kernels = (profile) => (profile ?? []).map(([node, op, t]) => `${op} \`${node}\` ${t.toFixed(2)}`).join(', ') || '—';
  for (const n of torchvision) if (n.profile) lines.push(`- ${n.network}: fp32 ${kernels(n.profile.fp32)}; int8 (${n.profile.method}) ${kernels(n.profile.int8)}.`);
  lines.push('');
  return lines;
}

function memoryTable(memory) {
  if (!memory || memory.error) return [];
  const minmax = (samples) => memory.rows.find((r) => r.samples === samples && r.method === 'minmax');
  const times = (r, key) => `${r[key].toFixed(2)} | ${minmax(r.samples)?.[key] ? `${(r[key] / minmax(r.samples)[key]).toFixed(2)}×` : '—'}`;
  // Runs saved before the CPU column and the median peak existed have neither.
  const cpu = (r) => (r.cpuSeconds !== undefined ? times(r, 'cpuSeconds') : '— | —');
  const peak = (r) => `${r.peakRssMB.toFixed(0)}${r.maxPeakRssMB !== undefined ? ` (${r.maxPeakRssMB.toFixed(0)})` : ''}`;
  return [
    '## 4. Calibration memory and time (calibration-memory.mjs, pulled into this run)',
    '',
    `\`${memory.command}\`: each point a fresh Node process running \`collectStatistics\` + \`chooseRanges\` of \`@modelpass/quantize\` on ${memory.dataset} (batch ${memory.batch}); ${memory.rows[0]?.tensors} tensors; methods interleaved run by run; median of ${memory.repeat} (peak RSS: median, the largest in parentheses).`,
    '',
    '| samples | method | wall s | × minmax | CPU s | × minmax | choosing ranges s | peak RSS MB | RSS before MB | all activations held MB |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...memory.rows.map((r) => `| ${r.samples} | ${r.method} | ${times(r, 'seconds')} | ${cpu(r)} | ${r.chooseSeconds.toFixed(3)} | ${peak(r)} | ${r.rssBeforeMB.toFixed(0)} | ${r.heldMB.toFixed(0)} |`),
    '',
  ];
}

/**
 * McNemar's exact test on paired per-image outcomes ('1' correct, '0' wrong, same images in the
 * same order): `onlyA` images only A gets right, `onlyB` only B; p is the two-sided binomial
 * probability of a split at least this uneven among the discordant images if both were equally good.
 */
export function mcnemar(a, b) {
  if (typeof a !== 'string' || typeof b !== 'string' || a.length !== b.length || a.length === 0) return undefined;
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '1' && b[i] === '0') onlyA++;
    else if (a[i] === '0' && b[i] === '1') onlyB++;
  }
  const n = onlyA + onlyB;
  const k = Math.min(onlyA, onlyB);
  // P(X ≤ k) for X ~ Binomial(n, 1/2), summed in log space.
  let logTerm = -n * Math.LN2; // log C(n,0) / 2^n
  let tail = Math.exp(logTerm);
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log((n - i + 1) / i);
    tail += Math.exp(logTerm);
  }
  return { onlyA, onlyB, p: n === 0 ? 1 : Math.min(1, 2 * tail) };
}

const pValue = (p) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));

/** "A right where B is wrong on x images, the reverse on y; McNemar p = …" */
function pairedLine(test, a, b) {
  return test ? `${a} right and ${b} wrong on ${test.onlyA} images, the reverse on ${test.onlyB}, McNemar exact p = ${pValue(test.p)}` : 'per-image outcomes not recorded in this run';
}

function goals(results) {
  const lines = ['## Goals of issue 9 checked in this run', ''];
  for (const n of results.fashion ?? []) for (const ours of compared(n)) {
    const p = n.peer;
    if (!ours || ours.error || !p || p.error) {
      lines.push(`- ${n.network}: not comparable (${cell(ours?.error ?? p?.error ?? 'missing')}).`);
      continue;
    }
    // The goal compares drops (fp32 − int8); a gain is no drop, so two gains both meet it. Beside the
    // verdict: how far apart the two int8 models are, and whether that is more than chance on 10k images.
    const ourDrop = Math.max(0, n.fp32Accuracy - ours.accuracy);
    const theirDrop = Math.max(0, p.fp32_accuracy - p.int8_accuracy);
    const versus = mcnemar(ours.correct, p.int8_correct);
    const ourChange = mcnemar(ours.correct, n.fp32Correct);
    const apart = Math.round((ours.accuracy - p.int8_accuracy) * 10000);
    const behind = versus && apart < 0 && versus.p < 0.05;
    lines.push(`- ${n.network}${ours.headline ? '' : ` (${ours.label})`}: accuracy change ours ${pp(ours.accuracy - n.fp32Accuracy)} vs PyTorch ${pp(p.int8_accuracy - p.fp32_accuracy)} (same fp32 weights); drop (a gain counts as 0) ours ${(100 * ourDrop).toFixed(2)} pp ≤ PyTorch's ${(100 * theirDrop).toFixed(2)} pp → ${mark(ourDrop <= theirDrop + 1e-9)}. Our int8 vs PyTorch's int8: ${apart >= 0 ? '+' : ''}${apart} of 10,000 images (${pairedLine(versus, 'ours', 'PyTorch')}) → ${!versus ? '—' : behind ? 'ours behind by more than noise' : apart < 0 ? 'behind within noise' : 'not behind'}; our int8 vs fp32: ${pairedLine(ourChange, 'int8', 'fp32')}. ORT int8 ${msMin(ours.ms, ours.minMs)} ms vs PyTorch int8 ${msMin(p.int8_ms, p.int8_min_ms)} ms, at least as fast → ${judge(ours.ms <= p.int8_ms, ours.minMs <= p.int8_min_ms)}; file ${ratio(ours.bytes, n.fp32Bytes)} ≤ ${INT8_SIZE_GOAL}× → ${mark(ours.bytes / n.fp32Bytes <= INT8_SIZE_GOAL)}.`);
  }
  for (const n of results.torchvision ?? []) {
    const done = n.methods.filter((m) => !m.error);
    if (done.length === 0) {
      lines.push(`- ${n.network}: no method ran (${cell(n.methods[0]?.error ?? '—')}).`);
      continue;
    }
    const worst = Math.max(...done.map((m) => m.ms / m.fp32Ms));
    const worstMin = Math.max(...done.map((m) => m.minMs / m.fp32MinMs));
    const minmax = done.find((m) => m.method === 'minmax');
    const slowest = minmax?.passSeconds ? Math.max(...done.map((m) => m.passSeconds / minmax.passSeconds)) : undefined;
    const kernelRatios = done.filter((m) => m.kernelMs !== undefined).map((m) => m.kernelMs / m.kernelFp32Ms);
    const byKernels = kernelRatios.length > 0 ? `, by summed kernel time ${Math.min(...kernelRatios).toFixed(3)}–${Math.max(...kernelRatios).toFixed(3)}×` : '';
    lines.push(`- ${n.network}: latency ≤ 0.5× fp32 with every method → ${judge(worst <= 0.5, worstMin <= 0.5)} (worst ${worst.toFixed(3)}×, by minimum ${worstMin.toFixed(3)}×${byKernels}); every QDQ group fused → ${mark(done.every((m) => m.fusion?.dequantize_feeding_compute === 0))}; cosine ≥ 0.99 → ${mark(done.every((m) => m.cosine >= 0.99))} (min ${Math.min(...done.map((m) => m.cosine)).toFixed(4)}); calibration ≤ 2× minmax → ${slowest !== undefined ? `${mark(slowest <= 2)} (max ${slowest.toFixed(2)}×)` : '—'}; methods run ${done.length}/${n.methods.length}.`);
  }
  const memory = results.memory;
  if (!memory) lines.push('- Calibration peak memory: not measured by this run (`--parts` without `memory`).');
  else if (memory.error) lines.push(`- Calibration peak memory: ${cell(memory.error)}.`);
  else {
    for (const method of [...new Set(memory.rows.map((r) => r.method))]) {
      const own = memory.rows.filter((r) => r.method === method).sort((a, b) => a.samples - b.samples);
      const [first, last] = [own[0], own.at(-1)];
      lines.push(`- Calibration peak RSS, ${method}: ${first.peakRssMB.toFixed(0)} MB at ${first.samples} samples, ${last.peakRssMB.toFixed(0)} MB at ${last.samples} (${(last.peakRssMB - first.peakRssMB).toFixed(0)} MB more; holding all activations would be ${last.heldMB.toFixed(0)} MB) → flat (≤ 10% growth): ${mark(last.peakRssMB <= first.peakRssMB * 1.1)}.`);
    }
    // Time: every histogram method within 2× minmax at the largest sample count, by wall and by CPU.
    const largest = Math.max(...memory.rows.map((r) => r.samples));
    const base = memory.rows.find((r) => r.samples === largest && r.method === 'minmax');
    for (const r of memory.rows.filter((row) => row.samples === largest && row.method !== 'minmax' && base)) {
      const wall = r.seconds / base.seconds;
      const cpuRatio = r.cpuSeconds !== undefined && base.cpuSeconds ? r.cpuSeconds / base.cpuSeconds : undefined;
      lines.push(`- Calibration time, ${r.method} at ${largest} samples: ${wall.toFixed(2)}× minmax by wall${cpuRatio !== undefined ? `, ${cpuRatio.toFixed(2)}× by CPU` : ''} → ≤ 2×: ${mark(wall <= 2 && (cpuRatio === undefined || cpuRatio <= 2))}.`);
    }
  }
  lines.push('');
  return lines;
}

export function renderResults(results, command) {
  const lines = [
    '# Quantization benchmark (tools/bench/quantize)',
    '',
    `Command: \`${command}\` on ${results.date}, ${results.machine}; ${results.seconds.toFixed(0)} s. Shared 2-core machine: latencies are noisy, read ratios within one row and rerun before trusting small differences.`,
    '',
  ];
  if (results.fashion) lines.push(...peerTables(results.fashion), ...variantTable(results.fashion));
  if (results.torchvision) lines.push(...torchvisionTable(results.torchvision, results.settings));
  lines.push(...memoryTable(results.memory));
  lines.push(...goals(results));
  return lines.join('\n');
}
