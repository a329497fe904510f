/**
 * ONNX Runtime session options of the calibration sessions (statistics graph and activation
 * collector). Their runs alternate between multi-threaded kernels (Conv) and single-threaded ones
 * (ScatterElements, the reductions), with JavaScript work between runs. With ORT's default
 * spin-waiting, the idle intra-op threads burn a core through every single-threaded stretch and
 * every gap between runs: on fashion-resnet, 2,000 samples, the CPU time of a calibration
 * halved without it (minmax 2.4 → 1.0 s, percentile 5.3 → 2.9 s, measured in one sitting; see
 * tools/bench/quantize/RESULTS-calibration-memory.md). Threads then block instead of spinning.
 */
import { intraOpSpinning, type OrtRunnerOptions } from '@modelpass/runtime';

export const CALIBRATION_SESSION_OPTIONS: NonNullable<OrtRunnerOptions['sessionOptions']> = intraOpSpinning(false);
