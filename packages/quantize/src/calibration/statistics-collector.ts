/**
 * Who collects calibration statistics for quantize-static: `collectStatistics` in this process by
 * default, or a collector installed for one call scope with `withStatisticsCollector` (the
 * distributed package installs one that runs fixed sample shards on workers and merges their
 * statistics exactly). The scope is async-local, so concurrent pipelines do not see each other's.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Model } from '@modelpass/ir';
import { collectStatistics, type CalibrationStatistics } from './calibrate.js';
import type { CalibrationOptions } from './options.js';

/** Collects the statistics of `tensors` over the samples `options` names (what `collectStatistics` does). */
export type StatisticsCollector = (model: Model, tensors: readonly string[], options: CalibrationOptions) => Promise<CalibrationStatistics>;

const installed = new AsyncLocalStorage<StatisticsCollector>();

/** Runs `body` with `collector` collecting every calibration quantize-static starts inside it. */
export function withStatisticsCollector<T>(collector: StatisticsCollector, body: () => Promise<T>): Promise<T> {
  return installed.run(collector, body);
}

/** The collector of the current scope (`collectStatistics` outside any `withStatisticsCollector`). */
export function currentStatisticsCollector(): StatisticsCollector {
  return installed.getStore() ?? collectStatistics;
}
