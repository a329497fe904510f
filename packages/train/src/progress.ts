/** One-line stderr renderings of `fit`'s progress events. */
import type { FitProgress } from './fit.js';

const percent = (x: number) => `${(100 * x).toFixed(2)}%`;

export function formatFitProgress(event: FitProgress): string {
  switch (event.kind) {
    case 'step':
      return `train: epoch ${event.epoch}/${event.epochs} step ${event.step}/${event.stepsPerEpoch} loss ${event.loss.toFixed(4)} accuracy ${percent(event.accuracy)} lr ${event.lr.toPrecision(3)} ${Math.round(event.samplesPerSecond)} samples/s`;
    case 'epoch': {
      const r = event.record;
      const validation = r.validationLoss !== undefined ? ` validation loss ${r.validationLoss.toFixed(4)} accuracy ${percent(r.validationAccuracy!)}` : '';
      return `train: epoch ${r.epoch}/${event.epochs} done in ${r.seconds.toFixed(1)} s: loss ${r.loss.toFixed(4)} accuracy ${percent(r.accuracy)}${validation} (${Math.round(r.samplesPerSecond)} samples/s)`;
    }
    case 'resumed':
      return `train: resumed from '${event.file}' after epoch ${event.epoch} (step ${event.step})`;
    case 'early-stop':
      return `train: early stop after epoch ${event.epoch}: no better validation ${event.monitor} since epoch ${event.bestEpoch}`;
    case 'kept-best':
      return `train: keeping the weights of epoch ${event.epoch} (best validation ${event.monitor} ${event.monitor === 'loss' ? event.value.toFixed(4) : percent(event.value)}), not those of the last epoch ${event.lastEpoch}`;
  }
}
