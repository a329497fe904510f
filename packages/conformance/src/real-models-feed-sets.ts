/**
 * Extra input sets of the real-model corpus, so tests also take the paths the default inputs miss.
 */
import type { RealModelFeedOverrides } from './real-models.js';

/** A named input set: overrides of the manifest's input specs (see `realModelFeeds`). */
export interface RealModelFeedSet {
  readonly label: string;
  readonly overrides: RealModelFeedOverrides;
}

/**
 * Input sets beyond the manifest's default one, for models whose inputs choose between paths:
 * silero's sr selects the If branches (8 kHz takes 256-sample chunks), its state may be non-zero,
 * and dynamic dims (batch, image size, sequence length) can take other values.
 */
export const REAL_MODEL_FEED_SETS: Readonly<Record<string, readonly RealModelFeedSet[]>> = {
  'silero-vad-legacy': [
    { label: '8 kHz, random state', overrides: { sr: { fill: { kind: 'value', value: [8000] } }, input: { testShape: [1, 256] }, h: { fill: { kind: 'uniform', low: -1, high: 1 } }, c: { fill: { kind: 'uniform', low: -1, high: 1 } } } },
    { label: 'batch 2', overrides: { input: { testShape: [2, 512] }, h: { testShape: [2, 2, 64] }, c: { testShape: [2, 2, 64] } } },
  ],
  'silero-vad-v5': [
    { label: '8 kHz, random state', overrides: { sr: { fill: { kind: 'value', value: [8000] } }, input: { testShape: [1, 256] }, state: { fill: { kind: 'uniform', low: -1, high: 1 } } } },
    { label: 'batch 2', overrides: { input: { testShape: [2, 512] }, state: { testShape: [2, 2, 128] } } },
  ],
  'silero-vad-v6': [
    { label: '8 kHz, random state', overrides: { sr: { fill: { kind: 'value', value: [8000] } }, input: { testShape: [1, 256] }, state: { fill: { kind: 'uniform', low: -1, high: 1 } } } },
    { label: 'batch 2', overrides: { input: { testShape: [2, 512] }, state: { testShape: [2, 2, 128] } } },
  ],
  'ppocr-v4-det': [{ label: 'batch 2, 96x128', overrides: { x: { testShape: [2, 3, 96, 128] } } }],
  'ppocr-v4-rec': [{ label: 'batch 2, width 320', overrides: { x: { testShape: [2, 3, 48, 320] } } }],
  'ppocr-mobile-v2-cls': [{ label: 'batch 3', overrides: { x: { testShape: [3, 3, 48, 192] } } }],
};
